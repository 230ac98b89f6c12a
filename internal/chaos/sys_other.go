//go:build !linux

package chaos

import (
	"errors"
	"syscall"
)

var errNotLinux = errors.New("needs Linux")

func childAttr() *syscall.SysProcAttr { return nil }

func mountTmpfs(string, int64) error { return errNotLinux }

func unmount(string) error { return errNotLinux }

func freeBytes(string) (int64, error) { return 0, errNotLinux }
