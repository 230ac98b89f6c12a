package erase

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/sightline/sightline/internal/store"
)

// The journal keeps the jobs accepted but not yet in the store's table,
// one JSON line each, synced before the request is answered. A job cannot
// go to the table when it arrives if a scrub is rewriting the database
// (writes wait for minutes on a big one), so it goes to the journal, and
// the next round moves it to the table before it runs; Resume moves what
// a crash left. The journal names the users, for as long as their jobs
// wait: it is removed once every job in it is in the table.

// WithJournal keeps accepted jobs in the file at path until they are in
// the store's table. Call it before Resume and Start.
func (s *Service) WithJournal(path string) *Service {
	s.journal = path
	return s
}

// journalAppend appends a job to the journal and syncs it. The caller
// holds jmu.
func (s *Service) journalAppend(j store.EraseJob) error {
	line, err := json.Marshal(j)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(s.journal, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("keep the deletion job: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("keep the deletion job: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("keep the deletion job: %w", err)
	}
	return f.Close()
}

// journalRead returns the jobs in the journal; a line cut short by a
// crash (its request was not answered) is skipped.
func (s *Service) journalRead() ([]store.EraseJob, error) {
	b, err := os.ReadFile(s.journal)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the deletion journal: %w", err)
	}
	var out []store.EraseJob
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var j store.EraseJob
		if json.Unmarshal(sc.Bytes(), &j) == nil && j.ID != "" {
			out = append(out, j)
		}
	}
	return out, nil
}

// journalRewrite leaves in the journal only the jobs still waiting in the
// queue (those are not in the table yet), or removes it. The caller holds
// jmu.
func (s *Service) journalRewrite() error {
	s.mu.Lock()
	var waiting []store.EraseJob
	for _, j := range s.queue {
		waiting = append(waiting, j.kept())
	}
	s.mu.Unlock()
	if len(waiting) == 0 {
		if err := os.Remove(s.journal); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	tmp := s.journal + ".tmp"
	var buf bytes.Buffer
	for _, j := range waiting {
		line, _ := json.Marshal(j)
		buf.Write(append(line, '\n'))
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, s.journal)
}

// toTable moves the journal's jobs to the store's table: those of a round
// about to run (from the queue), or, at the start, those a crash left
// (a job already in the table has gone further and stays as it is).
func (s *Service) toTable(ctx context.Context, jobs []store.EraseJob, checkTable bool) error {
	for _, j := range jobs {
		if checkTable {
			if _, err := s.kept.EraseJob(ctx, j.SiteID, j.ID); err == nil {
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := s.kept.SaveEraseJob(ctx, j); err != nil {
			return err
		}
	}
	return nil
}
