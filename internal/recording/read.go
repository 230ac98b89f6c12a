package recording

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/store"
)

// List lists a site's recordings.
func (s *Service) List(ctx context.Context, site int64, q store.RecordingQuery) ([]store.RecordingRow, error) {
	return s.store.ListRecordings(ctx, site, q)
}

// Get returns one recording of a site with the named attributes of its
// user.
func (s *Service) Get(ctx context.Context, site int64, id string, attrs []string) (store.RecordingRow, error) {
	return s.store.Recording(ctx, site, id, attrs)
}

// Timeline returns what the tracker saw while the recording ran.
func (s *Service) Timeline(ctx context.Context, site int64, r store.RecordingRow, limit int) ([]store.Event, error) {
	return s.store.RecordingTimeline(ctx, site, r, limit)
}

// Events is a recording's rrweb events, ready to be written as one JSON
// array: the chunks' arrays joined in seq order, a missing seq skipped.
type Events struct {
	svc    *Service
	ctx    context.Context
	site   int64
	id     string
	chunks []store.RecordingChunk
}

// OpenEvents finds a recording's chunks; it returns an error wrapping
// store.ErrNotFound when the site has no such recording.
func (s *Service) OpenEvents(ctx context.Context, site int64, id string) (*Events, error) {
	chunks, err := s.store.RecordingChunks(ctx, site, id)
	if err != nil {
		return nil, err
	}
	return &Events{svc: s, ctx: ctx, site: site, id: id, chunks: chunks}, nil
}

// Chunks is the number of chunks the events come from.
func (e *Events) Chunks() int { return len(e.chunks) }

// WriteTo writes the events as one JSON array, one chunk in memory at a
// time. An error after the first byte leaves the array unfinished.
func (e *Events) WriteTo(w io.Writer) (int64, error) {
	var n int64
	write := func(b []byte) error {
		m, err := w.Write(b)
		n += int64(m)
		return err
	}
	if err := write([]byte{'['}); err != nil {
		return n, err
	}
	raw := bufPool.Get().(*bytes.Buffer)
	defer putBuf(raw)
	first := true
	for _, c := range e.chunks {
		events, err := e.svc.readChunk(e.ctx, blobKey(e.site, e.id, c.Seq), raw)
		if errors.Is(err, blob.ErrNotFound) {
			// The index says it is stored: worth a warning, not a failure.
			e.svc.log.Warn("recording chunk missing from the blob store", "recording", e.id, "seq", c.Seq)
			continue
		}
		if err != nil {
			return n, err
		}
		inner := bytes.TrimSpace(events[1 : len(events)-1])
		if len(inner) == 0 {
			continue
		}
		if !first {
			if err := write([]byte{','}); err != nil {
				return n, err
			}
		}
		first = false
		if err := write(inner); err != nil {
			return n, err
		}
	}
	return n, write([]byte{']'})
}

// readChunk reads and decompresses one chunk's events (a JSON array) into
// buf's memory.
func (s *Service) readChunk(ctx context.Context, key string, buf *bytes.Buffer) ([]byte, error) {
	rc, err := s.blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(rc, s.limits.MaxRawBytes+1)); err != nil {
		return nil, fmt.Errorf("read chunk %s: %w", key, err)
	}
	compressed := buf.Bytes()
	events, err := s.dec.DecodeAll(compressed, make([]byte, 0, 4*len(compressed)))
	if err != nil {
		return nil, fmt.Errorf("decompress chunk %s: %w", key, err)
	}
	events = bytes.TrimSpace(events)
	if len(events) < 2 || events[0] != '[' || events[len(events)-1] != ']' {
		return nil, fmt.Errorf("chunk %s does not hold a JSON array", key)
	}
	return events, nil
}

// Delete deletes a recording: its index rows, then its blobs. When the
// blobs cannot be deleted now, the janitor deletes them later.
func (s *Service) Delete(ctx context.Context, site int64, id string) error {
	if err := s.store.DeleteRecording(ctx, site, id); err != nil {
		return err
	}
	s.purge(ctx, []store.RecordingRef{{SiteID: site, ID: id}})
	return nil
}

// DeleteUser deletes every recording of a user, as DeleteRecording does,
// and returns how many there were.
func (s *Service) DeleteUser(ctx context.Context, site int64, id store.Identity) (int, error) {
	n, err := s.store.DeleteUserRecordings(ctx, site, id)
	if err != nil || n == 0 {
		return n, err
	}
	_, err = s.purgePending(ctx)
	return n, err
}

// purge deletes the blobs of deleted recordings and then forgets their
// deletion; it logs failures, which the janitor's next sweep retries.
func (s *Service) purge(ctx context.Context, refs []store.RecordingRef) int {
	done := refs[:0:0]
	for _, r := range refs {
		if err := s.blobs.DeletePrefix(ctx, blobPrefix(r.SiteID, r.ID)); err != nil {
			s.log.Warn("delete recording blobs", "recording", r.ID, "err", err)
			continue
		}
		done = append(done, r)
	}
	if err := s.store.ClearRecordingDeletions(ctx, done); err != nil {
		s.log.Warn("clear recording deletions", "err", err)
		return 0
	}
	return len(done)
}

// purgePending purges every recorded deletion, in batches.
func (s *Service) purgePending(ctx context.Context) (int, error) {
	const batch = 1000
	total := 0
	for {
		refs, err := s.store.PendingRecordingDeletions(ctx, batch)
		if err != nil {
			return total, err
		}
		n := s.purge(ctx, refs)
		total += n
		if len(refs) < batch || n < len(refs) {
			return total, nil
		}
	}
}

// PurgeDeleted deletes the blobs of every recording whose index rows are
// deleted (such as by a user's erasure) and returns how many it purged.
func (s *Service) PurgeDeleted(ctx context.Context) (int, error) {
	return s.purgePending(ctx)
}
