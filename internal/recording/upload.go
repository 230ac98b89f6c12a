package recording

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/admit"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/scrub"
	"github.com/sightline/sightline/internal/store"
)

// The upload endpoint, POST /t/rec?k=WRITE_KEY, is registered by the
// tracker's handler, which checks the key and the page's origin as for
// batches. The body is one chunk, JSON, sent as text/plain (no preflight)
// and gzip-compressed when the browser can (flagged by &z=gzip, or by
// Content-Encoding: gzip).

// Result is the answer to a stored chunk.
type Result struct {
	Success bool `json:"success"`
	// Duplicate is set when the chunk was stored before: the first copy
	// stays.
	Duplicate bool `json:"duplicate"`
}

// ServeRecordingChunk stores one chunk for a site whose key the caller has
// checked and whose body it has paced (admit.BodyLimits), and answers 200
// once the chunk's blob and index row are durable.
func (s *Service) ServeRecordingChunk(w http.ResponseWriter, r *http.Request, site store.Site) {
	res, err := s.upload(w, r, site, nil)
	if err != nil {
		s.chunks.WithLabelValues(refusal(err)).Inc()
		apierr.Write(w, s.log, err)
		return
	}
	apierr.WriteJSON(w, http.StatusOK, res)
}

// upload stores the chunk in r's body: a session's, or with bg a
// background (BackgroundHandler).
func (s *Service) upload(w http.ResponseWriter, r *http.Request, site store.Site, bg BackgroundCheck) (Result, error) {
	client := admit.Client(r, s.trustProxy)
	in, err := s.receiving.Acquire(client)
	if err != nil {
		admit.DropBody(w, r)
		return Result{}, err
	}
	received := false // whether in is released
	defer func() {
		if !received {
			in.Release()
		}
	}()
	receivedAt := s.now()
	st, err := s.Settings(r.Context(), site.ID)
	if err != nil {
		return Result{}, err
	}
	if !st.Enabled {
		admit.DropBody(w, r)
		return Result{}, &apierr.Error{Status: http.StatusForbidden, Code: "recording_disabled",
			Message: "session recording is turned off for this site"}
	}
	// The body as sent arrives holding a place among the uploads being
	// received; only then is a slot taken to decompress, check and store
	// it, so that slow senders never hold the slots.
	raw := bufPool.Get().(*bytes.Buffer)
	defer putBuf(raw)
	gz, err := s.readRaw(r, raw)
	in.Release()
	received = true
	if err != nil {
		return Result{}, err
	}
	slot, err := s.gate.Acquire(client)
	if err != nil {
		return Result{}, err
	}
	defer slot.Release()
	buf := raw
	if gz {
		buf = bufPool.Get().(*bytes.Buffer)
		defer putBuf(buf)
		if err := s.gunzip(raw, buf); err != nil {
			return Result{}, err
		}
	}
	c, err := parseChunk(buf.Bytes(), receivedAt)
	if err != nil {
		return Result{}, err
	}
	scrubChunk(&c, scrub.New(site.KeepParams, site.ScrubParams))
	if bg == nil && isBackground(c.Recording) {
		return Result{}, apierr.Invalid("invalid_field", "recording", "recording may not start with %q: it names backgrounds",
			BackgroundPrefix)
	}
	if bg != nil {
		href, width, err := background(c)
		if err != nil {
			return Result{}, err
		}
		if err := bg(r.Context(), site.ID, href, width); err != nil {
			return Result{}, err
		}
		c.Recording = BackgroundPrefix + c.Recording
	}
	dup, err := s.Accept(r.Context(), site.ID, st, c, receivedAt)
	if err != nil {
		return Result{}, err
	}
	return Result{Success: true, Duplicate: dup}, nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBuf returns a buffer to the pool unless it grew beyond an ordinary
// chunk, so that one huge chunk does not pin its memory.
func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		b.Reset()
		bufPool.Put(b)
	}
}

// readRaw reads the chunk as sent into buf, within the size limit of its
// form, and tells whether it is gzip-compressed.
func (s *Service) readRaw(r *http.Request, buf *bytes.Buffer) (gz bool, err error) {
	z := r.URL.Query().Get("z")
	if z != "" && z != "gzip" {
		return false, apierr.Invalid("invalid_parameter", "z", "z is gzip (for a gzip-compressed body) or absent")
	}
	gz = z == "gzip" || strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip")
	limit := s.limits.MaxRawBytes
	if gz {
		limit = s.limits.MaxChunkBytes
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, limit)); err != nil {
		return gz, wireError(err, s.limits)
	}
	if !gz && int64(buf.Len()) > s.limits.MaxRawBytes {
		return gz, tooLarge("the chunk is over %d bytes; send smaller chunks", s.limits.MaxRawBytes)
	}
	return gz, nil
}

// gunzip decompresses a chunk into buf: a decompression bomb stops at
// MaxRawBytes.
func (s *Service) gunzip(raw, buf *bytes.Buffer) error {
	zr, err := gzip.NewReader(bytes.NewReader(raw.Bytes()))
	if err != nil {
		return wireError(err, s.limits)
	}
	defer zr.Close()
	if _, err := buf.ReadFrom(io.LimitReader(zr, s.limits.MaxRawBytes+1)); err != nil {
		return wireError(err, s.limits)
	}
	if int64(buf.Len()) > s.limits.MaxRawBytes {
		return tooLarge("the chunk decompresses to more than %d bytes; send smaller chunks", s.limits.MaxRawBytes)
	}
	return nil
}

// wireError explains a failure to read the body.
func wireError(err error, l Limits) error {
	var mb *http.MaxBytesError
	switch {
	case errors.Is(err, admit.ErrBodyTimeout):
		return admit.ErrBodyTimeout
	case errors.As(err, &mb):
		return tooLarge("the chunk is over %d bytes as sent (%d gzip-compressed, %d as plain JSON); send smaller chunks",
			mb.Limit, l.MaxChunkBytes, l.MaxRawBytes)
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.Is(err, io.ErrUnexpectedEOF):
		return apierr.Invalid("malformed_gzip", "body", "the body is flagged gzip but is not valid gzip: %v", err)
	}
	return apierr.Invalid("unreadable_body", "body", "the body could not be read: %v", err)
}

// Accept stores a validated chunk of a site with the given settings:
// admits its recording (refused with 429 quota_exceeded when a new
// recording would pass the daily quota), stores the compressed blob, then
// indexes it. It reports a chunk stored before as a duplicate and keeps
// the first copy. When it returns nil, blob and index are durable.
func (s *Service) Accept(ctx context.Context, site int64, st store.RecordingSettings, c Chunk, receivedAt time.Time) (duplicate bool, err error) {
	unlock := s.lock(site, c.AnonymousID, c.Recording)
	defer unlock()
	rec, _, err := s.store.StartRecording(ctx, store.RecordingStart{SiteID: site, BrowserSession: c.Recording,
		AnonymousID: c.AnonymousID, At: receivedAt}, st.DailyQuota)
	if errors.Is(err, store.ErrQuota) {
		s.mu.Lock()
		s.quotaFull[site] = day(receivedAt)
		s.mu.Unlock()
		return false, &apierr.Error{Status: http.StatusTooManyRequests, Code: "quota_exceeded",
			Message: "the site's daily recording quota is used up; new recordings start again tomorrow (UTC)"}
	}
	if err != nil {
		return false, err
	}
	if has, err := s.store.HasRecordingChunk(ctx, rec.ID, c.Seq); err != nil || has {
		if has {
			s.chunks.WithLabelValues("duplicate").Inc()
		}
		return has, err
	}
	zbuf := bufPool.Get().(*bytes.Buffer)
	defer putBuf(zbuf)
	stored := s.enc.EncodeAll(c.Events, zbuf.AvailableBuffer())
	key := blobKey(site, rec.ID, c.Seq)
	if err := s.blobs.Put(ctx, key, stored); err != nil {
		return false, err
	}
	added, err := s.store.AddRecordingChunk(ctx, site, store.RecordingChunk{RecordingID: rec.ID, Seq: c.Seq,
		Start: c.Start, End: c.End, Events: c.EventCount, BytesStored: int64(len(stored)),
		BytesRaw: int64(len(c.Events)), UserID: c.UserID, Pages: c.Pages}, receivedAt)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted while this chunk was being stored: its blob must go too.
		if derr := s.blobs.Delete(ctx, key); derr != nil {
			s.log.Warn("delete the blob of a chunk whose recording was deleted", "key", key, "err", derr)
		}
		return false, &apierr.Error{Status: http.StatusConflict, Code: "recording_deleted",
			Message: "the recording was deleted while this chunk was stored"}
	}
	if err != nil {
		return false, err
	}
	if !added {
		s.chunks.WithLabelValues("duplicate").Inc()
		return true, nil
	}
	s.chunks.WithLabelValues("stored").Inc()
	s.bytes.WithLabelValues("raw").Add(float64(len(c.Events)))
	s.bytes.WithLabelValues("stored").Add(float64(len(stored)))
	return false, nil
}

// scrubChunk removes the secrets of the page URLs a chunk shows: its
// pages and its Meta events' href (the URL the player shows).
func scrubChunk(c *Chunk, r scrub.Rules) {
	c.Events = r.RecordingEvents(c.Events)
	seen := map[string]bool{}
	pages := c.Pages[:0]
	for _, p := range c.Pages {
		if p = r.URL(p); !seen[p] {
			seen[p] = true
			pages = append(pages, p)
		}
	}
	c.Pages = pages
}
