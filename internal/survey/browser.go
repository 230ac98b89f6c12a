package survey

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/sightline/sightline/internal/admit"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/ingest"
	"github.com/sightline/sightline/internal/jsoncheck"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/tracker"
)

// EventSender records events on a visitor's behalf; *ingest.Handler is one.
type EventSender interface {
	TrackForBrowser(r *http.Request, site store.Site, evs ...ingest.BrowserEvent) error
}

// Browser serves the tracker's survey endpoints. The tracker checks the
// write key and the page's origin before they run.
type Browser struct {
	svc    *Service
	events EventSender
	log    *slog.Logger
}

// NewBrowser returns the tracker-facing survey endpoints.
func NewBrowser(svc *Service, events EventSender, log *slog.Logger) *Browser {
	return &Browser{svc: svc, events: events, log: log}
}

// Endpoints lists the endpoints for tracker.Config.Endpoints.
func (b *Browser) Endpoints() map[string]tracker.SiteHandler {
	return map[string]tracker.SiteHandler{
		"GET /t/surveys":         b.offers,
		"POST /t/survey":         b.respond,
		"POST /t/survey/dismiss": b.dismiss,
	}
}

// MaxBodyBytes bounds a tracker request's body: every question answered
// with the longest text fits.
const MaxBodyBytes = 512 << 10

// ReadJSON decodes a tracker request's JSON body (sent as text/plain, so
// the browser needs no preflight) within MaxBodyBytes and the time limits
// the tracker paced it with.
func ReadJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.Is(err, admit.ErrBodyTimeout) {
		return admit.ErrBodyTimeout
	}
	if errors.As(err, &tooBig) {
		return &apierr.Error{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large",
			Message: "the body exceeds " + strconv.Itoa(MaxBodyBytes) + " bytes"}
	}
	if err != nil {
		return apierr.Invalid("malformed_body", "", "the body could not be read: %v", err)
	}
	if p := jsoncheck.Check(body, maxDepth); p != nil {
		return apierr.Invalid(p.Code, p.Field, "%s", p.Message)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return apierr.Invalid("malformed_json", jsonField(err), "the body is not the expected JSON object: %v", err)
	}
	return nil
}

// maxDepth bounds the nesting of a tracker request's JSON: answers are at
// most a list in an object in the body.
const maxDepth = 8

func (b *Browser) fail(w http.ResponseWriter, err error) {
	if es, ok := AsErrors(err); ok {
		// The message is the first problem; details list them all once.
		err = &apierr.Error{Status: http.StatusBadRequest, Code: es[0].Code, Field: es[0].Field, Message: es[0].Message, Details: es}
	}
	apierr.Write(w, b.log, err)
}

// offers answers GET /t/surveys?k=KEY&a=ANON&u=USER&url=URL&device=D.
func (b *Browser) offers(w http.ResponseWriter, r *http.Request, site store.Site) {
	q := r.URL.Query()
	v := Visitor{AnonymousID: q.Get("a"), UserID: q.Get("u"), URL: q.Get("url"), Device: q.Get("device")}
	if err := CheckVisitor(v.AnonymousID, v.UserID, "", v.URL); err != nil {
		if es, _ := AsErrors(err); es[0].Field == "anonymousId" {
			es[0].Field = "a" // named as the parameter
			err = es
		}
		b.fail(w, err)
		return
	}
	switch v.Device {
	case "", "desktop", "mobile", "tablet":
	default:
		b.fail(w, apierr.Invalid("invalid_parameter", "device", "device must be desktop, mobile or tablet"))
		return
	}
	offers, err := b.svc.Offers(r.Context(), site.ID, v)
	if err != nil {
		b.fail(w, err)
		return
	}
	apierr.WriteJSON(w, http.StatusOK, offers)
}

// respond answers POST /t/survey: it stores the response, then records a
// $survey_response event in the user's events, and answers once both are
// durable. A retry stores nothing twice: the response is upserted and the
// event's message ID is derived from what it says.
func (b *Browser) respond(w http.ResponseWriter, r *http.Request, site store.Site) {
	var in ResponseInput
	if err := ReadJSON(r, &in); err != nil {
		b.fail(w, err)
		return
	}
	rec, err := b.svc.Respond(r.Context(), site.ID, in)
	if err != nil {
		b.fail(w, err)
		return
	}
	if err := b.events.TrackForBrowser(r, site, responseEvent(rec, in.URL)); err != nil {
		b.fail(w, err)
		return
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"success": true, "response": rec.Response.ResponseID,
		"completed": rec.Response.Completed})
}

// responseEvent is the $survey_response event of a stored response.
func responseEvent(rec Recorded, url string) ingest.BrowserEvent {
	r := rec.Response
	id, props := ResponseEvent(rec.Survey, r, rec.Answers)
	return ingest.BrowserEvent{AnonymousID: r.AnonymousID, UserID: r.UserID, Name: "$survey_response",
		MessageID: id, URL: url, Properties: props}
}

// dismiss answers POST /t/survey/dismiss.
func (b *Browser) dismiss(w http.ResponseWriter, r *http.Request, site store.Site) {
	var in DismissInput
	if err := ReadJSON(r, &in); err != nil {
		b.fail(w, err)
		return
	}
	sv, err := b.svc.Dismiss(r.Context(), site.ID, in)
	if err != nil {
		b.fail(w, err)
		return
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"success": true, "survey": sv.ID})
}
