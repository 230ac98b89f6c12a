package api

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/compare"
	"github.com/sightline/sightline/internal/experiment"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// compareDeps are the compare and experiment endpoints' dependencies.
type compareDeps struct {
	comparer    *compare.Comparer
	results     *experiment.Reader
	experiments store.Experiments
}

// UseCompare turns on the compare and experiment endpoints; call it
// before Register.
func (a *API) UseCompare(c *compare.Comparer, r *experiment.Reader, st store.Experiments) {
	a.compare = &compareDeps{comparer: c, results: r, experiments: st}
}

func (a *API) registerCompare(mux *http.ServeMux, p string) {
	if a.compare == nil {
		return
	}
	mux.Handle("POST "+p+"/compare", a.auth(store.ScopeRead, a.postCompare))
	mux.Handle("GET "+p+"/compare", a.auth(store.ScopeRead, a.getCompare))
	e := p + "/experiments"
	mux.Handle("GET "+e, a.auth(store.ScopeRead, a.listExperiments))
	mux.Handle("POST "+e, a.auth(store.ScopeWrite, a.createExperiment))
	mux.Handle("GET "+e+"/{id}", a.auth(store.ScopeRead, a.getExperiment))
	mux.Handle("PUT "+e+"/{id}", a.auth(store.ScopeWrite, a.updateExperiment))
	mux.Handle("DELETE "+e+"/{id}", a.auth(store.ScopeWrite, a.deleteExperiment))
	mux.Handle("GET "+e+"/{id}/results", a.auth(store.ScopeRead, a.experimentResults))
}

// compareGroup is one side of a comparison as clients send it: a saved
// segment's ID, or a definition as text or JSON.
type compareGroup struct {
	Segment    string          `json:"segment"`
	Text       string          `json:"text"`
	Definition json.RawMessage `json:"definition"`
	Label      string          `json:"label"`
}

// compareBody is POST /compare's body. B null compares A with everyone
// else: the identified users not in A (rest "identified", the default)
// or all users not in A (rest "all"). The period is from–to (dates or
// RFC 3339 times, to excluded) or else the last days days (default 90).
type compareBody struct {
	A    compareGroup  `json:"a"`
	B    *compareGroup `json:"b"`
	Rest string        `json:"rest"`
	From string        `json:"from"`
	To   string        `json:"to"`
	Days int           `json:"days"`
	// Overlap says what to do with users in both segments: "exclude"
	// them from both groups (the default) or "keep" them in both.
	Overlap string `json:"overlap"`
	// Funnel is a saved funnel's ID: its conversion in each group joins
	// the side by side.
	Funnel string `json:"funnel"`
}

// group prepares one side: its tree and its label.
func (a *API) group(r *http.Request, site store.Site, g compareGroup, field string) (segment.Node, string, error) {
	if g.Segment != "" {
		s, err := a.store.Segment(r.Context(), site.ID, g.Segment)
		if errors.Is(err, store.ErrNotFound) {
			return nil, "", apierr.Invalid("segment_not_found", field+".segment", "no saved segment %q", g.Segment)
		}
		if err != nil {
			return nil, "", err
		}
		label := g.Label
		if label == "" {
			label = s.Name
		}
		// The saved tree itself, not in_segment(id): the comparison
		// sees its conditions (rows that restate them are marked).
		n, err := a.segments.Saved(r.Context(), site.ID, s)
		if err != nil {
			return nil, "", segmentError(err)
		}
		return n, label, nil
	}
	n, err := a.prepare(r.Context(), site, segmentBody{Text: g.Text, Definition: g.Definition}, "")
	if err != nil {
		var e *apierr.Error
		if errors.As(err, &e) && e.Field == "definition" {
			e.Field = field
		}
		return nil, "", err
	}
	label := g.Label
	if label == "" {
		label = segment.Format(n)
	}
	return n, label, nil
}

// compareTime reads a date (YYYY-MM-DD, UTC midnight) or an RFC 3339 time.
func compareTime(s, field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, apierr.Invalid("invalid_parameter", field, "%s is a date (2026-05-01) or an RFC 3339 time", field)
	}
	return t.UTC(), nil
}

// postCompare compares two groups of users; ?format=csv answers the
// metrics and ranked rows as CSV.
func (a *API) postCompare(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var b compareBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	return a.runCompare(w, r, site, b)
}

// getCompare is postCompare with the body in the query, for links (a CSV
// download): a and b are saved segments' IDs, a_text and b_text
// definitions as text; rest, from, to and days as in the body.
func (a *API) getCompare(w http.ResponseWriter, r *http.Request, site store.Site) error {
	q := r.URL.Query()
	b := compareBody{A: compareGroup{Segment: q.Get("a"), Text: q.Get("a_text")}, Rest: q.Get("rest"),
		From: q.Get("from"), To: q.Get("to"), Overlap: q.Get("overlap"), Funnel: q.Get("funnel")}
	if q.Get("b") != "" || q.Get("b_text") != "" {
		b.B = &compareGroup{Segment: q.Get("b"), Text: q.Get("b_text")}
	}
	if d := q.Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			return apierr.Invalid("invalid_parameter", "days", "days is a whole number of days")
		}
		b.Days = n
	}
	return a.runCompare(w, r, site, b)
}

func (a *API) runCompare(w http.ResponseWriter, r *http.Request, site store.Site, b compareBody) error {
	req := compare.Request{Rest: compare.Rest(b.Rest)}
	var err error
	if req.A, req.ALabel, err = a.group(r, site, b.A, "a"); err != nil {
		return err
	}
	if b.B != nil {
		if req.B, req.BLabel, err = a.group(r, site, *b.B, "b"); err != nil {
			return err
		}
	}
	if req.From, err = compareTime(b.From, "from"); err != nil {
		return err
	}
	if req.To, err = compareTime(b.To, "to"); err != nil {
		return err
	}
	switch b.Overlap {
	case "", "exclude":
	case "keep":
		req.KeepShared = true
	default:
		return apierr.Invalid("invalid_parameter", "overlap", "overlap is exclude (the default) or keep, not %q", b.Overlap)
	}
	if b.Days < 0 || b.Days > 3650 {
		return apierr.Invalid("invalid_parameter", "days", "days is between 1 and 3650")
	}
	if req.From.IsZero() {
		days := b.Days
		if days == 0 {
			days = 90
		}
		to := req.To
		if to.IsZero() {
			to = time.Now().UTC()
		}
		req.From = to.Add(-time.Duration(days) * 24 * time.Hour)
	}
	if req.Questions, err = a.compareQuestions(r, site); err != nil {
		return err
	}
	res, err := a.compare.comparer.Compare(r.Context(), site.ID, req)
	if errors.Is(err, compare.ErrInvalid) {
		return apierr.Invalid("invalid_comparison", "", "%s", strings.TrimPrefix(err.Error(), compare.ErrInvalid.Error()+": "))
	}
	if err != nil {
		return err
	}
	if b.Funnel != "" {
		if err := a.compareFunnel(r, site, b.Funnel, res); err != nil {
			return err
		}
	}
	if r.URL.Query().Get("format") == "csv" {
		return writeCompareCSV(w, res)
	}
	apierr.WriteJSON(w, http.StatusOK, res)
	return nil
}

func writeCompareCSV(w http.ResponseWriter, res *compare.Result) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="comparison.csv"`)
	cw := csv.NewWriter(w)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return f(*v)
	}
	cw.Write([]string{"section", "kind", "key", "value", "measure", "label", res.A.Label, res.B.Label, "n_a", "n_b",
		"diff", "lift", "test", "p", "q", "significant", "effect", "effect_kind", "dominance", "defining", "segment"})
	for _, part := range []struct {
		name string
		rows []compare.Row
	}{{"metric", res.Metrics}, {"difference", res.Rows}} {
		for _, r := range part.rows {
			cw.Write([]string{part.name, r.Kind, r.Key, r.Value, r.Measure, r.Label, f(r.A), f(r.B),
				strconv.FormatInt(r.NA, 10), strconv.FormatInt(r.NB, 10), f(r.Diff), opt(r.Lift), r.Test, f(r.P), f(r.Q),
				strconv.FormatBool(r.Significant), f(r.Effect), r.EffectKind, f(r.Dominance), strconv.FormatBool(r.Defining),
				r.Segment})
		}
	}
	cw.Flush()
	return cw.Error()
}

// experimentJSON is an experiment as the API shows it.
type experimentJSON struct {
	ID string `json:"id"`
	experiment.Definition
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toExperimentJSON(e store.SavedExperiment) (experimentJSON, error) {
	d, err := experiment.Parse(e.Definition)
	if err != nil {
		return experimentJSON{}, fmt.Errorf("experiment %s is unreadable: %w", e.ID, err)
	}
	return experimentJSON{ID: e.ID, Definition: d, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}, nil
}

func (a *API) listExperiments(w http.ResponseWriter, r *http.Request, site store.Site) error {
	list, err := a.compare.experiments.ListExperiments(r.Context(), site.ID)
	if err != nil {
		return err
	}
	out := make([]experimentJSON, 0, len(list))
	for _, e := range list {
		j, err := toExperimentJSON(e)
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"experiments": out})
	return nil
}

func (a *API) createExperiment(w http.ResponseWriter, r *http.Request, site store.Site) error {
	return a.saveExperiment(w, r, site, "")
}

func (a *API) updateExperiment(w http.ResponseWriter, r *http.Request, site store.Site) error {
	return a.saveExperiment(w, r, site, r.PathValue("id"))
}

// saveExperiment validates a definition (its breakdown segments too) and
// saves it.
func (a *API) saveExperiment(w http.ResponseWriter, r *http.Request, site store.Site, id string) error {
	var d experiment.Definition
	if err := decodeJSON(r, &d); err != nil {
		return err
	}
	if err := d.Normalize(); err != nil {
		return err
	}
	if _, err := a.experimentFunnels(r, site, d); err != nil {
		return err
	}
	for i, text := range d.Breakdown {
		if _, err := a.prepare(r.Context(), site, segmentBody{Text: text}, ""); err != nil {
			var e *apierr.Error
			if errors.As(err, &e) && e.Field == "definition" {
				e.Field = fmt.Sprintf("breakdown[%d]", i)
			}
			return err
		}
	}
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	saved, err := a.compare.experiments.SaveExperiment(r.Context(),
		store.SavedExperiment{ID: id, SiteID: site.ID, Name: d.Name, Definition: body})
	if err != nil {
		return err
	}
	j, err := toExperimentJSON(saved)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if id == "" {
		status = http.StatusCreated
	}
	apierr.WriteJSON(w, status, j)
	return nil
}

func (a *API) getExperiment(w http.ResponseWriter, r *http.Request, site store.Site) error {
	e, err := a.compare.experiments.Experiment(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	j, err := toExperimentJSON(e)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, j)
	return nil
}

func (a *API) deleteExperiment(w http.ResponseWriter, r *http.Request, site store.Site) error {
	if err := a.compare.experiments.DeleteExperiment(r.Context(), site.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// experimentResults answers an experiment's results; ?format=csv as CSV,
// one row per part (all, then each breakdown segment), goal and variant.
func (a *API) experimentResults(w http.ResponseWriter, r *http.Request, site store.Site) error {
	e, err := a.compare.experiments.Experiment(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := experiment.Parse(e.Definition)
	if err != nil {
		return fmt.Errorf("experiment %s is unreadable: %w", e.ID, err)
	}
	resolved, err := a.experimentFunnels(r, site, d)
	if err != nil {
		return err
	}
	res, err := a.compare.results.Results(r.Context(), site.ID, resolved)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") != "csv" {
		apierr.WriteJSON(w, http.StatusOK, map[string]any{"experiment": experimentJSON{ID: e.ID, Definition: d,
			CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}, "results": res})
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="experiment-`+e.ID+`.csv"`)
	cw := csv.NewWriter(w)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return f(*v)
	}
	cw.Write([]string{"segment", "goal", "variant", "control", "users", "conversions", "rate", "rate_low", "rate_high",
		"mean", "diff", "diff_low", "diff_high", "lift", "lift_low", "lift_high", "test", "p", "q", "significant"})
	for _, p := range append([]experiment.Part{res.Part}, res.Breakdown...) {
		for _, g := range p.Goals {
			for _, arm := range g.Arms {
				row := []string{p.Segment, g.Goal.Name, arm.Variant, strconv.FormatBool(arm.Control),
					strconv.FormatInt(arm.Users, 10), strconv.FormatInt(arm.Conversions, 10), f(arm.Rate),
					f(arm.Interval.Low), f(arm.Interval.High), f(arm.Mean), opt(arm.Diff), "", "", opt(arm.Lift), "", "",
					arm.Test, opt(arm.P), opt(arm.Q), strconv.FormatBool(arm.Significant)}
				if arm.DiffInterval != nil {
					row[11], row[12] = f(arm.DiffInterval.Low), f(arm.DiffInterval.High)
				}
				if arm.LiftInterval != nil {
					row[14], row[15] = f(arm.LiftInterval.Low), f(arm.LiftInterval.High)
				}
				cw.Write(row)
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
