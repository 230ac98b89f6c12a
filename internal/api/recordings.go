package api

import (
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// Recordings is what the API needs of session recordings;
// *recording.Service is one.
type Recordings interface {
	List(ctx context.Context, site int64, q store.RecordingQuery) ([]store.RecordingRow, error)
	Get(ctx context.Context, site int64, id string, attrs []string) (store.RecordingRow, error)
	Timeline(ctx context.Context, site int64, r store.RecordingRow, limit int) ([]store.Event, error)
	OpenEvents(ctx context.Context, site int64, id string) (*recording.Events, error)
	EventsJSON(ctx context.Context, site int64, id string, max int) ([]byte, error)
	Delete(ctx context.Context, site int64, id string) error
	Settings(ctx context.Context, site int64) (store.RecordingSettings, error)
	SetSettings(ctx context.Context, site int64, c recording.SettingsChange) (store.RecordingSettings, error)
}

var _ Recordings = (*recording.Service)(nil)

// WithRecordings adds the recording endpoints, served by r.
func (a *API) WithRecordings(r Recordings) *API {
	a.recordings = r
	return a
}

func (a *API) registerRecordings(mux *http.ServeMux, p string) {
	mux.Handle("GET "+p+"/recordings", a.auth(store.ScopeRead, a.listRecordings))
	mux.Handle("GET "+p+"/recordings/{rec}", a.auth(store.ScopeRead, a.getRecording))
	mux.Handle("GET "+p+"/recordings/{rec}/events", a.auth(store.ScopeRead, a.recordingEvents))
	mux.Handle("DELETE "+p+"/recordings/{rec}", a.auth(store.ScopeWrite, a.deleteRecording))
	mux.Handle("GET "+p+"/recording-settings", a.auth(store.ScopeRead, a.getRecordingSettings))
	mux.Handle("PUT "+p+"/recording-settings", a.auth(store.ScopeAdmin, a.putRecordingSettings))
}

// recordingJSON is a recording as the API shows it.
type recordingJSON struct {
	ID              string              `json:"id"`
	User            string              `json:"user"` // the user ID, else the anonymous ID
	UserID          string              `json:"user_id"`
	AnonymousID     string              `json:"anonymous_id"`
	Attributes      map[string]attrJSON `json:"attributes"`
	StartedAt       time.Time           `json:"started_at"`
	EndedAt         time.Time           `json:"ended_at"`
	DurationSeconds float64             `json:"duration_seconds"`
	Pages           int                 `json:"pages"`
	FirstURL        string              `json:"first_url"`
	Device          string              `json:"device"`
	Browser         string              `json:"browser"`
	OS              string              `json:"os"`
	Country         string              `json:"country"`
	SessionID       int64               `json:"session_id,omitempty"`
	Signals         store.Signals       `json:"signals"`
	Frustration     int                 `json:"frustration"`
	Chunks          int                 `json:"chunks"`
	BytesStored     int64               `json:"bytes_stored"`
	BytesRaw        int64               `json:"bytes_raw"`
}

func recordingOut(r store.RecordingRow) recordingJSON {
	user := r.UserExtID
	if user == "" {
		user = r.AnonymousID
	}
	return recordingJSON{ID: r.ID, User: user, UserID: r.UserExtID, AnonymousID: r.AnonymousID,
		Attributes: attrsJSON(r.Attributes), StartedAt: r.StartedAt, EndedAt: r.EndedAt,
		DurationSeconds: r.EndedAt.Sub(r.StartedAt).Seconds(), Pages: r.Pages, FirstURL: r.FirstURL,
		Device: r.Device, Browser: r.Browser, OS: r.OS, Country: r.Country, SessionID: r.SessionID,
		Signals: r.Signals, Frustration: r.Signals.Frustration(), Chunks: r.Chunks,
		BytesStored: r.BytesStored, BytesRaw: r.BytesRaw}
}

// listRecordings answers GET /recordings: the site's recordings, filtered
// by a segment (saved: segment=ID; ad hoc: definition=JSON or text=TEXT)
// or one user (user=ID, kind=anonymous), and by session filters, sorted by
// date, duration or frustration, a page at a time.
func (a *API) listRecordings(w http.ResponseWriter, r *http.Request, site store.Site) error {
	q, err := a.recordingQuery(r, site)
	if err != nil {
		return err
	}
	// A segment filter runs in the list's query: bound it as the engine
	// bounds its own.
	ctx, cancel := a.segments.Bound(r.Context())
	defer cancel()
	rows, err := a.recordings.List(ctx, site.ID, q)
	if err != nil {
		return a.segments.QueryError(ctx, "list recordings", err)
	}
	out := make([]recordingJSON, 0, len(rows))
	for _, row := range rows {
		out = append(out, recordingOut(row))
	}
	next := ""
	if len(rows) == q.Limit {
		last := rows[len(rows)-1]
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.SortKey, 10) + "|" + last.ID))
	}
	warnings, err := a.recordingWarnings(r, site, q)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"recordings": out, "next_after": next, "warnings": warnings})
	return nil
}

// recordingWarnings says when the event filter names an event the site
// has not received, which matches nothing; it suggests the nearest known
// names, as segments do (names match exactly, case included).
func (a *API) recordingWarnings(r *http.Request, site store.Site, q store.RecordingQuery) ([]segment.Warning, error) {
	out := []segment.Warning{}
	if q.Event == "" {
		return out, nil
	}
	events, err := a.store.Events(r.Context(), site.ID, false)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if e.Kind == store.KindTrack && e.Name == q.Event {
			return out, nil
		}
	}
	msg, suggestions := unknownEvent(q.Event, store.KindTrack, events)
	return append(out, segment.Warning{Problem: segment.Problem{Path: "event", Message: msg}, Suggestions: suggestions}), nil
}

// recordingQuery reads the list's parameters.
func (a *API) recordingQuery(r *http.Request, site store.Site) (store.RecordingQuery, error) {
	v := r.URL.Query()
	var q store.RecordingQuery
	var err error
	if q.Limit, err = intParam(r, "limit", 50, 500); err != nil {
		return q, err
	}
	if q.Members, err = a.recordingMembers(r, site); err != nil {
		return q, err
	}
	if q.From, err = dateParam(r, "from", false); err != nil {
		return q, err
	}
	if q.To, err = dateParam(r, "to", true); err != nil {
		return q, err
	}
	if q.MinDuration, err = secondsParam(r, "min_duration"); err != nil {
		return q, err
	}
	if q.MaxDuration, err = secondsParam(r, "max_duration"); err != nil {
		return q, err
	}
	for _, f := range []struct {
		name string
		dst  *string
		max  int
	}{{"device", &q.Device, 50}, {"country", &q.Country, 50}, {"page", &q.Page, 2048}, {"event", &q.Event, 200}} {
		*f.dst = v.Get(f.name)
		if len(*f.dst) > f.max || strings.ContainsFunc(*f.dst, unicode.IsControl) {
			return q, apierr.Invalid("invalid_parameter", f.name, "%s is at most %d bytes, without control characters", f.name, f.max)
		}
	}
	if q.Signal = v.Get("signal"); q.Signal != "" && !store.ValidSignal(q.Signal) {
		return q, apierr.Invalid("invalid_parameter", "signal", "signal is one of rage_clicks, dead_clicks, errors, u_turns")
	}
	switch q.Sort = store.RecordingSort(v.Get("sort")); q.Sort {
	case "":
		q.Sort = store.SortDate
	case store.SortDate, store.SortDuration, store.SortFrustration:
	default:
		return q, apierr.Invalid("invalid_parameter", "sort", "sort is date, duration or frustration")
	}
	if s := v.Get("after"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		key, id, ok := strings.Cut(string(b), "|")
		n, perr := strconv.ParseInt(key, 10, 64)
		if err != nil || !ok || perr != nil || id == "" {
			return q, apierr.Invalid("invalid_parameter", "after", "after must be the next_after of a previous page")
		}
		q.After = &store.RecordingCursor{Key: n, ID: id}
	}
	q.Attributes, err = a.keyAttributes(r, site)
	return q, err
}

// recordingMembers reads the user filter: a saved segment, an ad-hoc one,
// or one user; nil when there is none.
func (a *API) recordingMembers(r *http.Request, site store.Site) (*store.KeySet, error) {
	v := r.URL.Query()
	given := 0
	for _, p := range []string{"segment", "definition", "text", "user"} {
		if v.Get(p) != "" {
			given++
		}
	}
	if given > 1 {
		return nil, apierr.Invalid("invalid_parameter", "segment", "filter by one of segment, definition, text or user")
	}
	var n segment.Node
	var err error
	switch {
	case v.Get("segment") != "":
		s, err := a.store.Segment(r.Context(), site.ID, v.Get("segment"))
		if err != nil {
			return nil, err
		}
		if n, err = a.segments.Saved(r.Context(), site.ID, s); err != nil {
			return nil, segmentError(err)
		}
	case v.Get("definition") != "" || v.Get("text") != "":
		def := engine.Definition{JSON: json.RawMessage(v.Get("definition")), Text: v.Get("text")}
		if len(def.JSON) == 0 {
			def.JSON = nil
		}
		if n, err = a.segments.Prepare(r.Context(), site.ID, def, ""); err != nil {
			return nil, segmentError(err)
		}
	case v.Get("user") != "":
		kind := v.Get("kind")
		if kind != "" && kind != "user" && kind != "anonymous" {
			return nil, apierr.Invalid("invalid_parameter", "kind", "kind must be user or anonymous")
		}
		key, err := a.store.UserKey(r.Context(), site.ID, store.Identity{Kind: kind, ID: v.Get("user")})
		if err != nil {
			return nil, err
		}
		return &store.KeySet{SQL: "SELECT CAST(? AS BIGINT) AS u", Args: []any{key}}, nil
	default:
		return nil, nil
	}
	ks, err := a.segments.MembersQuery(r.Context(), site.ID, n)
	if err != nil {
		return nil, segmentError(err)
	}
	return &ks, nil
}

// dateParam reads an optional ISO-8601 date or date-time; a date given as
// an end (to) includes that whole day.
func dateParam(r *http.Request, name string, end bool) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, ok := attr.ParseTime(s)
	if !ok {
		return time.Time{}, apierr.Invalid("invalid_parameter", name, "%s must be an ISO-8601 date or date-time", name)
	}
	if end && len(s) == len("2006-01-02") {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// secondsParam reads an optional non-negative number of seconds.
func secondsParam(r *http.Request, name string) (time.Duration, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e7 {
		return 0, apierr.Invalid("invalid_parameter", name, "%s is a number of seconds", name)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// timelineItem is one marker of the player's timeline.
type timelineItem struct {
	OffsetMS   int64           `json:"offset_ms"` // from the recording's start
	At         time.Time       `json:"at"`
	Type       string          `json:"type"` // page, identify, click, rage_click, dead_click, error, u_turn, event
	Name       string          `json:"name,omitempty"`
	URL        string          `json:"url,omitempty"`
	Path       string          `json:"path,omitempty"`
	Title      string          `json:"title,omitempty"`
	Properties json.RawMessage `json:"properties,omitempty"`
}

// timelineType names an event as the timeline shows it.
func timelineType(e store.Event) string {
	switch e.Kind {
	case store.KindIdentify:
		return "identify"
	case store.KindPage, store.KindScreen:
		return "page"
	}
	if name, ok := strings.CutPrefix(e.Name, "$"); ok {
		return name
	}
	return "event"
}

// getRecording answers GET /recordings/{rec}: the recording and the
// timeline of what the tracker saw during it, for the player's markers.
func (a *API) getRecording(w http.ResponseWriter, r *http.Request, site store.Site) error {
	attrs, err := a.keyAttributes(r, site)
	if err != nil {
		return err
	}
	row, err := a.recordings.Get(r.Context(), site.ID, r.PathValue("rec"), attrs)
	if err != nil {
		return err
	}
	events, err := a.recordings.Timeline(r.Context(), site.ID, row, 5000)
	if err != nil {
		return err
	}
	duration := row.EndedAt.Sub(row.StartedAt).Milliseconds()
	timeline := make([]timelineItem, 0, len(events))
	for _, e := range events {
		off := min(max(e.Timestamp.Sub(row.StartedAt).Milliseconds(), 0), duration)
		item := timelineItem{OffsetMS: off, At: e.Timestamp, Type: timelineType(e), URL: e.Page.URL, Path: e.Page.Path,
			Title: e.Page.Title}
		if item.Type == "event" {
			item.Name = e.Name
		}
		if e.Properties != "" && e.Properties != "{}" {
			item.Properties = json.RawMessage(e.Properties)
		}
		timeline = append(timeline, item)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"recording": recordingOut(row), "timeline": timeline})
	return nil
}

// recordingEvents answers GET /recordings/{rec}/events: the rrweb events
// of every chunk in order, as one JSON array, streamed (gzipped when the
// client accepts it).
func (a *API) recordingEvents(w http.ResponseWriter, r *http.Request, site store.Site) error {
	events, err := a.recordings.OpenEvents(r.Context(), site.ID, r.PathValue("rec"))
	if err != nil {
		return err
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Add("Vary", "Accept-Encoding")
	var out io.Writer = w
	var zw *gzip.Writer
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		hdr.Set("Content-Encoding", "gzip")
		zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		out = zw
	}
	w.WriteHeader(http.StatusOK)
	_, err = events.WriteTo(out)
	if err == nil && zw != nil {
		err = zw.Close()
	}
	if err != nil {
		// The answer has begun: the client must not take a cut array for
		// the whole recording, so the connection is dropped.
		a.log.Warn("recording events cut short", "recording", r.PathValue("rec"), "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if c := strings.ToLower(strings.TrimSpace(coding)); c != "gzip" && c != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

func (a *API) deleteRecording(w http.ResponseWriter, r *http.Request, site store.Site) error {
	if err := a.recordings.Delete(r.Context(), site.ID, r.PathValue("rec")); err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"deleted": true})
	return nil
}

func (a *API) getRecordingSettings(w http.ResponseWriter, r *http.Request, site store.Site) error {
	s, err := a.recordings.Settings(r.Context(), site.ID)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, s)
	return nil
}

// putRecordingSettings changes the settings; fields left out keep their
// value.
func (a *API) putRecordingSettings(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var c recording.SettingsChange
	if err := decodeJSON(r, &c); err != nil {
		return err
	}
	s, err := a.recordings.SetSettings(r.Context(), site.ID, c)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, s)
	return nil
}
