package api

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/insight"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// InsightStore is what the insight endpoints need of storage besides
// Store's: saved insights and annotations, and the site a write key
// belongs to (a deploy hook posts annotations with it).
type InsightStore interface {
	store.Insights
	SiteByWriteKey(ctx context.Context, writeKey string) (store.Site, error)
}

// insightKinds are the kinds of insights, as paths and saved kinds.
var insightKinds = []string{"trend", "funnel", "retention"}

func (a *API) registerInsights(mux *http.ServeMux, p string) {
	ins, err := insight.New(a.segments, a.store)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	a.insights = ins
	mux.Handle("POST "+p+"/insights/trend", a.auth(store.ScopeRead, a.postInsight("trend")))
	mux.Handle("POST "+p+"/insights/funnel", a.auth(store.ScopeRead, a.postInsight("funnel")))
	mux.Handle("POST "+p+"/insights/retention", a.auth(store.ScopeRead, a.postInsight("retention")))
	mux.Handle("POST "+p+"/insights/funnel/dropped", a.auth(store.ScopeRead, a.funnelDropped))
	mux.Handle("GET "+p+"/insights", a.auth(store.ScopeRead, a.listInsights))
	mux.Handle("POST "+p+"/insights", a.auth(store.ScopeWrite, a.createInsight))
	mux.Handle("GET "+p+"/insights/{id}", a.auth(store.ScopeRead, a.getInsight))
	mux.Handle("PUT "+p+"/insights/{id}", a.auth(store.ScopeWrite, a.updateInsight))
	mux.Handle("DELETE "+p+"/insights/{id}", a.auth(store.ScopeWrite, a.deleteInsight))
	mux.Handle("GET "+p+"/insights/{id}/results", a.auth(store.ScopeRead, a.savedInsightResults))
	mux.Handle("PUT "+p+"/insights/{id}/pin", a.auth(store.ScopeWrite, a.pinInsight(true)))
	mux.Handle("DELETE "+p+"/insights/{id}/pin", a.auth(store.ScopeWrite, a.pinInsight(false)))
	mux.Handle("GET "+p+"/annotations", a.auth(store.ScopeRead, a.listAnnotations))
	mux.Handle("POST "+p+"/annotations", a.annotationAuth(a.auth(store.ScopeWrite, a.createAnnotation)))
	mux.Handle("DELETE "+p+"/annotations/{id}", a.auth(store.ScopeWrite, a.deleteAnnotation))
}

// postInsight computes an insight of a kind from the definition in the
// body; ?format=csv answers its table as CSV.
func (a *API) postInsight(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, site store.Site) error {
		var def json.RawMessage
		if err := decodeJSON(r, &def); err != nil {
			return err
		}
		return a.insightResults(w, r, site, kind, def, kind)
	}
}

// insightResults computes and writes an insight.
func (a *API) insightResults(w http.ResponseWriter, r *http.Request, site store.Site, kind string, def json.RawMessage, name string) error {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		return apierr.Invalid("invalid_parameter", "format", "format must be json or csv")
	}
	start := time.Now()
	res, err := a.computeInsight(r.Context(), site, kind, def)
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+csvName(name)+`.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		cw := csv.NewWriter(w)
		for _, row := range insightTable(res) {
			cw.Write(row)
		}
		cw.Flush()
		return nil
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"kind": kind, "result": res,
		"took_ms": time.Since(start).Milliseconds()})
	return nil
}

// computeInsight decodes a definition strictly and computes it.
func (a *API) computeInsight(ctx context.Context, site store.Site, kind string, raw json.RawMessage) (any, error) {
	switch kind {
	case "trend":
		var def insight.Trend
		if err := strictJSON(raw, &def); err != nil {
			return nil, err
		}
		def.Range = siteZone(def.Range, site)
		return a.insights.Trend(ctx, site.ID, def)
	case "funnel":
		var def insight.Funnel
		if err := strictJSON(raw, &def); err != nil {
			return nil, err
		}
		def.Range = siteZone(def.Range, site)
		return a.insights.Funnel(ctx, site.ID, def)
	case "retention":
		var def insight.Retention
		if err := strictJSON(raw, &def); err != nil {
			return nil, err
		}
		def.Range = siteZone(def.Range, site)
		return a.insights.Retention(ctx, site.ID, def)
	}
	return nil, apierr.Invalid("invalid_kind", "kind", "kind is trend, funnel or retention, not %q", kind)
}

// siteZone gives a range that names no time zone the site's: a saved
// insight without one follows the site's setting as it changes.
func siteZone(r insight.Range, site store.Site) insight.Range {
	if r.TZ == "" {
		r.TZ = site.TimeZone
	}
	return r
}

// strictJSON decodes a definition, refusing unknown fields.
func strictJSON(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		field := ""
		if s, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field = strings.Trim(s, `"`)
		}
		var te *json.UnmarshalTypeError
		if ok := asTypeError(err, &te); ok {
			field = te.Field
		}
		return apierr.Invalid("invalid_definition", field, "the definition does not read: %v", err)
	}
	return nil
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = t
	}
	return ok
}

// csvName keeps a file name to letters, digits and dashes.
func csvName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	if b.Len() == 0 {
		return "insight"
	}
	return b.String()
}

// insightTable is an insight's result as a table, header first: what
// the CSV export holds and the dashboard's table views show.
func insightTable(res any) [][]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	switch res := res.(type) {
	case *insight.TrendResult:
		head := []string{"bucket"}
		for _, l := range res.Series {
			head = append(head, l.Name+" ("+l.Measure+") · "+l.Group)
		}
		if len(res.PreviousBuckets) > 0 {
			head = append(head, "previous bucket")
			for _, l := range res.Series {
				head = append(head, "previous: "+l.Name+" ("+l.Measure+") · "+l.Group)
			}
		}
		rows := [][]string{head}
		for i, b := range res.Buckets {
			row := []string{b}
			for _, l := range res.Series {
				row = append(row, f(l.Values[i]))
			}
			if len(res.PreviousBuckets) > 0 {
				pb := ""
				if i < len(res.PreviousBuckets) {
					pb = res.PreviousBuckets[i]
				}
				row = append(row, pb)
				for _, l := range res.Series {
					v := ""
					if i < len(l.Previous) {
						v = f(l.Previous[i])
					}
					row = append(row, v)
				}
			}
			rows = append(rows, row)
		}
		return rows
	case *insight.FunnelResult:
		rows := [][]string{{"group", "step", "name", "users", "conversion_from_previous", "conversion_from_start", "dropped", "median_seconds"}}
		for _, g := range res.Groups {
			for _, s := range g.Steps {
				m := ""
				if s.MedianSeconds != nil {
					m = f(*s.MedianSeconds)
				}
				rows = append(rows, []string{g.Group, strconv.Itoa(s.Step), s.Name, strconv.FormatInt(s.Users, 10),
					f(s.FromPrevious), f(s.FromStart), strconv.FormatInt(s.Dropped, 10), m})
			}
		}
		return rows
	case *insight.RetentionResult:
		head := []string{"group", "cohort", "users"}
		for k := 0; k <= res.Periods; k++ {
			head = append(head, fmt.Sprintf("%s %d", res.Interval, k))
		}
		rows := [][]string{head}
		for _, g := range res.Groups {
			for _, c := range g.Cohorts {
				row := []string{g.Group, c.Start, strconv.FormatInt(c.Users, 10)}
				for _, n := range c.Returned {
					if n == nil {
						row = append(row, "")
					} else {
						row = append(row, strconv.FormatInt(*n, 10))
					}
				}
				rows = append(rows, row)
			}
		}
		return rows
	}
	return nil
}

// droppedBody asks for the users who dropped at a step of a funnel, of
// everyone or of a segment's members.
type droppedBody struct {
	Funnel  insight.Funnel      `json:"funnel"`
	Step    int                 `json:"step"`
	Segment *insight.SegmentRef `json:"segment,omitempty"`
}

// funnelDropped lists the users who reached step-1 but not step: as
// segment members are listed (?limit=, ?after=), or all of them as CSV
// (?format=csv).
func (a *API) funnelDropped(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var b droppedBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	var seg segment.Node
	if b.Segment != nil {
		n, err := a.segmentRef(r.Context(), site, *b.Segment)
		if err != nil {
			return err
		}
		seg = n
	}
	limit, err := intParam(r, "limit", 100, 10000)
	if err != nil {
		return err
	}
	var after int64
	if s := r.URL.Query().Get("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil {
			return apierr.Invalid("invalid_parameter", "after", "after must be the next_after of a previous page")
		}
	}
	csvOut := r.URL.Query().Get("format") == "csv"
	if csvOut {
		limit = 100000
	}
	b.Funnel.Range = siteZone(b.Funnel.Range, site)
	members, total, err := a.insights.DroppedPage(r.Context(), site.ID, b.Funnel, b.Step, seg, after, limit)
	if err != nil {
		return err
	}
	if csvOut {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="funnel-dropped-step-%d.csv"`, b.Step))
		cw := csv.NewWriter(w)
		cw.Write([]string{"user_id", "key"})
		for _, m := range members {
			cw.Write([]string{m.UserID, strconv.FormatInt(m.Key, 10)})
		}
		cw.Flush()
		return nil
	}
	next := ""
	if len(members) == limit {
		next = strconv.FormatInt(members[len(members)-1].Key, 10)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"users": membersJSON(members), "size": total, "next_after": next})
	return nil
}

// segmentRef reads a segment given by ID or written out.
func (a *API) segmentRef(ctx context.Context, site store.Site, ref insight.SegmentRef) (segment.Node, error) {
	if ref.ID != "" {
		s, err := a.store.Segment(ctx, site.ID, ref.ID)
		if err != nil {
			return nil, apierr.Invalid("unknown_segment", "segment.id", "no saved segment %q", ref.ID)
		}
		return a.segments.Saved(ctx, site.ID, s)
	}
	return a.prepare(ctx, site, segmentBody{Text: ref.Text, Definition: ref.JSON}, "")
}

// insightBody is a saved insight as clients send it.
type insightBody struct {
	Name       string          `json:"name"`
	Kind       string          `json:"kind"`
	Author     string          `json:"author"`
	Definition json.RawMessage `json:"definition"`
	// Pinned pins the insight to the site's overview; left out, a new
	// insight is not pinned and a changed one stays as it was.
	Pinned *bool `json:"pinned,omitempty"`
}

// insightJSON is a saved insight as the API shows it.
type insightJSON struct {
	store.SavedInsight
	Definition json.RawMessage `json:"definition"`
}

func savedInsightJSON(in store.SavedInsight) insightJSON {
	return insightJSON{SavedInsight: in, Definition: json.RawMessage(in.Definition)}
}

// checkInsight validates a saved insight's body: its definition must
// compute (on the live data, which also proves it fits the site).
func (a *API) checkInsight(r *http.Request, site store.Site, b insightBody) error {
	if strings.TrimSpace(b.Name) == "" {
		return apierr.Invalid("invalid_name", "name", "an insight needs a name")
	}
	if len(b.Name) > 200 {
		return apierr.Invalid("invalid_name", "name", "a name is at most 200 characters")
	}
	known := false
	for _, k := range insightKinds {
		known = known || k == b.Kind
	}
	if !known {
		return apierr.Invalid("invalid_kind", "kind", "kind is trend, funnel or retention, not %q", b.Kind)
	}
	if len(b.Definition) == 0 || string(b.Definition) == "null" {
		return apierr.Invalid("invalid_definition", "definition", "the definition is missing")
	}
	_, err := a.computeInsight(r.Context(), site, b.Kind, b.Definition)
	if fe, ok := err.(*store.FieldError); ok {
		return apierr.Invalid(fe.Code, "definition."+fe.Field, "%s", fe.Msg)
	}
	return err
}

func (a *API) listInsights(w http.ResponseWriter, r *http.Request, site store.Site) error {
	list, err := a.store.ListInsights(r.Context(), site.ID)
	if err != nil {
		return err
	}
	out := make([]insightJSON, len(list))
	for i, in := range list {
		out[i] = savedInsightJSON(in)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"insights": out})
	return nil
}

func (a *API) createInsight(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var b insightBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	if err := a.checkInsight(r, site, b); err != nil {
		return err
	}
	pinned := b.Pinned != nil && *b.Pinned
	if pinned {
		if err := a.roomForPin(r.Context(), site, ""); err != nil {
			return err
		}
	}
	in, err := a.store.SaveInsight(r.Context(), store.SavedInsight{SiteID: site.ID, Name: strings.TrimSpace(b.Name),
		Kind: b.Kind, Author: b.Author, Definition: compactJSON(b.Definition), Pinned: pinned})
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusCreated, savedInsightJSON(in))
	return nil
}

func (a *API) getInsight(w http.ResponseWriter, r *http.Request, site store.Site) error {
	in, err := a.store.Insight(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, savedInsightJSON(in))
	return nil
}

func (a *API) updateInsight(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var b insightBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	old, err := a.store.Insight(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := a.checkInsight(r, site, b); err != nil {
		return err
	}
	pinned := old.Pinned
	if b.Pinned != nil {
		pinned = *b.Pinned
	}
	if pinned && !old.Pinned {
		if err := a.roomForPin(r.Context(), site, old.ID); err != nil {
			return err
		}
	}
	in, err := a.store.SaveInsight(r.Context(), store.SavedInsight{ID: r.PathValue("id"), SiteID: site.ID,
		Name: strings.TrimSpace(b.Name), Kind: b.Kind, Author: b.Author, Definition: compactJSON(b.Definition), Pinned: pinned})
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, savedInsightJSON(in))
	return nil
}

func (a *API) deleteInsight(w http.ResponseWriter, r *http.Request, site store.Site) error {
	if err := a.store.DeleteInsight(r.Context(), site.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// savedInsightResults computes a saved insight now.
func (a *API) savedInsightResults(w http.ResponseWriter, r *http.Request, site store.Site) error {
	in, err := a.store.Insight(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return a.insightResults(w, r, site, in.Kind, in.Definition, in.Name)
}

func compactJSON(raw json.RawMessage) []byte {
	var b strings.Builder
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	out, _ := json.Marshal(v)
	b.Write(out)
	return []byte(b.String())
}

func (a *API) listAnnotations(w http.ResponseWriter, r *http.Request, site store.Site) error {
	list, err := a.store.Annotations(r.Context(), site.ID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.Annotation{}
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"annotations": list})
	return nil
}

// annotationBody is an annotation as clients send it.
type annotationBody struct {
	// Date is the day it is drawn on (YYYY-MM-DD), a day of the site's
	// time zone; today there when left out.
	Date string `json:"date,omitempty"`
	Text string `json:"text"`
}

// writeKeySource marks a request let in by the site's write key.
type writeKeySource struct{}

// annotationAuth lets a request with the site's write key as the HTTP
// Basic user name (as the Segment-compatible API takes it) create an
// annotation: a deploy hook holds the write key, not an API token.
// Anything else goes through next, the usual token or session check.
func (a *API) annotationAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h))
		key, _, _ := strings.Cut(string(raw), ":")
		site, serr := a.store.SiteByWriteKey(r.Context(), key)
		if err != nil || key == "" || serr != nil || site.PublicID != r.PathValue("site") {
			apierr.Write(w, a.log, &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "unknown write key for this site"})
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), writeKeySource{}, true))
		if err := a.createAnnotation(w, r, site); err != nil {
			apierr.Write(w, a.log, translate(err))
		}
	})
}

func (a *API) createAnnotation(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var b annotationBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	if b.Date == "" {
		b.Date = time.Now().In(siteLocation(site)).Format(time.DateOnly)
	}
	if _, err := time.Parse(time.DateOnly, b.Date); err != nil {
		return apierr.Invalid("invalid_date", "date", "date is YYYY-MM-DD, not %q", b.Date)
	}
	b.Text = strings.TrimSpace(b.Text)
	if b.Text == "" || len(b.Text) > 500 {
		return apierr.Invalid("invalid_text", "text", "an annotation's text is 1 to 500 characters")
	}
	source := "api"
	if r.Context().Value(writeKeySource{}) != nil {
		source = "write_key"
	} else if r.Header.Get("Authorization") == "" {
		source = "dashboard"
	}
	an, err := a.store.AddAnnotation(r.Context(), store.Annotation{SiteID: site.ID, Day: b.Date, Text: b.Text, Source: source})
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusCreated, an)
	return nil
}

func (a *API) deleteAnnotation(w http.ResponseWriter, r *http.Request, site store.Site) error {
	if err := a.store.DeleteAnnotation(r.Context(), site.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
