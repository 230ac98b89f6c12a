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
	"errors"
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
	Queued = store.EraseQueued
	// Scrubbing: the rows are deleted (the receipt says what went) and
	// the files are being scrubbed.
	Scrubbing = store.EraseScrubbing
	Done      = store.EraseDone
	Failed    = store.EraseFailed
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
	kept    store.EraseJobs // nil: jobs live in memory only
	blobs   Purger          // nil: no recordings
	log     *slog.Logger
	journal string     // "": jobs go to the table at once
	jmu     sync.Mutex // guards the journal; held while a job is queued
	run     sync.Mutex // one round at a time
	mu      sync.Mutex // guards the fields below and the jobs' fields
	jobs    map[string]*Job
	queue   []*Job
	working bool
	wg      sync.WaitGroup
}

// New returns the service; blobs may be nil. When the store keeps jobs
// (store.EraseJobs), jobs and their receipts survive a restart; call
// Resume at the start to run those a crash interrupted.
func New(st store.Eraser, blobs Purger, log *slog.Logger) *Service {
	kept, _ := st.(store.EraseJobs)
	return &Service{store: st, kept: kept, blobs: blobs, log: log, jobs: map[string]*Job{}}
}

// keep saves a job's state, when the store keeps jobs; a failure is
// logged (the job goes on in memory).
func (s *Service) keep(j *Job) {
	if s.kept == nil {
		return
	}
	if err := s.kept.SaveEraseJob(context.Background(), j.kept()); err != nil {
		s.log.Warn("deletion job state not saved", "job", j.ID, "status", j.Status, "err", err)
	}
}

// kept is the job as the store keeps it. The caller holds mu.
func (j *Job) kept() store.EraseJob {
	return store.EraseJob{ID: j.ID, SiteID: j.SiteID, Status: j.Status, Error: j.Error, User: j.user,
		Suppress: j.opts.Suppress, RequestedAt: j.RequestedAt, Receipt: j.Receipt}
}

// Resume queues again the jobs a crash left queued. Jobs that were
// scrubbing were finished by the store's scrub at its opening; one left
// scrubbing is reported failed with the reason.
func (s *Service) Resume(ctx context.Context) error {
	if s.kept == nil {
		return nil
	}
	if s.journal != "" {
		s.jmu.Lock()
		left, err := s.journalRead()
		if err == nil {
			err = s.toTable(ctx, left, true)
		}
		if err == nil {
			err = s.journalRewrite()
		}
		s.jmu.Unlock()
		if err != nil {
			return err
		}
	}
	jobs, err := s.kept.UnfinishedEraseJobs(ctx)
	if err != nil {
		return err
	}
	for _, k := range jobs {
		j := &Job{ID: k.ID, SiteID: k.SiteID, Status: k.Status, RequestedAt: k.RequestedAt, Receipt: k.Receipt,
			user: k.User, opts: store.EraseOptions{Suppress: k.Suppress, Job: k.ID}}
		switch {
		case k.Status == Queued && k.User.ID != "":
			s.log.Info("resuming a user deletion interrupted by a restart", "job", j.ID)
			s.enqueue(j)
		default:
			j.Status = Failed
			j.Error = "interrupted by a restart after its rows were deleted; the files are scrubbed at the next deletion or start"
			if k.Status == Queued {
				j.Error = "interrupted by a restart before it ran, and the user's ID is not kept: ask again"
			}
			s.mu.Lock()
			s.jobs[j.ID] = j
			s.keep(j)
			s.mu.Unlock()
		}
	}
	return nil
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

// Start queues a deletion and returns its job, kept by the store first
// when it keeps jobs.
func (s *Service) Start(site int64, id store.Identity, opts store.EraseOptions) (Job, error) {
	var b [8]byte
	rand.Read(b[:])
	j := &Job{ID: "del_" + hex.EncodeToString(b[:]), SiteID: site, Status: Queued, RequestedAt: time.Now().UTC(),
		user: id, opts: opts}
	j.opts.Job = j.ID
	// To the journal, or (without one) to the table when its round runs.
	if s.kept != nil && s.journal != "" {
		s.jmu.Lock()
		defer s.jmu.Unlock()
		if err := s.journalAppend(j.kept()); err != nil {
			return Job{}, err
		}
	}
	return s.enqueue(j), nil
}

// enqueue adds a job to the queue, starts the worker and returns a copy
// of the job as queued.
func (s *Service) enqueue(j *Job) Job {
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
	if s.kept != nil {
		// Move the batch's jobs from the journal to the table: no scrub
		// runs now, so the write does not wait.
		kept := make([]store.EraseJob, len(batch))
		s.mu.Lock()
		for i, j := range batch {
			kept[i] = j.kept()
		}
		s.mu.Unlock()
		s.jmu.Lock()
		err := s.toTable(ctx, kept, false)
		if err == nil && s.journal != "" {
			err = s.journalRewrite()
		}
		s.jmu.Unlock()
		if err != nil {
			s.log.Warn("deletion jobs not moved from the journal to the table (they run anyway)", "err", err)
		}
	}
	var deleted []*Job
	var receipts []*store.Erasure
	for _, j := range batch {
		r, err := s.store.DeleteUser(ctx, j.SiteID, j.user, j.opts)
		s.mu.Lock()
		if err != nil {
			j.Status, j.Error = Failed, err.Error()
			s.keep(j)
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
		} else {
			j.Status, j.Receipt = Done, &done[i]
		}
		s.keep(j)
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

// Job returns a job of the site, or false: from memory, else (a job of
// an earlier run) as the store kept it, without the user's ID.
func (s *Service) Job(site int64, id string) (Job, bool) {
	s.mu.Lock()
	j, ok := s.jobs[id]
	if ok {
		defer s.mu.Unlock()
		if j.SiteID != site {
			return Job{}, false
		}
		return *j, true
	}
	s.mu.Unlock()
	if s.kept == nil {
		return Job{}, false
	}
	k, err := s.kept.EraseJob(context.Background(), site, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("read deletion job", "job", id, "err", err)
		}
		return Job{}, false
	}
	return Job{ID: k.ID, SiteID: k.SiteID, Status: k.Status, Error: k.Error, RequestedAt: k.RequestedAt, Receipt: k.Receipt}, true
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
