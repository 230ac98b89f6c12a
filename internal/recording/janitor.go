package recording

import (
	"context"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Sweep deletes the recordings past their site's retention, rows first
// and blobs after (see Remover), and finishes deletions that a crash or a
// failure interrupted. It returns how many recordings it expired.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	if _, err := s.purgePending(ctx); err != nil {
		return 0, err
	}
	const batch = 1000
	total := 0
	for {
		n, err := s.store.ExpireRecordings(ctx, s.now(), store.DefaultRecordingSettings().RetentionDays, batch)
		if err != nil {
			return total, err
		}
		total += n
		if _, err := s.purgePending(ctx); err != nil {
			return total, err
		}
		if n < batch {
			return total, nil
		}
	}
}

// RunJanitor sweeps at start and then every interval until ctx ends.
func (s *Service) RunJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := s.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("recording retention sweep failed", "err", err)
		case n > 0:
			s.log.Info("expired recordings", "recordings", n, "took", time.Since(start).Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
