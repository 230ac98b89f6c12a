package wal_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sightline/sightline/internal/wal"
)

// TestFullDisk fills a small tmpfs (root only) under the log: appends and
// probes fail with ENOSPC and leave nothing behind; once space is freed
// both work again, and the log replays exactly the appends that succeeded,
// numbered without a gap.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)
	l, err := wal.Open(filepath.Join(dir, "wal"), 256<<10) // rolls over a few times
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()
	if _, err := filler.Write(make([]byte, 600<<10)); err != nil {
		t.Fatal(err)
	}

	rec := bytes.Repeat([]byte("x"), 50<<10)
	var want []string
	failed := 0
	for i := 0; failed < 3; i++ {
		rec[0] = byte('a' + i%26)
		lsn, err := l.Append(rec)
		switch {
		case err == nil:
			want = append(want, fmt.Sprintf("%d:%c", lsn, rec[0]))
		case errors.Is(err, syscall.ENOSPC):
			failed++
		default:
			t.Fatalf("append %d: %v", i, err)
		}
	}
	t.Logf("%d appends fitted before %d failed", len(want), failed)
	if err := l.Probe(len(rec)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("probe of a full disk: %v, want ENOSPC", err)
	}
	if err := filler.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if err := l.Probe(len(rec)); err != nil {
		t.Fatalf("probe once space is freed: %v", err)
	}
	for range 3 {
		rec[0] = 'z'
		lsn, err := l.Append(rec)
		if err != nil {
			t.Fatalf("append once space is freed: %v", err)
		}
		want = append(want, fmt.Sprintf("%d:z", lsn))
	}
	l.Close()
	if l, err = wal.Open(filepath.Join(dir, "wal"), 256<<10); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := l.Replay(0, func(lsn uint64, p []byte) error {
		got = append(got, fmt.Sprintf("%d:%c", lsn, p[0]))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replay = %v\nwant %v", got, want)
	}
	for i, g := range got {
		if !strings.HasPrefix(g, fmt.Sprintf("%d:", i+1)) {
			t.Fatalf("record %d is %s: a gap in the numbering", i+1, g)
		}
	}
}
