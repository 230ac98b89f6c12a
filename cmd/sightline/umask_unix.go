//go:build unix

package main

import "syscall"

// ownerOnly makes every file and folder the process creates owner-only,
// whatever the inherited umask: the data folder holds every tracked user's
// data, and DuckDB, which creates files of its own (the database's .wal,
// spill files), takes its modes from the umask.
func ownerOnly() { syscall.Umask(0o077) }
