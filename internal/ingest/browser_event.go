package ingest

import (
	"net/http"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/scrub"
	"github.com/sightline/sightline/internal/store"
)

// BrowserEvent is a track event the server records on a visitor's behalf
// from one of the tracker's requests, such as $survey_response when the
// visitor answers a survey.
type BrowserEvent struct {
	AnonymousID string
	UserID      string
	Name        string
	// MessageID makes a retried request store the event once.
	MessageID  string
	URL        string
	Properties map[string]any
}

// TrackForBrowser stores events for site as if the browser had sent them
// in a batch: the same validation, enrichment (the request's User-Agent
// and address) and pipeline. It returns once they are durable.
func (h *Handler) TrackForBrowser(r *http.Request, site store.Site, evs ...BrowserEvent) error {
	req := request{site: site.ID, receivedAt: h.cfg.Now().UTC(), remoteAddr: r.RemoteAddr,
		xff: r.Header.Get("X-Forwarded-For"), scrub: scrub.New(site.KeepParams, site.ScrubParams)}
	req.context.UserAgent = strings.ToValidUTF8(r.UserAgent(), "\uFFFD")
	msgs := make([]store.Message, 0, len(evs))
	for _, ev := range evs {
		w := map[string]any{"type": "track", "event": ev.Name, "anonymousId": ev.AnonymousID,
			"messageId": ev.MessageID, "properties": ev.Properties,
			"context": map[string]any{"page": map[string]string{"url": ev.URL}}}
		if ev.UserID != "" {
			w["userId"] = ev.UserID
		}
		raw, err := json.Marshal(w)
		if err != nil {
			return err
		}
		m, ferr := h.norm.normalize(raw, store.KindTrack, req)
		if ferr != nil {
			return apierr.Invalid(ferr.Code, ferr.Field, "%s", ferr.Message)
		}
		msgs = append(msgs, m)
	}
	if _, err := h.cfg.Pipeline.Submit(r.Context(), msgs); err != nil {
		return h.submitError(err)
	}
	for _, m := range msgs {
		h.cfg.Metrics.Accepted.WithLabelValues(m.Kind.String()).Inc()
	}
	return nil
}
