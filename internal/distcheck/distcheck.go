// Package distcheck checks, from tests, that committed build output was
// built from the sources as they are now. The build scripts
// (scripts/build-tracker.sh, scripts/build-dashboard.sh) record the
// SHA-256 of every source they built from in a manifest, sources.sha256.
package distcheck

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Sources fails t when a source the manifest lists changed or is gone, or
// when a file under one of dirs (relative to root, the sources' folder) is
// not listed; a missing dir is no source. fix says how to rebuild.
func Sources(t testing.TB, manifest, root string, dirs []string, fix string) {
	t.Helper()
	f, err := os.Open(manifest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("%s: malformed line %q", manifest, sc.Text())
		}
		listed[name] = true
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Errorf("%s: %v (%s)", name, err, fix)
			continue
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want {
			t.Errorf("%s changed since the build: %s", filepath.Join(root, name), fix)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == filepath.Join(root, dir) {
				return nil
			}
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if !listed[filepath.ToSlash(rel)] {
				t.Errorf("%s is not in the build: %s", p, fix)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
