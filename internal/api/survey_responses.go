package api

import (
	"encoding/csv"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/segment"
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

// responseFilter is what a survey's results, responses and export are
// filtered by: when the responses were started (from, to), the
// respondent's segment (segment) and the NPS answer's group (nps_group).
type responseFilter struct {
	query store.ResponseQuery // From, To and NPS
	among segment.Node        // nil: every respondent
}

// responseFilter reads the filters of a request.
func (a *API) responseFilter(r *http.Request, site store.Site) (responseFilter, error) {
	var f responseFilter
	var err error
	if f.query.From, f.query.To, err = period(r); err != nil {
		return f, err
	}
	if g := r.URL.Query().Get("nps_group"); g != "" {
		lo, hi, ok := survey.GroupRange(g)
		if !ok {
			return f, apierr.Invalid("invalid_parameter", "nps_group", "nps_group must be promoter, passive or detractor, not %q", g)
		}
		f.query.NPS = &[2]int{lo, hi}
	}
	if id := r.URL.Query().Get("segment"); id != "" {
		s, err := a.store.Segment(r.Context(), site.ID, id)
		if err != nil {
			return f, apierr.Invalid("unknown_segment", "segment", "no saved segment %q", id)
		}
		if f.among, err = a.segments.Saved(r.Context(), site.ID, s); err != nil {
			return f, segmentError(err)
		}
	} else if text := r.URL.Query().Get("segment_text"); text != "" {
		// A segment written out: an experiment's variant, a comparison's
		// row.
		if f.among, err = a.prepare(r.Context(), site, segmentBody{Text: text}, ""); err != nil {
			var e *apierr.Error
			if errors.As(err, &e) && e.Field == "definition" {
				e.Field = "segment_text"
			}
			return f, err
		}
	}
	return f, nil
}

// filteredResponses reads a page of a survey's responses matching q and
// f's segment, with their respondents' attributes; more is where the next
// page starts, nil at the end.
func (a *API) filteredResponses(r *http.Request, site store.Site, sv survey.Survey, q store.ResponseQuery, f responseFilter, attrs []string) ([]responseJSON, *store.SurveyResponse, error) {
	rs, more, err := a.survey.surveys.Responses(r.Context(), sv, q, f.among)
	if err != nil {
		return nil, nil, err
	}
	page, err := a.decorateResponses(r, site, sv, rs, attrs)
	return page, more, err
}

// decorateResponses adds the respondents' key attributes and recordings
// to responses.
func (a *API) decorateResponses(r *http.Request, site store.Site, sv survey.Survey, rs []store.SurveyResponse, attrs []string) ([]responseJSON, error) {
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

// surveyResponses answers GET .../responses?limit&cursor, filtered as
// the results are (from, to, segment, nps_group).
func (a *API) surveyResponses(w http.ResponseWriter, r *http.Request, site store.Site) error {
	sv, err := a.survey.surveys.Get(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	f, err := a.responseFilter(r, site)
	if err != nil {
		return err
	}
	q := f.query
	if q.Limit, err = intParam(r, "limit", 100, 1000); err != nil {
		return err
	}
	if q.Before, q.BeforeID, err = cursor(r); err != nil {
		return err
	}
	attrs, err := a.keyAttributes(r, site)
	if err != nil {
		return err
	}
	page, more, err := a.filteredResponses(r, site, sv, q, f, attrs)
	if err != nil {
		return err
	}
	next := ""
	if more != nil {
		next = makeCursor(more.CreatedAt, more.ResponseID)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"responses": page, "next_cursor": next})
	return nil
}

// responseFields are the columns of a response export that are the
// response's own, before its questions (by ID) and the attributes.
var responseFields = []string{"response_id", "created_at", "completed_at", "completed", "user_id", "anonymous_id",
	"session_id", "url", "nps"}

// surveyResponsesCSV streams every response as CSV: the response's fields,
// one column per question (options of a multiple-choice answer joined with
// "; "), then the respondent's key attributes; or the columns of
// ?columns=, among those and the user attributes. The filters of the
// results (from, to, segment, nps_group) apply.
func (a *API) surveyResponsesCSV(w http.ResponseWriter, r *http.Request, site store.Site) error {
	sv, err := a.survey.surveys.Get(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	f, err := a.responseFilter(r, site)
	if err != nil {
		return err
	}
	keyAttrs, err := a.keyAttributes(r, site)
	if err != nil {
		return err
	}
	fields := slices.Clone(responseFields)
	for _, qn := range sv.Definition.Questions {
		if !slices.Contains(fields, qn.ID) {
			fields = append(fields, qn.ID)
		}
	}
	set, err := a.newExportColumns(r, site, fields)
	if err != nil {
		return err
	}
	cols, err := set.choose(r, append(slices.Clone(fields), keyAttrs...))
	if err != nil {
		return err
	}
	attrs := set.attributes(cols)
	const pageSize = 5000
	q := f.query
	q.Limit = pageSize
	page, more, err := a.filteredResponses(r, site, sv, q, f, attrs)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="survey-`+sv.ID+`-responses.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write(cols)
	for {
		for _, x := range page {
			cw.Write(responseRow(x, cols, set))
		}
		if more == nil {
			break
		}
		q.Before, q.BeforeID = more.CreatedAt, more.ResponseID
		// The header is sent: a failure now can only cut the file short.
		if page, more, err = a.filteredResponses(r, site, sv, q, f, attrs); err != nil {
			a.log.Error("response export cut short", "survey", sv.ID, "err", err)
			break
		}
	}
	cw.Flush()
	return nil
}

// responseRow is a response's CSV row of cols.
func responseRow(x responseJSON, cols []string, set exportColumns) []string {
	row := make([]string, len(cols))
	for i, c := range cols {
		switch c {
		case "response_id":
			row[i] = x.ResponseID
		case "created_at":
			row[i] = x.CreatedAt.Format(time.RFC3339)
		case "completed_at":
			if x.CompletedAt != nil {
				row[i] = x.CompletedAt.Format(time.RFC3339)
			}
		case "completed":
			row[i] = strconv.FormatBool(x.Completed)
		case "user_id":
			row[i] = x.UserID
		case "anonymous_id":
			row[i] = x.AnonymousID
		case "session_id":
			row[i] = x.SessionID
		case "url":
			row[i] = x.URL
		case "nps":
			if x.NPS != nil {
				row[i] = strconv.Itoa(*x.NPS)
			}
		default:
			if set.isField(c) {
				row[i] = answerText(x.Answers[c])
			} else if v, ok := x.Attributes[c]; ok {
				row[i] = attrText(v)
			}
		}
	}
	return row
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
