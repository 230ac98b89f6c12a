package server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/notify"
	"github.com/sightline/sightline/internal/segment/engine"
)

// alertRunner runs the alert service until stopped.
type alertRunner struct {
	svc    *notify.Service
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// newAlerts makes the alert service over the store, its secrets sealed
// with the key in the data folder, and wakes it after each commit that
// recorded a cause.
func newAlerts(cfg config.Config, db backend, segs *engine.Engine, log *slog.Logger) (*alertRunner, error) {
	sealer, err := notify.OpenSealer(filepath.Join(cfg.DataDir, "alerts.key"))
	if err != nil {
		return nil, fmt.Errorf("open the alert secrets key: %w", err)
	}
	svc := notify.New(db, segs, sealer, notify.Options{
		Network:      notify.Network{AllowHTTP: cfg.Alerts.AllowHTTP, AllowPrivate: cfg.Alerts.AllowPrivate},
		PublicURL:    cmp.Or(cfg.PublicURL, "http://"+cfg.Addr),
		Now:          cfg.Now,
		RetryBase:    cfg.Alerts.RetryBase,
		DisableAfter: cfg.Alerts.DisableAfter,
		Poll:         cmp.Or(cfg.Alerts.Poll, notifyPoll),
		ClockCheck:   cfg.Alerts.ClockCheck,
	}, log.With("part", "alerts"))
	db.SetAlertWake(svc.Wake)
	ctx, cancel := context.WithCancel(context.Background())
	return &alertRunner{svc: svc, ctx: ctx, cancel: cancel, done: make(chan struct{})}, nil
}

// notifyPoll is how often the alert service looks for causes and due
// messages when nothing woke it: causes of surveys, feedback and
// recordings wait at most this long.
const notifyPoll = 250 * time.Millisecond

func (r *alertRunner) run() {
	defer close(r.done)
	r.svc.Run(r.ctx)
}

// stop ends evaluation and delivery; what is queued stays in the outbox
// for the next start.
func (r *alertRunner) stop(ctx context.Context) error {
	r.cancel()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("alerts: %w", ctx.Err())
	}
}
