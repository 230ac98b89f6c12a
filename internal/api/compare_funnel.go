package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/compare"
	"github.com/sightline/sightline/internal/insight"
	"github.com/sightline/sightline/internal/store"
)

// compareFunnel adds a saved funnel's conversion in each group to a
// comparison's side by side: of the group's users who entered the funnel
// in the comparison's period (its first step), the share who reached its
// last step within the funnel's window. The funnel is computed by the
// insights engine, broken down by the two groups' segments as the
// comparison used them (shared users left out unless kept).
func (a *API) compareFunnel(r *http.Request, site store.Site, id string, res *compare.Result) error {
	saved, err := a.store.Insight(r.Context(), site.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && saved.Kind != "funnel") {
		return apierr.Invalid("unknown_funnel", "funnel", "%q is not a saved funnel of this site", id)
	}
	if err != nil {
		return err
	}
	var def insight.Funnel
	if err := json.Unmarshal(saved.Definition, &def); err != nil {
		return err
	}
	last := res.To.Add(-time.Nanosecond)
	def.Range = siteZone(insight.Range{From: res.From.Format(time.DateOnly), To: last.Format(time.DateOnly), TZ: def.TZ}, site)
	def.Breakdown = insight.Breakdown{Segments: []insight.SegmentRef{{Text: res.A.Segment, Name: res.A.Label}, {Text: res.B.Segment, Name: res.B.Label}}}
	out, err := a.insights.Funnel(r.Context(), site.ID, def)
	if err != nil {
		if fe, ok := err.(*store.FieldError); ok {
			return apierr.Invalid(fe.Code, "funnel", "the funnel %q does not compute here: %s", saved.Name, fe.Msg)
		}
		return err
	}
	if len(out.Groups) < 3 {
		return errors.New("BUG: a funnel broken down by two segments has fewer than three groups")
	}
	ends := func(g insight.FunnelGroup) (entered, completed int64) {
		return g.Steps[0].Users, g.Steps[len(g.Steps)-1].Users
	}
	ea, ca := ends(out.Groups[1])
	eb, cb := ends(out.Groups[2])
	res.AddShare("funnel_conversion", "Funnel: "+saved.Name+" (completed, of those who entered)", ca, ea, cb, eb)
	return nil
}
