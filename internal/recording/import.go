package recording

import (
	"context"
	"fmt"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

// Importer indexes whole recordings at once; *duckstore.DB is one.
type Importer interface {
	ImportRecordings(ctx context.Context, recs []store.ImportedRecording) error
}

// ImportedRecording is a recording made elsewhere (the demo's): the
// browser session and visitor it belongs to, and its chunks.
type ImportedRecording struct {
	ID             string // set by Import: the new recording's ID
	BrowserSession string
	AnonymousID    string
	UserID         string
	Chunks         []ImportedChunk
}

// ImportedChunk is one chunk of an imported recording, as the recorder
// would upload it.
type ImportedChunk struct {
	Seq        int
	Start, End time.Time
	URL        string // the page it was sent from
	Events     []byte // the rrweb events, a JSON array
}

// importWorkers compress and store blobs at once: each Put waits for two
// fsyncs, which overlap.
const importWorkers = 4

// Import stores recordings made elsewhere as uploads store them: each
// chunk checked as an upload is, its events zstd-compressed into a blob
// under the same key, then the index rows of all of them in one
// transaction of idx. It is for bulk loads such as the demo's: no quota
// applies, and the site's settings are not consulted. On an error nothing
// is indexed and the blobs stored are removed.
func (s *Service) Import(ctx context.Context, idx Importer, site int64, recs []ImportedRecording) error {
	now := s.now()
	out := make([]store.ImportedRecording, len(recs))
	type job struct{ rec, chunk int }
	jobs := make(chan job)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for i := range recs {
		recs[i].ID = auth.NewID("rec_")
		r := &recs[i]
		out[i] = store.ImportedRecording{Recording: store.Recording{ID: r.ID, SiteID: site,
			BrowserSession: r.BrowserSession, AnonymousID: r.AnonymousID, UserID: r.UserID, CreatedAt: now},
			Chunks: make([]store.RecordingChunk, len(r.Chunks))}
		if len(r.Chunks) > 0 {
			out[i].CreatedAt = r.Chunks[0].Start
		}
	}
	for range importWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				c, err := s.importChunk(ctx, site, &recs[j.rec], recs[j.rec].Chunks[j.chunk], now)
				if err != nil {
					fail(err)
					continue
				}
				out[j.rec].Chunks[j.chunk] = c
			}
		}()
	}
	for i := range recs {
		for k := range recs[i].Chunks {
			jobs <- job{i, k}
		}
	}
	close(jobs)
	wg.Wait()
	err := firstErr
	if err == nil {
		err = idx.ImportRecordings(ctx, out)
	}
	if err != nil {
		for _, r := range recs {
			if derr := s.blobs.DeletePrefix(context.Background(), blobPrefix(site, r.ID)); derr != nil {
				s.log.Warn("remove the blobs of a failed import", "recording", r.ID, "err", derr)
			}
		}
		return fmt.Errorf("import recordings: %w", err)
	}
	return nil
}

// importChunk checks one chunk as an upload is checked and stores its
// blob.
func (s *Service) importChunk(ctx context.Context, site int64, r *ImportedRecording, ic ImportedChunk, now time.Time) (store.RecordingChunk, error) {
	seq, start, end := float64(ic.Seq), float64(ic.Start.UnixMilli()), float64(ic.End.UnixMilli())
	body, err := json.Marshal(wireChunk{Recording: r.BrowserSession, AnonymousID: r.AnonymousID, UserID: r.UserID,
		Seq: &seq, Start: &start, End: &end, URL: ic.URL, Events: ic.Events})
	if err != nil {
		return store.RecordingChunk{}, err
	}
	c, err := parseChunk(body, now)
	if err != nil {
		return store.RecordingChunk{}, fmt.Errorf("recording %s chunk %d: %w", r.ID, ic.Seq, err)
	}
	stored := s.enc.EncodeAll(c.Events, nil)
	if err := s.blobs.Put(ctx, blobKey(site, r.ID, c.Seq), stored); err != nil {
		return store.RecordingChunk{}, err
	}
	s.bytes.WithLabelValues("raw").Add(float64(len(c.Events)))
	s.bytes.WithLabelValues("stored").Add(float64(len(stored)))
	return store.RecordingChunk{RecordingID: r.ID, Seq: c.Seq, Start: c.Start, End: c.End, Events: c.EventCount,
		BytesStored: int64(len(stored)), BytesRaw: int64(len(c.Events)), UserID: c.UserID, Pages: c.Pages}, nil
}
