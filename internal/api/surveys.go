package api

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
)

// SurveyStore is what the survey and feedback endpoints read directly:
// analytical data (feedback's settings go through the feedback service).
type SurveyStore interface {
	store.SurveyResponses
	store.FeedbackItems
	CurrentAttributes(ctx context.Context, site int64, keys []int64, names []string) (map[int64][]store.AttrState, error)
	// RecordingsAt gives, for each moment of a browser session, the
	// recording that was playing then ("" when none was).
	RecordingsAt(ctx context.Context, site int64, moments []store.SessionMoment) ([]string, error)
	// UsersWithRecordings tells which users have any recording.
	UsersWithRecordings(ctx context.Context, site int64, keys []int64) (map[int64]bool, error)
}

// surveyDeps are the survey and feedback endpoints' dependencies.
type surveyDeps struct {
	surveys  *survey.Service
	feedback *feedback.Service
	store    SurveyStore
}

// UseSurveys turns on the survey and feedback endpoints; call it before
// Register.
func (a *API) UseSurveys(sv *survey.Service, fb *feedback.Service, st SurveyStore) {
	a.survey = &surveyDeps{surveys: sv, feedback: fb, store: st}
}

func (a *API) registerSurveys(mux *http.ServeMux, p string) {
	if a.survey == nil {
		return
	}
	s := p + "/surveys"
	mux.Handle("GET "+s, a.auth(store.ScopeRead, a.listSurveys))
	mux.Handle("POST "+s, a.auth(store.ScopeWrite, a.createSurvey))
	mux.Handle("GET "+s+"/{id}", a.auth(store.ScopeRead, a.getSurvey))
	mux.Handle("PUT "+s+"/{id}", a.auth(store.ScopeWrite, a.updateSurvey))
	mux.Handle("DELETE "+s+"/{id}", a.auth(store.ScopeWrite, a.deleteSurvey))
	mux.Handle("POST "+s+"/{id}/status", a.auth(store.ScopeWrite, a.setSurveyStatus))
	mux.Handle("GET "+s+"/{id}/results", a.auth(store.ScopeRead, a.surveyResults))
	mux.Handle("GET "+s+"/{id}/responses", a.auth(store.ScopeRead, a.surveyResponses))
	mux.Handle("GET "+s+"/{id}/responses.csv", a.auth(store.ScopeRead, a.surveyResponsesCSV))
	mux.Handle("GET "+p+"/feedback-settings", a.auth(store.ScopeRead, a.getFeedbackSettings))
	mux.Handle("PUT "+p+"/feedback-settings", a.auth(store.ScopeAdmin, a.putFeedbackSettings))
	mux.Handle("GET "+p+"/feedback", a.auth(store.ScopeRead, a.listFeedback))
	mux.Handle("GET "+p+"/feedback/summary", a.auth(store.ScopeRead, a.feedbackSummary))
}

// validation turns a survey or feedback validation error into a 400 that
// names the first field and lists every problem.
func validation(err error) error {
	if es, ok := survey.AsErrors(err); ok {
		return &apierr.Error{Status: http.StatusBadRequest, Code: es[0].Code, Field: es[0].Field, Message: es[0].Message, Details: es}
	}
	return err
}

// surveyJSON is a survey as the API shows it.
type surveyJSON struct {
	ID         string            `json:"id"`
	Status     survey.Status     `json:"status"`
	Definition survey.Definition `json:"definition"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

func toSurveyJSON(s survey.Survey) surveyJSON {
	return surveyJSON{ID: s.ID, Status: s.Status, Definition: s.Definition, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// readBody reads a definition body (at most 1 MiB).
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return nil, &apierr.Error{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large",
			Message: "the body could not be read or exceeds 1 MiB"}
	}
	return b, nil
}

func (a *API) listSurveys(w http.ResponseWriter, r *http.Request, site store.Site) error {
	list, err := a.survey.surveys.List(r.Context(), site.ID)
	if err != nil {
		return err
	}
	out := make([]surveyJSON, 0, len(list))
	for _, s := range list {
		out = append(out, toSurveyJSON(s))
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"surveys": out})
	return nil
}

func (a *API) createSurvey(w http.ResponseWriter, r *http.Request, site store.Site) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	s, err := a.survey.surveys.Create(r.Context(), site.ID, body)
	if err != nil {
		return validation(err)
	}
	apierr.WriteJSON(w, http.StatusCreated, toSurveyJSON(s))
	return nil
}

func (a *API) getSurvey(w http.ResponseWriter, r *http.Request, site store.Site) error {
	s, err := a.survey.surveys.Get(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, toSurveyJSON(s))
	return nil
}

func (a *API) updateSurvey(w http.ResponseWriter, r *http.Request, site store.Site) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	s, err := a.survey.surveys.Update(r.Context(), site.ID, r.PathValue("id"), body)
	if err != nil {
		return validation(err)
	}
	apierr.WriteJSON(w, http.StatusOK, toSurveyJSON(s))
	return nil
}

func (a *API) deleteSurvey(w http.ResponseWriter, r *http.Request, site store.Site) error {
	if err := a.survey.surveys.Delete(r.Context(), site.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) setSurveyStatus(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var b struct {
		Status survey.Status `json:"status"`
	}
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	s, err := a.survey.surveys.SetStatus(r.Context(), site.ID, r.PathValue("id"), b.Status)
	if err != nil {
		return validation(err)
	}
	apierr.WriteJSON(w, http.StatusOK, toSurveyJSON(s))
	return nil
}

// timeParam reads an optional time parameter: a date (2026-03-01, the
// start of that day in UTC) or an RFC 3339 time.
func timeParam(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, apierr.Invalid("invalid_parameter", name, "%s must be a date (2026-03-01) or an RFC 3339 time", name)
}

// period reads from and to.
func period(r *http.Request) (from, to time.Time, err error) {
	if from, err = timeParam(r, "from"); err != nil {
		return
	}
	if to, err = timeParam(r, "to"); err != nil {
		return
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		err = apierr.Invalid("invalid_parameter", "to", "to must be after from")
	}
	return
}

// intervalParam reads interval: day or week (the default).
func intervalParam(r *http.Request) (string, error) {
	switch iv := r.URL.Query().Get("interval"); iv {
	case "":
		return "week", nil
	case "day", "week":
		return iv, nil
	}
	return "", apierr.Invalid("invalid_parameter", "interval", "interval must be day or week")
}

// cursor reads a page cursor, "UNIXMICRO.ID", as the previous page's
// next_cursor gave it.
func cursor(r *http.Request) (time.Time, string, error) {
	s := r.URL.Query().Get("cursor")
	if s == "" {
		return time.Time{}, "", nil
	}
	ts, id, ok := strings.Cut(s, ".")
	us, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", apierr.Invalid("invalid_parameter", "cursor", "cursor must be the next_cursor of a previous page")
	}
	return time.UnixMicro(us).UTC(), id, nil
}

func makeCursor(t time.Time, id string) string {
	return strconv.FormatInt(t.UnixMicro(), 10) + "." + id
}

// surveyResults answers GET .../results: the summary of the responses
// started from from to to, of the respondents in segment, whose NPS answer
// is in nps_group (each optional), broken down by segments.
func (a *API) surveyResults(w http.ResponseWriter, r *http.Request, site store.Site) error {
	sv, err := a.survey.surveys.Get(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	f, err := a.responseFilter(r, site)
	if err != nil {
		return err
	}
	q := survey.ResultsQuery{From: f.query.From, To: f.query.To, NPS: f.query.NPS, Among: f.among}
	if q.Interval, err = intervalParam(r); err != nil {
		return err
	}
	if ids := r.URL.Query().Get("segments"); ids != "" {
		for _, id := range strings.Split(ids, ",") {
			s, err := a.store.Segment(r.Context(), site.ID, strings.TrimSpace(id))
			if err != nil {
				return apierr.Invalid("unknown_segment", "segments", "no saved segment %q", id)
			}
			n, err := a.segments.Saved(r.Context(), site.ID, s)
			if err != nil {
				return segmentError(err)
			}
			q.Segments = append(q.Segments, survey.NamedSegment{ID: s.ID, Name: s.Name, Node: n})
		}
	}
	res, err := a.survey.surveys.Results(r.Context(), sv, q)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"survey": toSurveyJSON(sv), "results": res})
	return nil
}
