package feedback

import (
	"log/slog"
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/ingest"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
	"github.com/sightline/sightline/internal/tracker"
)

// Browser serves the tracker's feedback endpoint.
type Browser struct {
	svc    *Service
	events survey.EventSender
	log    *slog.Logger
}

// NewBrowser returns the tracker-facing feedback endpoint.
func NewBrowser(svc *Service, events survey.EventSender, log *slog.Logger) *Browser {
	return &Browser{svc: svc, events: events, log: log}
}

// Endpoints lists the endpoints for tracker.Config.Endpoints.
func (b *Browser) Endpoints() map[string]tracker.SiteHandler {
	return map[string]tracker.SiteHandler{"POST /t/feedback": b.add}
}

// add answers POST /t/feedback: it stores the feedback and records a
// $feedback event in the user's events, and answers once both are durable.
func (b *Browser) add(w http.ResponseWriter, r *http.Request, site store.Site) {
	var in Input
	err := survey.ReadJSON(r, &in)
	var f store.FeedbackItem
	if err == nil {
		f, err = b.svc.Add(r.Context(), site.ID, in)
	}
	if err == nil {
		err = b.events.TrackForBrowser(r, site, ingest.BrowserEvent{AnonymousID: f.AnonymousID, UserID: f.UserID,
			Name: "$feedback", MessageID: "fbk-" + f.ID, URL: f.URL,
			Properties: map[string]any{"feedback_id": f.ID, "rating": f.Rating, "selector": f.Selector}})
	}
	if err != nil {
		if es, ok := survey.AsErrors(err); ok {
			err = &apierr.Error{Status: http.StatusBadRequest, Code: es[0].Code, Field: es[0].Field, Message: es[0].Message, Details: es}
		}
		apierr.Write(w, b.log, err)
		return
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"success": true, "id": f.ID})
}
