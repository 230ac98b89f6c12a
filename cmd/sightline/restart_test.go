package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/sightline/sightline/internal/server"
)

// TestRunRestarting: a server that stops because its database must be
// reopened is run again, also after a start that fails meanwhile (the
// disk still full); any other first failure is returned as it is.
func TestRunRestarting(t *testing.T) {
	results := []error{fmt.Errorf("%w: invalidated", server.ErrRestart), errors.New("open: no space left on device"), nil}
	runs := 0
	err := runRestarting(context.Background(), slog.New(slog.DiscardHandler), func() error {
		runs++
		return results[runs-1]
	})
	if err != nil || runs != 3 {
		t.Fatalf("runRestarting = %v after %d runs, want nil after 3", err, runs)
	}
	boom := errors.New("listen: address in use")
	runs = 0
	if err := runRestarting(context.Background(), slog.New(slog.DiscardHandler), func() error { runs++; return boom }); err != boom || runs != 1 {
		t.Fatalf("a first failure: %v after %d runs", err, runs)
	}
}
