//go:build linux || darwin || freebsd || netbsd || openbsd

package loadgen

import (
	"syscall"
	"time"
)

// cpuSample is the CPU time this process has used so far.
type cpuSample struct {
	ok           bool
	user, system time.Duration
}

// processCPU samples the CPU time of this process, all threads included.
func processCPU() cpuSample {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuSample{}
	}
	return cpuSample{
		ok:     true,
		user:   time.Duration(ru.Utime.Nano()),
		system: time.Duration(ru.Stime.Nano()),
	}
}
