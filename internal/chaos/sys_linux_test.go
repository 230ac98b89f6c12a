package chaos

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSqueezerTakesWhatIsFreed mounts a small tmpfs (root only): the
// squeezer must take every free byte, take again what is freed later, and
// leave nothing once stopped.
func TestSqueezerTakesWhatIsFreed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := mountTmpfs(dir, 4<<20); err != nil {
		t.Skip(err)
	}
	defer unmount(dir)
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	sq, err := startSqueezer(context.Background(), filepath.Join(dir, "squeezer"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Stop()
	full := func() bool {
		free, err := freeBytes(dir)
		return err == nil && free == 0
	}
	if !waitUntil(context.Background(), 5*time.Second, full) {
		t.Fatal("the squeezer did not take every free byte")
	}
	if err := os.Remove(other); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * squeezeEvery)
	if !waitUntil(context.Background(), 5*time.Second, full) || sq.size.Load() < 3<<20 {
		t.Fatalf("the squeezer did not take the freed space: %d bytes", sq.size.Load())
	}
	if err := sq.Stop(); err != nil {
		t.Fatal(err)
	}
	if free, _ := freeBytes(dir); free < 3<<20 {
		t.Fatalf("after Stop only %d bytes are free", free)
	}
}
