package wal_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/wal"
)

func replayAll(t *testing.T, l *wal.Log, after uint64) []string {
	t.Helper()
	var got []string
	err := l.Replay(after, func(lsn uint64, p []byte) error {
		got = append(got, fmt.Sprintf("%d:%s", lsn, p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestAppendReplayAcrossSegmentsAndRemove(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, 64) // tiny segments: one or two records each
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		lsn, err := l.Append([]byte(fmt.Sprintf("rec-%02d-padding-padding", i)))
		if err != nil || lsn != uint64(i+1) {
			t.Fatalf("append %d: lsn %d, %v", i, lsn, err)
		}
	}
	if got := replayAll(t, l, 7); len(got) != 3 || got[0] != "8:rec-07-padding-padding" {
		t.Fatalf("replay after 7 = %v", got)
	}
	if err := l.Remove(6); err != nil {
		t.Fatal(err)
	}
	if got := replayAll(t, l, 6); len(got) != 4 {
		t.Fatalf("after remove: %v", got)
	}
	l.Close()
	l, err = wal.Open(dir, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.LastLSN() != 10 {
		t.Fatalf("LastLSN after reopen = %d", l.LastLSN())
	}
	if lsn, _ := l.Append([]byte("after")); lsn != 11 {
		t.Fatalf("append after reopen: %d", lsn)
	}
}

func TestTornTailIsCutOff(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	l.Append([]byte("one"), []byte("two"))
	l.Close()
	// A crash in the middle of the third record leaves half of it.
	seg := filepath.Join(dir, "0000000000000001.wal")
	f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{40, 0, 0, 0, 1, 2, 3, 4, 3, 0, 0, 0, 0, 0, 0, 0, 'x'})
	f.Close()
	l, err = wal.Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got := replayAll(t, l, 0); len(got) != 2 || got[1] != "2:two" {
		t.Fatalf("replay = %v", got)
	}
	if lsn, _ := l.Append([]byte("three")); lsn != 3 {
		t.Fatalf("next lsn = %d", lsn)
	}
	if got := replayAll(t, l, 0); len(got) != 3 || got[2] != "3:three" {
		t.Fatalf("replay after repair = %v", got)
	}
	l.Close()
}

func TestCorruptionInTheMiddleIsReported(t *testing.T) {
	dir := t.TempDir()
	l, _ := wal.Open(dir, 1<<20)
	l.Append([]byte("one"), []byte("two"), []byte("three"))
	l.Close()
	seg := filepath.Join(dir, "0000000000000001.wal")
	b, _ := os.ReadFile(seg)
	b[16] ^= 0xff // first payload byte
	os.WriteFile(seg, b, 0o640)
	// Open reads the last segment through and refuses to guess.
	if _, err := wal.Open(dir, 1<<20); !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("open of a damaged log: %v", err)
	}
}

func BenchmarkAppend(b *testing.B) {
	l, err := wal.Open(b.TempDir(), 64<<20)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	payload := make([]byte, 64<<10) // a group of ~100 messages
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := l.Append(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAdvance(t *testing.T) {
	dir := t.TempDir()
	l, _ := wal.Open(dir, 1<<20)
	l.Append([]byte("one"))
	if err := l.Advance(100); err != nil {
		t.Fatal(err)
	}
	if lsn, _ := l.Append([]byte("hundred")); lsn != 100 {
		t.Fatalf("lsn after advance = %d", lsn)
	}
	l.Close()
	l, _ = wal.Open(dir, 1<<20)
	defer l.Close()
	if got := replayAll(t, l, 0); len(got) != 2 || got[1] != "100:hundred" {
		t.Fatalf("replay = %v", got)
	}
}

func TestProbeLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := l.Probe(1 << 16); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(names) != 1 || filepath.Ext(names[0]) != ".wal" {
		t.Fatalf("after a probe the folder holds %v, want one segment", names)
	}
	// A probe file left by a crash is not taken for a segment.
	if err := os.WriteFile(filepath.Join(dir, "probe.tmp"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if l, err = wal.Open(dir, 1<<20); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := replayAll(t, l, 0); len(got) != 1 || got[0] != "1:a" {
		t.Fatalf("replay = %v", got)
	}
}
