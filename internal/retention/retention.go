// Package retention runs the janitor that deletes each site's data once
// it is older than the site's retention (store.Retention).
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Janitor sweeps expired data.
type Janitor struct {
	store store.Retainer
	now   func() time.Time
	log   *slog.Logger
}

// New returns a janitor; now is the clock (time.Now when nil).
func New(st store.Retainer, now func() time.Time, log *slog.Logger) *Janitor {
	if now == nil {
		now = time.Now
	}
	return &Janitor{store: st, now: now, log: log}
}

// Sweep deletes what is past every site's retention now, and returns the
// rows deleted by kind.
func (j *Janitor) Sweep(ctx context.Context) (map[string]int64, error) {
	return j.store.ExpireData(ctx, j.now())
}

// Run sweeps at start and then every interval until ctx ends.
func (j *Janitor) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := j.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			j.log.Warn("data retention sweep failed", "err", err)
		case len(n) > 0:
			args := []any{"took", time.Since(start).Round(time.Millisecond)}
			for k, v := range n {
				args = append(args, k, v)
			}
			j.log.Info("expired data past retention", args...)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
