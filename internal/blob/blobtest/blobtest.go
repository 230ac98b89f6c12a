// Package blobtest is the conformance suite that every blob.Store
// implementation runs from its own tests:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
//	}
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/sightline/sightline/internal/blob"
)

// Run runs the suite; open returns a new, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	ctx := context.Background()
	t.Run("put then get returns the bytes", func(t *testing.T) {
		s := open(t)
		for _, size := range []int{0, 1, 4096, 3 << 20} {
			data := make([]byte, size)
			rand.Read(data)
			key := fmt.Sprintf("1/rec_a/%08d.zst", size)
			if err := s.Put(ctx, key, data); err != nil {
				t.Fatalf("put %d bytes: %v", size, err)
			}
			if got := get(t, s, key); !bytes.Equal(got, data) {
				t.Fatalf("%d bytes: got %d different bytes back", size, len(got))
			}
		}
	})
	t.Run("put replaces", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, "a/b", "first")
		mustPut(t, s, "a/b", "second")
		if got := string(get(t, s, "a/b")); got != "second" {
			t.Fatalf("got %q", got)
		}
		if keys := list(t, s, ""); !slices.Equal(keys, []string{"a/b"}) {
			t.Fatalf("keys = %v", keys)
		}
	})
	t.Run("missing blob", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, "a/b", "x")
		for _, key := range []string{"a/c", "a", "z/b"} {
			if _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("get %s: %v, want ErrNotFound", key, err)
			}
		}
		if err := s.Delete(ctx, "a/c"); err != nil {
			t.Errorf("deleting a missing blob: %v", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, "a/b", "x")
		mustPut(t, s, "a/c", "y")
		if err := s.Delete(ctx, "a/b"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "a/b"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		if got := string(get(t, s, "a/c")); got != "y" {
			t.Fatalf("a/c = %q", got)
		}
	})
	t.Run("list and delete by prefix", func(t *testing.T) {
		s := open(t)
		keys := []string{"1/rec_a/00000001.zst", "1/rec_a/00000000.zst", "1/rec_ab/00000000.zst",
			"1/rec_b/00000000.zst", "2/rec_a/00000000.zst", "1.x"}
		for _, k := range keys {
			mustPut(t, s, k, k)
		}
		tests := []struct {
			prefix string
			want   []string
		}{
			{"", []string{"1.x", "1/rec_a/00000000.zst", "1/rec_a/00000001.zst", "1/rec_ab/00000000.zst", "1/rec_b/00000000.zst", "2/rec_a/00000000.zst"}},
			{"1/", []string{"1/rec_a/00000000.zst", "1/rec_a/00000001.zst", "1/rec_ab/00000000.zst", "1/rec_b/00000000.zst"}},
			{"1/rec_a/", []string{"1/rec_a/00000000.zst", "1/rec_a/00000001.zst"}},
			{"1/rec_a", []string{"1/rec_a/00000000.zst", "1/rec_a/00000001.zst", "1/rec_ab/00000000.zst"}},
			{"1/rec_a/00000001.zst", []string{"1/rec_a/00000001.zst"}},
			{"3/", nil},
		}
		for _, tt := range tests {
			if got := list(t, s, tt.prefix); !slices.Equal(got, tt.want) {
				t.Errorf("list %q = %v, want %v", tt.prefix, got, tt.want)
			}
		}
		if err := s.DeletePrefix(ctx, "1/rec_a/"); err != nil {
			t.Fatal(err)
		}
		want := []string{"1.x", "1/rec_ab/00000000.zst", "1/rec_b/00000000.zst", "2/rec_a/00000000.zst"}
		if got := list(t, s, ""); !slices.Equal(got, want) {
			t.Fatalf("after DeletePrefix 1/rec_a/: %v", got)
		}
		if err := s.DeletePrefix(ctx, "1/rec_"); err != nil {
			t.Fatal(err)
		}
		want = []string{"1.x", "2/rec_a/00000000.zst"}
		if got := list(t, s, ""); !slices.Equal(got, want) {
			t.Fatalf("after DeletePrefix 1/rec_: %v", got)
		}
		if err := s.DeletePrefix(ctx, "9/"); err != nil {
			t.Fatalf("deleting a prefix with no blobs: %v", err)
		}
		if err := s.DeletePrefix(ctx, ""); err == nil {
			t.Fatal("DeletePrefix of the empty prefix (everything) was allowed")
		}
		// A key can be reused after its folder was removed.
		mustPut(t, s, "1/rec_a/00000000.zst", "again")
		if got := string(get(t, s, "1/rec_a/00000000.zst")); got != "again" {
			t.Fatalf("after reuse: %q", got)
		}
	})
	t.Run("list stops at the callback's error", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, "a/1", "x")
		mustPut(t, s, "a/2", "x")
		stop := errors.New("stop")
		n := 0
		err := s.List(ctx, "a/", func(string) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Fatalf("List = %v after %d calls", err, n)
		}
	})
	t.Run("invalid keys are refused", func(t *testing.T) {
		s := open(t)
		for _, key := range []string{"", "/abs", "a//b", "../x", "a/../../x", "a/./b", ".hidden", "a/.tmp-1",
			"a b", "a\\b", "a\x00b", "ä", string(bytes.Repeat([]byte("a"), blob.MaxKeyLength+1))} {
			if err := s.Put(ctx, key, []byte("x")); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("put %q: %v, want ErrInvalidKey", key, err)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("get %q: %v, want ErrInvalidKey", key, err)
			}
		}
		for _, prefix := range []string{"../", "a//", "/"} {
			if err := s.DeletePrefix(ctx, prefix); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("DeletePrefix %q: %v, want ErrInvalidKey", prefix, err)
			}
		}
		if keys := list(t, s, ""); len(keys) != 0 {
			t.Fatalf("refused puts stored %v", keys)
		}
	})
	t.Run("concurrent puts and reads", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 8 {
					key := fmt.Sprintf("c/%d/%d", w, i)
					data := bytes.Repeat([]byte{byte(w), byte(i)}, 1000)
					if err := s.Put(ctx, key, data); err != nil {
						errs <- err
						return
					}
					// Replacing a key while it is read: readers see one whole blob.
					if err := s.Put(ctx, "c/shared", data); err != nil {
						errs <- err
						return
					}
					got, err := read(s, "c/shared")
					if err != nil || len(got) != 2000 || got[0] != got[1998] || got[1] != got[1999] {
						errs <- fmt.Errorf("shared blob: %d bytes, %v", len(got), err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if keys := list(t, s, "c/"); len(keys) != 65 {
			t.Fatalf("%d keys after concurrent puts, want 65", len(keys))
		}
	})
}

func mustPut(t *testing.T, s blob.Store, key, data string) {
	t.Helper()
	if err := s.Put(context.Background(), key, []byte(data)); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func read(s blob.Store, key string) ([]byte, error) {
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func get(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	b, err := read(s, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return b
}

func list(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	var keys []string
	if err := s.List(context.Background(), prefix, func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	return keys
}
