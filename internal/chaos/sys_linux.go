package chaos

import "syscall"

// childAttr makes a server die with the run: a killed chaos run leaves no
// server behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
