package api

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
)

// responseJSON is a response as the API shows it, with what the recordings
// feature needs to find the visit: the browser's session ID and the times.
type responseJSON struct {
	ResponseID  string              `json:"response_id"`
	UserID      string              `json:"user_id"`
	AnonymousID string              `json:"anonymous_id"`
	UserKey     int64               `json:"user_key"`
	Attributes  map[string]attrJSON `json:"attributes"`
	Answers     survey.Answers      `json:"answers"`
	NPS         *int                `json:"nps"`
	Completed   bool                `json:"completed"`
	SessionID   string              `json:"session_id"`
	RecordingID string              `json:"recording_id,omitempty"` // the recording playing when it was given, if any
	// HasRecordings tells whether the user has any recording, so that no
	// link leads to an empty list.
	HasRecordings bool       `json:"has_recordings"`
	URL           string     `json:"url"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	CompletedAt   *time.Time `json:"completed_at"`
}

// attributesOf reads the named attributes of the users with these keys.
func (a *API) attributesOf(r *http.Request, site store.Site, keys []int64, names []string) (map[int64][]store.AttrState, error) {
	var known []int64
	for _, k := range keys {
		if k != 0 {
			known = append(known, k)
		}
	}
	if len(known) == 0 || len(names) == 0 {
		return map[int64][]store.AttrState{}, nil
	}
	return a.survey.store.CurrentAttributes(r.Context(), site.ID, known, names)
}

// responsesPage reads a page of a survey's responses with their
// respondents' key attributes.
func (a *API) responsesPage(r *http.Request, site store.Site, sv survey.Survey, q store.ResponseQuery, attrs []string) ([]responseJSON, error) {
	rs, err := a.survey.store.Responses(r.Context(), site.ID, sv.ID, q)
	if err != nil {
		return nil, err
	}
	keys := make([]int64, len(rs))
	for i, x := range rs {
		keys[i] = x.UserKey
	}
	byKey, err := a.attributesOf(r, site, keys, attrs)
	if err != nil {
		return nil, err
	}
	moments := make([]store.SessionMoment, len(rs))
	for i, x := range rs {
		moments[i] = store.SessionMoment{Session: x.SessionID, At: x.CreatedAt}
	}
	recs, hasRecs, err := a.recordingLinks(r, site, moments, keys)
	if err != nil {
		return nil, err
	}
	out := make([]responseJSON, 0, len(rs))
	for i, x := range rs {
		j := responseJSON{ResponseID: x.ResponseID, UserID: x.UserID, AnonymousID: x.AnonymousID, UserKey: x.UserKey,
			Attributes: attrsJSON(byKey[x.UserKey]), Answers: sv.Definition.DecodeAnswers(x), NPS: x.NPS,
			Completed: x.Completed, SessionID: x.SessionID, RecordingID: recs[i], HasRecordings: hasRecs[x.UserKey], URL: x.URL,
			CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt}
		if x.Completed {
			t := x.CompletedAt
			j.CompletedAt = &t
		}
		out = append(out, j)
	}
	return out, nil
}

func (a *API) surveyResponses(w http.ResponseWriter, r *http.Request, site store.Site) error {
	sv, err := a.survey.surveys.Get(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	q := store.ResponseQuery{}
	if q.Limit, err = intParam(r, "limit", 100, 1000); err != nil {
		return err
	}
	if q.Before, q.BeforeID, err = cursor(r); err != nil {
		return err
	}
	if q.From, q.To, err = period(r); err != nil {
		return err
	}
	attrs, err := a.keyAttributes(r, site)
	if err != nil {
		return err
	}
	page, err := a.responsesPage(r, site, sv, q, attrs)
	if err != nil {
		return err
	}
	next := ""
	if len(page) == q.Limit {
		last := page[len(page)-1]
		next = makeCursor(last.CreatedAt, last.ResponseID)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"responses": page, "next_cursor": next})
	return nil
}

// surveyResponsesCSV streams every response as CSV: the response's fields,
// one column per question (options of a multiple-choice answer joined with
// "; "), then the respondent's key attributes.
func (a *API) surveyResponsesCSV(w http.ResponseWriter, r *http.Request, site store.Site) error {
	sv, err := a.survey.surveys.Get(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	from, to, err := period(r)
	if err != nil {
		return err
	}
	attrs, err := a.keyAttributes(r, site)
	if err != nil {
		return err
	}
	const pageSize = 5000
	q := store.ResponseQuery{From: from, To: to, Limit: pageSize}
	page, err := a.responsesPage(r, site, sv, q, attrs)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="survey-`+sv.ID+`-responses.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	header := []string{"response_id", "created_at", "completed_at", "completed", "user_id", "anonymous_id", "session_id", "url", "nps"}
	for _, qn := range sv.Definition.Questions {
		header = append(header, qn.ID)
	}
	cw.Write(append(header, attrs...))
	for {
		for _, x := range page {
			row := []string{x.ResponseID, x.CreatedAt.Format(time.RFC3339), "", strconv.FormatBool(x.Completed),
				x.UserID, x.AnonymousID, x.SessionID, x.URL, ""}
			if x.CompletedAt != nil {
				row[2] = x.CompletedAt.Format(time.RFC3339)
			}
			if x.NPS != nil {
				row[8] = strconv.Itoa(*x.NPS)
			}
			for _, qn := range sv.Definition.Questions {
				row = append(row, answerText(x.Answers[qn.ID]))
			}
			for _, k := range attrs {
				cell := ""
				if v, ok := x.Attributes[k]; ok {
					cell = attrText(v)
				}
				row = append(row, cell)
			}
			cw.Write(row)
		}
		if len(page) < pageSize {
			break
		}
		last := page[len(page)-1]
		q.Before, q.BeforeID = last.CreatedAt, last.ResponseID
		// The header is sent: a failure now can only cut the file short.
		if page, err = a.responsesPage(r, site, sv, q, attrs); err != nil {
			a.log.Error("response export cut short", "survey", sv.ID, "err", err)
			break
		}
	}
	cw.Flush()
	return nil
}

func answerText(v any) string {
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v)
	case string:
		return v
	case []string:
		return strings.Join(v, "; ")
	}
	return ""
}

// attrText is an attribute's value as a CSV cell (datetimes are already
// RFC 3339 text).
func attrText(a attrJSON) string {
	switch v := a.Value.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return "" // null
}

// recordingLinks finds the recording playing at each moment and which of
// the users have any recording at all.
func (a *API) recordingLinks(r *http.Request, site store.Site, moments []store.SessionMoment, keys []int64) ([]string, map[int64]bool, error) {
	recs, err := a.survey.store.RecordingsAt(r.Context(), site.ID, moments)
	if err != nil {
		return nil, nil, err
	}
	has, err := a.survey.store.UsersWithRecordings(r.Context(), site.ID, keys)
	if err != nil {
		return nil, nil, err
	}
	return recs, has, nil
}
