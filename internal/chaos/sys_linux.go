package chaos

import (
	"fmt"
	"syscall"
)

// childAttr makes a server die with the run: a killed chaos run leaves no
// server behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// mountTmpfs mounts a tmpfs of size bytes on dir (root only).
func mountTmpfs(dir string, size int64) error {
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0750", size)); err != nil {
		return fmt.Errorf("mount a %d MiB tmpfs on %s: %w", size>>20, dir, err)
	}
	return nil
}

// unmount unmounts dir, lazily when still busy.
func unmount(dir string) error {
	if err := syscall.Unmount(dir, 0); err != nil {
		if err2 := syscall.Unmount(dir, syscall.MNT_DETACH); err2 != nil {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
	}
	return nil
}

// freeBytes returns the bytes an unprivileged writer may still use on the
// file system of path.
func freeBytes(path string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return int64(st.Bavail) * st.Bsize, nil
}
