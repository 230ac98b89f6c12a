package blob_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/blob/blobtest"
)

func TestDiskConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		d, err := blob.OpenDisk(filepath.Join(t.TempDir(), "recordings"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

func TestDiskLayoutAndLeftovers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "recordings")
	d, err := blob.OpenDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Put(ctx, "7/rec_x/00000003.zst", []byte("chunk")); err != nil {
		t.Fatal(err)
	}
	// The key's slashes are folders under the root.
	b, err := os.ReadFile(filepath.Join(dir, "7", "rec_x", "00000003.zst"))
	if err != nil || string(b) != "chunk" {
		t.Fatalf("file on disk: %q, %v", b, err)
	}
	// A temporary file left by a crash mid-Put is neither listed nor kept.
	leftover := filepath.Join(dir, "7", "rec_x", ".tmp-123")
	if err := os.WriteFile(leftover, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	var keys []string
	d.List(ctx, "", func(k string) error { keys = append(keys, k); return nil })
	if len(keys) != 1 || keys[0] != "7/rec_x/00000003.zst" {
		t.Fatalf("keys = %v", keys)
	}
	if _, err := blob.OpenDisk(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Fatalf("reopening kept the temporary file: %v", err)
	}
}
