//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package loadgen

import "time"

// cpuSample is the CPU time this process has used so far.
type cpuSample struct {
	ok           bool
	user, system time.Duration
}

// processCPU reports nothing where getrusage is not available.
func processCPU() cpuSample { return cpuSample{} }
