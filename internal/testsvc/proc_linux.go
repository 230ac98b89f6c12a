package testsvc

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill a server when the test binary dies
// (a timeout, kill -9), so that no server outlives its tests.
func setProcAttr(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// runAs runs cmd as owner; nil leaves the current user.
func runAs(cmd *exec.Cmd, owner *osUser) {
	if owner == nil {
		return
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: owner.uid, Gid: owner.gid}
}
