package recording

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// A heatmap's background is a full snapshot of its page (docs/heatmaps.md,
// "Backgrounds"). Sessions that are recorded have them; for pages that no
// recording shows, the tracker captures one in a session that is not
// recorded and posts it to POST /t/bg?k=WRITE_KEY as a chunk of two rrweb
// events, the page's Meta and its FullSnapshot, taken with the recorder's
// privacy rules. It is stored as a recording of its own, so that it is
// kept, expired, erased with its visitor and deleted with its site as
// recordings are; lists of recordings leave it out.

// BackgroundPrefix starts the browser session of a recording that holds
// captured backgrounds: store.RecordingQuery.Backgrounds lists them, and
// chunks sent to /t/rec may not use it.
const BackgroundPrefix = "bg-"

// BackgroundCheck decides whether the background of the page at href,
// width px wide, is wanted; an error (an *apierr.Error) refuses it.
type BackgroundCheck func(ctx context.Context, site int64, href string, width int) error

// BackgroundHandler returns the handler of POST /t/bg?k=WRITE_KEY, for a
// site whose key the caller has checked and whose body it has paced: the
// chunk is read as a recording chunk is, checked to hold one page's
// background that check wants, and stored in the visitor's background
// recording (its session's ID after BackgroundPrefix).
func (s *Service) BackgroundHandler(check BackgroundCheck) func(w http.ResponseWriter, r *http.Request, site store.Site) {
	return func(w http.ResponseWriter, r *http.Request, site store.Site) {
		res, err := s.upload(w, r, site, check)
		if err != nil {
			s.chunks.WithLabelValues(refusal(err)).Inc()
			apierr.Write(w, s.log, err)
			return
		}
		apierr.WriteJSON(w, http.StatusOK, res)
	}
}

// background checks that a chunk is one page's background, and returns
// its page's address and width.
func background(c Chunk) (string, int, error) {
	var evs []struct {
		Type float64 `json:"type"`
		Data struct {
			Href  string  `json:"href"`
			Width float64 `json:"width"`
			Node  *struct {
				Type float64 `json:"type"`
			} `json:"node"`
		} `json:"data"`
	}
	if err := json.Unmarshal(c.Events, &evs); err != nil {
		return "", 0, apierr.Invalid("invalid_event", "events", "events must be rrweb events: %v", err)
	}
	if len(evs) != 2 || evs[0].Type != rrwebMeta || evs[1].Type != rrwebFullSnapshot || evs[1].Data.Node == nil {
		return "", 0, apierr.Invalid("invalid_field", "events", "a background is two rrweb events: the page's Meta, then its FullSnapshot")
	}
	m := evs[0].Data
	if m.Href == "" || m.Width < 1 || m.Width > 100_000 || m.Width != float64(int(m.Width)) {
		return "", 0, apierr.Invalid("invalid_field", "events[0].data", "the Meta event needs the page's href and its width in px")
	}
	return m.Href, int(m.Width), nil
}

// EventsJSON returns a recording's events as one JSON array, refused with
// 413 recording_too_large beyond max bytes.
func (s *Service) EventsJSON(ctx context.Context, site int64, id string, max int) ([]byte, error) {
	ev, err := s.OpenEvents(ctx, site, id)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := ev.WriteTo(&limitWriter{w: &buf, n: max}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// limitWriter fails once more than n bytes were written.
type limitWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.w.Len()+len(p) > l.n {
		return 0, &apierr.Error{Status: http.StatusRequestEntityTooLarge, Code: "recording_too_large",
			Message: "the recording is too large to take a page snapshot from"}
	}
	return l.w.Write(p)
}

// isBackground reports whether a browser session names a background
// recording.
func isBackground(session string) bool { return strings.HasPrefix(session, BackgroundPrefix) }
