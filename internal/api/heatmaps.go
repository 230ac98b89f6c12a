package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/heatmap"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// Heatmaps is what the heatmap endpoints need: heatmap.Service.
type Heatmaps interface {
	Clicks(ctx context.Context, q heatmap.Query, kind heatmap.Kind) (*heatmap.Map, error)
	Elements(ctx context.Context, q heatmap.Query, kind heatmap.Kind) (*heatmap.Map, error)
	Scroll(ctx context.Context, q heatmap.Query) (*heatmap.Scroll, error)
	Pages(ctx context.Context, site int64, from, to time.Time) ([]heatmap.Page, error)
	Compare(ctx context.Context, a, b heatmap.Query) (*heatmap.Comparison, error)
	ElementClicks(ctx context.Context, q heatmap.Query, kind heatmap.Kind, selector string) ([]heatmap.Click, error)
	Sync(ctx context.Context) error
}

var _ Heatmaps = (*heatmap.Service)(nil)

// WithHeatmaps adds the heatmap endpoints, answered by h.
func (a *API) WithHeatmaps(h Heatmaps) *API {
	a.heatmaps = h
	return a
}

func (a *API) registerHeatmaps(mux *http.ServeMux, p string) {
	mux.Handle("GET "+p+"/heatmaps", a.auth(store.ScopeRead, a.getHeatmap))
	mux.Handle("GET "+p+"/heatmaps/elements", a.auth(store.ScopeRead, a.getHeatmapElements))
	mux.Handle("GET "+p+"/heatmaps/pages", a.auth(store.ScopeRead, a.getHeatmapPages))
	mux.Handle("GET "+p+"/heatmaps/compare", a.auth(store.ScopeRead, a.getHeatmapCompare))
	mux.Handle("GET "+p+"/heatmaps/clicks", a.auth(store.ScopeRead, a.getHeatmapClicks))
	mux.Handle("GET "+p+"/heatmaps/snapshot", a.auth(store.ScopeRead, a.getHeatmapSnapshot))
	mux.Handle("GET "+p+"/heatmaps/snapshot/{rec}/{index}", a.auth(store.ScopeRead, a.getHeatmapSnapshotHTML))
}

// defaultHeatmapDays is the period of a heatmap without from.
const defaultHeatmapDays = 30

// heatmapQuery reads the page group, device and period of a heatmap
// request, and its segment from the parameters named seg (a saved
// segment's ID) and text (a written one).
func (a *API) heatmapQuery(r *http.Request, site store.Site, seg, text string) (heatmap.Query, error) {
	v := r.URL.Query()
	q := heatmap.Query{Site: site.ID, Page: v.Get("page"), Match: heatmap.Match(v.Get("match")), Device: v.Get("device")}
	if q.Match == "" {
		q.Match = heatmap.MatchPath
	}
	var err error
	if q.From, err = dateParam(r, "from", false); err != nil {
		return q, err
	}
	if q.To, err = dateParam(r, "to", true); err != nil {
		return q, err
	}
	if q.From.IsZero() {
		end := q.To
		if end.IsZero() {
			end = time.Now()
		}
		q.From = end.AddDate(0, 0, -defaultHeatmapDays)
	}
	if err := q.Check(); err != nil {
		return q, heatmapError(err)
	}
	ks, err := a.segmentParam(r, site, seg, text)
	if err != nil {
		return q, err
	}
	q.Members = ks
	return q, nil
}

// segmentParam reads a segment given by a saved segment's ID (parameter
// seg) or written in the text language (parameter text); nil when neither.
func (a *API) segmentParam(r *http.Request, site store.Site, seg, text string) (*store.KeySet, error) {
	v := r.URL.Query()
	if v.Get(seg) != "" && v.Get(text) != "" {
		return nil, apierr.Invalid("invalid_parameter", seg, "give %s or %s, not both", seg, text)
	}
	var n segment.Node
	var err error
	switch {
	case v.Get(seg) != "":
		s, err := a.store.Segment(r.Context(), site.ID, v.Get(seg))
		if err != nil {
			return nil, err
		}
		if n, err = a.segments.Saved(r.Context(), site.ID, s); err != nil {
			return nil, segmentError(err)
		}
	case v.Get(text) != "":
		if n, err = a.segments.Prepare(r.Context(), site.ID, engine.Definition{Text: v.Get(text)}, ""); err != nil {
			e := segmentError(err)
			if ae, ok := e.(*apierr.Error); ok {
				ae.Field = text
			}
			return nil, e
		}
	default:
		return nil, nil
	}
	ks, err := a.segments.MembersQuery(r.Context(), site.ID, n)
	if err != nil {
		return nil, segmentError(err)
	}
	return &ks, nil
}

// heatmapError turns a heatmap.FieldError into a 400.
func heatmapError(err error) error {
	if fe, ok := err.(*heatmap.FieldError); ok {
		return apierr.Invalid("invalid_parameter", fe.Field, "%s", fe.Msg)
	}
	return err
}

func heatmapKind(r *http.Request) (heatmap.Kind, error) {
	k := heatmap.Kind(r.URL.Query().Get("kind"))
	switch k {
	case "":
		return heatmap.KindClick, nil
	case heatmap.KindClick, heatmap.KindRage, heatmap.KindDead, heatmap.KindScroll:
		return k, nil
	}
	return "", apierr.Invalid("invalid_parameter", "kind", "kind must be click, rage, dead or scroll")
}

// run calls fn under the segment engine's query bound, after the data
// acknowledged before the request became queryable.
func (a *API) runHeatmap(r *http.Request, what string, fn func(ctx context.Context) error) error {
	if err := a.heatmaps.Sync(r.Context()); err != nil {
		return err
	}
	ctx, cancel := a.segments.Bound(r.Context())
	defer cancel()
	return a.segments.QueryError(ctx, what, fn(ctx))
}

// getHeatmap answers GET /heatmaps: a click, rage, dead or scroll map of
// a page group.
func (a *API) getHeatmap(w http.ResponseWriter, r *http.Request, site store.Site) error {
	kind, err := heatmapKind(r)
	if err != nil {
		return err
	}
	q, err := a.heatmapQuery(r, site, "segment", "text")
	if err != nil {
		return err
	}
	var out any
	err = a.runHeatmap(r, "compute the heatmap", func(ctx context.Context) error {
		var err error
		if kind == heatmap.KindScroll {
			out, err = a.heatmaps.Scroll(ctx, q)
		} else {
			out, err = a.heatmaps.Clicks(ctx, q, kind)
		}
		return err
	})
	if err != nil {
		return heatmapError(err)
	}
	apierr.WriteJSON(w, http.StatusOK, out)
	return nil
}

// getHeatmapElements answers GET /heatmaps/elements: the element table
// (the map without its grid), at most limit elements.
func (a *API) getHeatmapElements(w http.ResponseWriter, r *http.Request, site store.Site) error {
	kind, err := heatmapKind(r)
	if err != nil {
		return err
	}
	if kind == heatmap.KindScroll {
		return apierr.Invalid("invalid_parameter", "kind", "a scroll map has no elements: kind must be click, rage or dead")
	}
	limit, err := intParam(r, "limit", 50, heatmap.MaxElements)
	if err != nil {
		return err
	}
	q, err := a.heatmapQuery(r, site, "segment", "text")
	if err != nil {
		return err
	}
	var m *heatmap.Map
	if err := a.runHeatmap(r, "list the clicked elements", func(ctx context.Context) error {
		var err error
		m, err = a.heatmaps.Elements(ctx, q, kind)
		return err
	}); err != nil {
		return heatmapError(err)
	}
	more := m.MoreElements
	if len(m.Elements) > limit {
		more += len(m.Elements) - limit
		m.Elements = m.Elements[:limit]
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"kind": kind, "page_views": m.PageViews, "total": m.Total,
		"users": m.Users, "elements": m.Elements, "more_elements": more})
	return nil
}

// getHeatmapPages answers GET /heatmaps/pages: the paths seen in the
// period, most viewed first.
func (a *API) getHeatmapPages(w http.ResponseWriter, r *http.Request, site store.Site) error {
	from, err := dateParam(r, "from", false)
	if err != nil {
		return err
	}
	to, err := dateParam(r, "to", true)
	if err != nil {
		return err
	}
	if from.IsZero() {
		end := to
		if end.IsZero() {
			end = time.Now()
		}
		from = end.AddDate(0, 0, -defaultHeatmapDays)
	}
	var pages []heatmap.Page
	if err := a.runHeatmap(r, "list the pages seen", func(ctx context.Context) error {
		var err error
		pages, err = a.heatmaps.Pages(ctx, site.ID, from, to)
		return err
	}); err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"pages": pages, "from": from.UTC()})
	return nil
}

// getHeatmapCompare answers GET /heatmaps/compare: the click shares of
// segment A (a=ID or a_text=TEXT) and segment B (b=ID or b_text=TEXT;
// neither: everyone not in A) on a page group, the elements ranked by
// how much they differ.
func (a *API) getHeatmapCompare(w http.ResponseWriter, r *http.Request, site store.Site) error {
	qa, err := a.heatmapQuery(r, site, "a", "a_text")
	if err != nil {
		return err
	}
	if qa.Members == nil {
		return apierr.Invalid("invalid_parameter", "a", "segment A is required: a=SEGMENT_ID or a_text=TEXT")
	}
	qb, err := a.heatmapQuery(r, site, "b", "b_text")
	if err != nil {
		return err
	}
	if qb.Members == nil {
		qb.Members, qb.Exclude = qa.Members, true
	}
	var c *heatmap.Comparison
	if err := a.runHeatmap(r, "compare the segments' clicks", func(ctx context.Context) error {
		var err error
		c, err = a.heatmaps.Compare(ctx, qa, qb)
		return err
	}); err != nil {
		return heatmapError(err)
	}
	apierr.WriteJSON(w, http.StatusOK, c)
	return nil
}

// clickJSON is a click on an element with the recording that shows it.
type clickJSON struct {
	At        time.Time `json:"at"`
	SessionID int64     `json:"session_id"`
	UserID    string    `json:"user_id,omitempty"`
	Recording string    `json:"recording,omitempty"`
	OffsetMS  int64     `json:"offset_ms,omitempty"` // into the recording
}

// getHeatmapClicks answers GET /heatmaps/clicks?selector=…: the latest
// clicks (of kind) on one element, each with the recording of its
// session and where in it the click is.
func (a *API) getHeatmapClicks(w http.ResponseWriter, r *http.Request, site store.Site) error {
	kind, err := heatmapKind(r)
	if err != nil {
		return err
	}
	sel := r.URL.Query().Get("selector")
	if sel == "" || len(sel) > 2000 {
		return apierr.Invalid("invalid_parameter", "selector", "selector is required")
	}
	q, err := a.heatmapQuery(r, site, "segment", "text")
	if err != nil {
		return err
	}
	var clicks []heatmap.Click
	if err := a.runHeatmap(r, "read the element's clicks", func(ctx context.Context) error {
		var err error
		clicks, err = a.heatmaps.ElementClicks(ctx, q, kind, sel)
		return err
	}); err != nil {
		return heatmapError(err)
	}
	out := make([]clickJSON, 0, len(clicks))
	for _, c := range clicks {
		out = append(out, clickJSON{At: c.At, SessionID: c.SessionID})
	}
	if a.recordings != nil && len(clicks) > 0 {
		keys := make([]any, 0, len(clicks))
		from := clicks[0].At
		for _, c := range clicks {
			keys = append(keys, c.UserKey)
			if c.At.Before(from) {
				from = c.At
			}
		}
		members := &store.KeySet{SQL: "SELECT unnest(?::BIGINT[]) AS u", Args: []any{int64s(keys)}}
		rows, err := a.recordings.List(r.Context(), site.ID, store.RecordingQuery{Members: members,
			From: from.Add(-4 * time.Hour), Sort: store.SortDate, Limit: 1000})
		if err != nil {
			return err
		}
		for i, c := range clicks {
			for _, row := range rows {
				if row.UserKey == c.UserKey {
					out[i].UserID = row.UserExtID
				}
				if row.SessionID == c.SessionID && row.SessionID != 0 && !c.At.Before(row.StartedAt.Add(-time.Minute)) &&
					!c.At.After(row.EndedAt.Add(time.Minute)) {
					out[i].Recording = row.ID
					out[i].OffsetMS = max(0, c.At.Sub(row.StartedAt).Milliseconds())
					break
				}
			}
		}
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"selector": sel, "clicks": out})
	return nil
}

func int64s(v []any) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = x.(int64)
	}
	return out
}

// Backgrounds finds heatmaps' backgrounds: *heatmap.Backgrounds.
type Backgrounds interface {
	Find(ctx context.Context, q heatmap.Query) (*heatmap.Background, error)
}

var _ Backgrounds = (*heatmap.Backgrounds)(nil)

// WithBackgrounds lets the heatmaps find their backgrounds in b.
func (a *API) WithBackgrounds(b Backgrounds) *API {
	a.backgrounds = b
	return a
}

// getHeatmapSnapshot answers GET /heatmaps/snapshot: the newest full
// snapshot of a page of the group at the device's width in the site's
// recordings (a session's, or a background the tracker captured), as the
// recording and index that /heatmaps/snapshot/{rec}/{index} renders;
// snapshot is null when no recording shows such a page.
func (a *API) getHeatmapSnapshot(w http.ResponseWriter, r *http.Request, site store.Site) error {
	q, err := a.heatmapQuery(r, site, "segment", "text")
	if err != nil {
		return err
	}
	if a.backgrounds == nil {
		apierr.WriteJSON(w, http.StatusOK, map[string]any{"snapshot": nil})
		return nil
	}
	bg, err := a.backgrounds.Find(r.Context(), q)
	if err != nil {
		return heatmapError(err)
	}
	if bg == nil {
		apierr.WriteJSON(w, http.StatusOK, map[string]any{"snapshot": nil})
		return nil
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"snapshot": map[string]any{
		"recording": bg.Recording, "index": bg.Index, "href": bg.Href, "width": bg.Width, "height": bg.Height,
		"taken_at": bg.TakenAt, "captured": bg.Captured,
		"html": "/api/v1/sites/" + site.PublicID + "/heatmaps/snapshot/" + bg.Recording + "/" + strconv.Itoa(bg.Index),
	}})
	return nil
}

// snapshotCSP lets the snapshot show its styles, images and fonts and
// nothing else run: no script, no form, no frame, no connection; the
// sandbox keeps it from running anything even when opened on its own,
// while the dashboard (same origin) may measure its elements.
const snapshotCSP = "default-src 'none'; style-src 'unsafe-inline' http: https:; img-src http: https: data: blob:; " +
	"font-src http: https: data:; base-uri http: https:; form-action 'none'; frame-ancestors 'self'; sandbox allow-same-origin"

// getHeatmapSnapshotHTML answers GET /heatmaps/snapshot/{rec}/{index}:
// the full snapshot as an HTML document without scripts.
func (a *API) getHeatmapSnapshotHTML(w http.ResponseWriter, r *http.Request, site store.Site) error {
	if a.recordings == nil {
		return &apierr.Error{Status: http.StatusNotFound, Code: "not_found", Message: "recordings are off"}
	}
	index, err := strconv.Atoi(r.PathValue("index"))
	if err != nil || index < 0 {
		return apierr.Invalid("invalid_parameter", "index", "index must be an event's index in the recording")
	}
	events, err := a.recordings.EventsJSON(r.Context(), site.ID, r.PathValue("rec"), heatmap.MaxBackgroundEvents)
	if err != nil {
		return err
	}
	s, err := heatmap.SnapshotAt(events, index)
	if err != nil {
		return err
	}
	if s == nil {
		return &apierr.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no full snapshot at that index"}
	}
	page, err := heatmap.SnapshotHTML(s)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", snapshotCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(page)
	return nil
}
