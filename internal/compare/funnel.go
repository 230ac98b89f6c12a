package compare

import (
	"context"
	"errors"
	"time"

	"github.com/sightline/sightline/internal/insight"
)

// Funnels computes funnels: the insights engine.
type Funnels interface {
	Funnel(ctx context.Context, site int64, def insight.Funnel) (*insight.FunnelResult, error)
}

// AddFunnel adds a funnel's conversion in each group to the side by
// side, as the metric funnel_conversion: of the group's users who
// entered the funnel in the comparison's period (its first step, on the
// days the period touches, in def's time zone), the share who reached
// its last step within the funnel's window. The funnel is computed by f
// broken down by the two groups' segments as the comparison used them
// (shared users left out unless kept); name labels the row. Errors are
// f's (a *store.FieldError when the funnel does not compute here).
func (res *Result) AddFunnel(ctx context.Context, f Funnels, site int64, name string, def insight.Funnel) error {
	last := res.To.Add(-time.Nanosecond)
	def.Range = insight.Range{From: res.From.Format(time.DateOnly), To: last.Format(time.DateOnly), TZ: def.TZ}
	def.Breakdown = insight.Breakdown{Segments: []insight.SegmentRef{{Text: res.A.Segment, Name: res.A.Label},
		{Text: res.B.Segment, Name: res.B.Label}}}
	out, err := f.Funnel(ctx, site, def)
	if err != nil {
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
	res.AddShare("funnel_conversion", "Funnel: "+name+" (completed, of those who entered)", ca, ea, cb, eb)
	return nil
}
