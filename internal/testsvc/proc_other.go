//go:build !linux

package testsvc

import "os/exec"

// setProcAttr does nothing here: only Linux kills a child with its parent.
func setProcAttr(*exec.Cmd) {}

// runAs leaves the current user: only Linux tests run as root here, the
// one case that needs another account.
func runAs(*exec.Cmd, *osUser) {}
