package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// fill writes zeros to path until headroom bytes are left free on its file
// system, and returns the file's size.
func fill(path string, headroom int64) (int64, error) {
	free, err := freeBytes(filepath.Dir(path))
	if err != nil {
		return 0, err
	}
	size := free - headroom
	if size <= 0 {
		return 0, fmt.Errorf("only %d bytes free: no room for a filler", free)
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("create the filler: %w", err)
	}
	_, err = io.CopyN(f, zeros{}, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("write the filler: %w", err)
	}
	return size, nil
}

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// squeezeEvery is how often a squeezer looks for space that came free.
const squeezeEvery = 10 * time.Millisecond

// squeezer is a file that grows to take every byte its file system has
// free, and every byte freed later, until it is stopped. A filler that
// leaves the server some room is not enough to fill a disk: the server
// deletes log segments once they are applied and its database file grows
// slowly, so a fixed headroom may never run out under load.
type squeezer struct {
	path string
	size atomic.Int64
	stop context.CancelFunc
	done chan struct{}
	err  error // why it stopped growing early; read once done is closed
}

// startSqueezer creates the file at path and grows it until Stop.
func startSqueezer(ctx context.Context, path string) (*squeezer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create the squeezer: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &squeezer{path: path, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		err := s.grow(ctx, f)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close the squeezer: %w", cerr)
		}
		s.err = err
	}()
	return s, nil
}

// grow appends zeros to f; on ENOSPC (after a partial write that took the
// last free pages) it waits a moment and tries again.
func (s *squeezer) grow(ctx context.Context, f *os.File) error {
	chunk := make([]byte, 1<<20)
	for ctx.Err() == nil {
		n, err := f.Write(chunk)
		s.size.Add(int64(n))
		switch {
		case err == nil:
		case errors.Is(err, syscall.ENOSPC):
			sleepCtx(ctx, squeezeEvery)
		default:
			return fmt.Errorf("grow the squeezer: %w", err)
		}
	}
	return nil
}

// Stop stops the growth, deletes the file, and returns why it stopped
// growing early, if it did.
func (s *squeezer) Stop() error {
	s.stop()
	<-s.done
	err := s.err
	if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, fmt.Errorf("delete the squeezer: %w", rerr))
	}
	return err
}
