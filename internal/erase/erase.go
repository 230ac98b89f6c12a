// Package erase deletes a user everywhere on request (GDPR article 17):
// the store's rows and files through store.Eraser, then the recordings'
// blobs through the recording service. Deletions run as jobs, one at a
// time, whose status and receipt can be read while and after they run.
package erase

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Purger deletes the blobs of recordings whose index rows are deleted
// (recording.Service).
type Purger interface {
	PurgeDeleted(ctx context.Context) (int, error)
}

// Job states.
const (
	Running = "running"
	Done    = "done"
	Failed  = "failed"
)

// Job is one deletion.
type Job struct {
	ID          string         `json:"id"`
	SiteID      int64          `json:"-"`
	Status      string         `json:"status"`
	Error       string         `json:"error,omitempty"`
	RequestedAt time.Time      `json:"requested_at"`
	Receipt     *store.Erasure `json:"receipt,omitempty"`
}

// Service runs deletions.
type Service struct {
	store  store.Eraser
	blobs  Purger // nil: no recordings
	log    *slog.Logger
	run    sync.Mutex // one deletion at a time
	mu     sync.Mutex
	jobs   map[string]*Job
	wg     sync.WaitGroup
	closed bool
}

// New returns the service; blobs may be nil.
func New(st store.Eraser, blobs Purger, log *slog.Logger) *Service {
	return &Service{store: st, blobs: blobs, log: log, jobs: map[string]*Job{}}
}

// Erase deletes the user now and returns the receipt.
func (s *Service) Erase(ctx context.Context, site int64, id store.Identity) (store.Erasure, error) {
	s.run.Lock()
	defer s.run.Unlock()
	r, err := s.store.EraseUser(ctx, site, id)
	if err != nil {
		return r, err
	}
	if s.blobs != nil {
		n, err := s.blobs.PurgeDeleted(ctx)
		if err != nil {
			// The recordings' rows are gone and their deletion recorded:
			// the recording janitor deletes the blobs at its next sweep.
			return r, err
		}
		r.Deleted["recording_blobs"] = int64(n)
	}
	r.DoneAt = time.Now().UTC()
	return r, nil
}

// Start starts a deletion in the background and returns its job.
func (s *Service) Start(site int64, id store.Identity) Job {
	var b [8]byte
	rand.Read(b[:])
	j := &Job{ID: "del_" + hex.EncodeToString(b[:]), SiteID: site, Status: Running, RequestedAt: time.Now().UTC()}
	s.mu.Lock()
	s.jobs[j.ID] = j
	out := *j
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		r, err := s.Erase(context.Background(), site, id)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			j.Status, j.Error = Failed, err.Error()
			s.log.Warn("user deletion failed", "job", j.ID, "err", err)
			return
		}
		j.Status, j.Receipt = Done, &r
		s.log.Info("user deleted", "job", j.ID, "site", site, "took", r.DoneAt.Sub(r.StartedAt).Round(time.Millisecond))
	}()
	return out
}

// Job returns a job of the site, or false.
func (s *Service) Job(site int64, id string) (Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok || j.SiteID != site {
		return Job{}, false
	}
	return *j, true
}

// Wait waits for the running jobs, before the store closes.
func (s *Service) Wait() { s.wg.Wait() }
