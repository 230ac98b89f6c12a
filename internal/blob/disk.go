package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Disk keeps blobs as files under a root folder, one file per key (the
// key's slashes are folders).
//
// A Put writes a temporary file (named with a leading dot, which no key
// has) in the blob's folder, fsyncs it, renames it over the final name and
// fsyncs the folder, so that an acknowledged blob survives a crash and a
// reader sees either the old blob or the whole new one. Folders it creates
// are fsynced into their parents the same way. A crash may leave temporary
// files behind; they are never listed, and OpenDisk removes them.
type Disk struct {
	root string
}

var _ Store = (*Disk)(nil)

// OpenDisk opens (creating when missing) a disk store rooted at dir and
// removes temporary files that a crash left behind.
func OpenDisk(dir string) (*Disk, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob folder %s: %w", dir, err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create blob folder: %w", err)
	}
	if err := syncDir(filepath.Dir(root)); err != nil {
		return nil, err
	}
	d := &Disk{root: root}
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && strings.HasPrefix(e.Name(), ".tmp-") {
			return os.Remove(path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("remove unfinished blobs: %w", err)
	}
	return d, nil
}

// Root is the folder the blobs are in.
func (d *Disk) Root() string { return d.root }

// Path is the file that holds key, for tests and operators.
func (d *Disk) Path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

// Put implements Store.
func (d *Disk) Put(ctx context.Context, key string, data []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	path := d.Path(key)
	dir := filepath.Dir(path)
	if err := d.mkdirAll(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*") // owner-only (0600), as the blob stays
	if errors.Is(err, fs.ErrNotExist) {
		// A DeletePrefix removed the folder meanwhile: make it again.
		if err := d.mkdirAll(dir); err != nil {
			return err
		}
		f, err = os.CreateTemp(dir, ".tmp-*")
	}
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("put blob %s: sync: %w", key, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	return syncDir(dir)
}

// mkdirAll creates dir and its missing parents below the root, fsyncing
// each new folder's parent so that the folder survives a crash.
func (d *Disk) mkdirAll(dir string) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	if dir == d.root || !strings.HasPrefix(dir, d.root+string(filepath.Separator)) {
		return fmt.Errorf("BUG: blob folder %s outside the root %s", dir, d.root)
	}
	parent := filepath.Dir(dir)
	if parent != d.root {
		if err := d.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create blob folder: %w", err)
	}
	return syncDir(parent)
}

// Get implements Store.
func (d *Disk) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(d.Path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", key, err)
	}
	if fi, err := f.Stat(); err != nil || fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("blob %s: %w", key, ErrNotFound)
	}
	return f, nil
}

// Delete implements Store.
func (d *Disk) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	path := d.Path(key)
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		return nil // nothing under that key
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return syncDir(filepath.Dir(path))
}

// DeletePrefix implements Store. A prefix ending in a slash names a folder,
// removed whole; any other prefix deletes the matching blobs one by one.
func (d *Disk) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: DeletePrefix needs a prefix", ErrInvalidKey)
	}
	if err := CheckPrefix(prefix); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if strings.HasSuffix(prefix, "/") {
		dir := d.Path(strings.TrimSuffix(prefix, "/"))
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("delete blobs %s: %w", prefix, err)
		}
		return syncDir(filepath.Dir(dir))
	}
	var keys []string
	if err := d.List(ctx, prefix, func(k string) error { keys = append(keys, k); return nil }); err != nil {
		return err
	}
	for _, k := range keys {
		if err := d.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// List implements Store.
func (d *Disk) List(ctx context.Context, prefix string, fn func(key string) error) error {
	if err := CheckPrefix(prefix); err != nil {
		return err
	}
	// Walk only the deepest folder that the prefix names whole.
	start := d.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = d.Path(prefix[:i])
	}
	var keys []string
	err := filepath.WalkDir(start, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile, or no such folder
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path == d.root {
			return nil
		}
		rel, err := filepath.Rel(d.root, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(key, prefix) && e.Type().IsRegular() {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list blobs %s: %w", prefix, err)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// syncDir fsyncs a folder, making the creation, renaming and removal of its
// entries durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}
