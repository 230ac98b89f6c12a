// Package blob stores opaque byte objects under slash-separated keys: the
// compressed chunks of session recordings. Disk is the implementation on
// local disk; an S3-compatible implementation will follow behind the same
// interface, and blobtest holds the conformance suite every implementation
// must pass.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Store keeps blobs. Implementations are safe for concurrent use.
//
// Put is atomic and durable: when it returns nil the whole blob survives a
// crash, and a reader never sees a partly written one. Putting an existing
// key replaces it. Keys are made by the server (see CheckKey), never taken
// from client text.
type Store interface {
	// Put stores data under key.
	Put(ctx context.Context, key string, data []byte) error
	// Get opens the blob under key; it returns an error wrapping
	// ErrNotFound when there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the blob under key; a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every blob whose key starts with prefix, which
	// must not be empty.
	DeletePrefix(ctx context.Context, prefix string) error
	// List calls fn with every key that starts with prefix, in
	// lexicographic order, until fn returns an error.
	List(ctx context.Context, prefix string, fn func(key string) error) error
}

// ErrNotFound means there is no blob under the key.
var ErrNotFound = errors.New("blob not found")

// ErrInvalidKey means a key is not of the allowed form.
var ErrInvalidKey = errors.New("invalid blob key")

// MaxKeyLength bounds a key's length.
const MaxKeyLength = 512

// CheckKey reports whether key is allowed: one or more segments separated by
// single slashes, each made of ASCII letters, digits, '_', '-' and '.',
// not starting with a dot (so no "..", and names starting with a dot stay
// free for an implementation's temporary files).
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLength {
		return fmt.Errorf("%w: %q (empty or longer than %d bytes)", ErrInvalidKey, key, MaxKeyLength)
	}
	for _, seg := range strings.Split(key, "/") {
		if err := checkSegment(seg); err != nil {
			return fmt.Errorf("%w: %q: %v", ErrInvalidKey, key, err)
		}
	}
	return nil
}

// CheckPrefix reports whether prefix is allowed for DeletePrefix and List:
// a key, a key followed by a slash, or (List only) empty.
func CheckPrefix(prefix string) error {
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		if prefix == "" {
			return nil
		}
		return fmt.Errorf("%w: prefix %q", ErrInvalidKey, prefix)
	}
	return CheckKey(p)
}

func checkSegment(seg string) error {
	if seg == "" {
		return errors.New("empty segment")
	}
	if seg[0] == '.' {
		return errors.New("a segment starts with a dot")
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return fmt.Errorf("character %q is not allowed", c)
		}
	}
	return nil
}
