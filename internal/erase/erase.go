// Package erase deletes a user everywhere on request (GDPR article 17):
// the store's rows and files through store.Eraser, then the recordings'
// blobs through the recording service. Deletions run as jobs whose status
// and receipt can be read while and after they run.
//
// A job's rows are deleted as soon as it runs; scrubbing the files (which
// rewrites the database file, minutes on a big database) is done once for
// every job queued meanwhile: the jobs that arrive while a scrub runs are
// deleted and scrubbed together in the next round.
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

// Job states, in order.
const (
	Queued = "queued"
	// Scrubbing: the rows are deleted (the receipt says what went) and
	// the files are being scrubbed.
	Scrubbing = "scrubbing"
	Done      = "done"
	Failed    = "failed"
)

// Job is one deletion.
type Job struct {
	ID          string         `json:"id"`
	SiteID      int64          `json:"-"`
	Status      string         `json:"status"`
	Error       string         `json:"error,omitempty"`
	RequestedAt time.Time      `json:"requested_at"`
	Receipt     *store.Erasure `json:"receipt,omitempty"`

	user store.Identity
	opts store.EraseOptions
}

// Service runs deletions.
type Service struct {
	store   store.Eraser
	blobs   Purger // nil: no recordings
	log     *slog.Logger
	run     sync.Mutex // one round at a time
	mu      sync.Mutex // guards the fields below and the jobs' fields
	jobs    map[string]*Job
	queue   []*Job
	working bool
	wg      sync.WaitGroup
}

// New returns the service; blobs may be nil.
func New(st store.Eraser, blobs Purger, log *slog.Logger) *Service {
	return &Service{store: st, blobs: blobs, log: log, jobs: map[string]*Job{}}
}

// Erase deletes the user now, scrubs the files and returns the receipt.
func (s *Service) Erase(ctx context.Context, site int64, id store.Identity, opts store.EraseOptions) (store.Erasure, error) {
	s.run.Lock()
	defer s.run.Unlock()
	r, err := s.store.DeleteUser(ctx, site, id, opts)
	if err != nil {
		return r, err
	}
	return r, s.scrub(ctx, []*store.Erasure{&r})
}

// scrub scrubs the files and deletes the blobs of the deleted users'
// recordings, completing their receipts.
func (s *Service) scrub(ctx context.Context, rs []*store.Erasure) error {
	segs, err := s.store.ScrubErased(ctx)
	if err != nil {
		return err
	}
	blobs := -1
	if s.blobs != nil {
		n, err := s.blobs.PurgeDeleted(ctx)
		if err != nil {
			// The recordings' rows are gone and their deletion recorded:
			// the recording janitor deletes the blobs at its next sweep.
			s.log.Warn("recording blobs of deleted users left for the janitor", "err", err)
		} else {
			blobs = n
		}
	}
	now := time.Now().UTC()
	for _, r := range rs {
		r.LogSegments, r.Rewritten, r.DoneAt = segs, true, now
		if blobs >= 0 && r.Deleted["recordings"] > 0 {
			r.Deleted["recording_blobs"] = r.Deleted["recordings"]
		}
	}
	return nil
}

// Start queues a deletion and returns its job.
func (s *Service) Start(site int64, id store.Identity, opts store.EraseOptions) Job {
	var b [8]byte
	rand.Read(b[:])
	j := &Job{ID: "del_" + hex.EncodeToString(b[:]), SiteID: site, Status: Queued, RequestedAt: time.Now().UTC(),
		user: id, opts: opts}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[j.ID] = j
	s.queue = append(s.queue, j)
	if !s.working {
		s.working = true
		s.wg.Add(1)
		go s.work()
	}
	return *j
}

// work runs rounds until the queue is empty.
func (s *Service) work() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		if len(batch) == 0 {
			s.working = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		s.round(batch)
	}
}

// round deletes the rows of every job of the batch, then scrubs once.
func (s *Service) round(batch []*Job) {
	s.run.Lock()
	defer s.run.Unlock()
	ctx := context.Background()
	start := time.Now()
	var deleted []*Job
	var receipts []*store.Erasure
	for _, j := range batch {
		r, err := s.store.DeleteUser(ctx, j.SiteID, j.user, j.opts)
		s.mu.Lock()
		if err != nil {
			j.Status, j.Error = Failed, err.Error()
			s.log.Warn("user deletion failed", "job", j.ID, "err", err)
		} else {
			j.Status, j.Receipt = Scrubbing, &r
			deleted = append(deleted, j)
			receipts = append(receipts, j.Receipt)
		}
		s.mu.Unlock()
	}
	if len(deleted) == 0 {
		return
	}
	// The receipts are written only by this goroutine until the jobs
	// are done; readers copy them under mu.
	done := make([]store.Erasure, len(receipts))
	for i, r := range receipts {
		done[i] = *r
		done[i].Deleted = clone(r.Deleted)
	}
	ptrs := make([]*store.Erasure, len(done))
	for i := range done {
		ptrs[i] = &done[i]
	}
	err := s.scrub(ctx, ptrs)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, j := range deleted {
		if err != nil {
			j.Status, j.Error = Failed, "rows deleted, files not yet scrubbed (done at the next deletion or start): "+err.Error()
			continue
		}
		j.Status, j.Receipt = Done, &done[i]
	}
	if err != nil {
		s.log.Warn("scrubbing after user deletions failed", "jobs", len(deleted), "err", err)
		return
	}
	s.log.Info("users deleted", "jobs", len(deleted), "took", time.Since(start).Round(time.Millisecond))
}

func clone(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
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

// Wait waits for the queued jobs, before the store closes.
func (s *Service) Wait() { s.wg.Wait() }

// DeleteSite deletes a site with everything it holds, then its
// recordings' blobs, and returns the rows deleted by kind.
func (s *Service) DeleteSite(ctx context.Context, st store.SiteDeleter, site int64) (map[string]int64, error) {
	s.run.Lock()
	defer s.run.Unlock()
	counts, err := st.DeleteSite(ctx, site)
	if err != nil {
		return counts, err
	}
	if s.blobs != nil {
		n, err := s.blobs.PurgeDeleted(ctx)
		if err != nil {
			s.log.Warn("recording blobs of a deleted site left for the janitor", "err", err)
		} else {
			counts["recording_blobs"] = int64(n)
		}
	}
	return counts, nil
}
