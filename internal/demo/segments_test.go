package demo_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/sightline/sightline/internal/demo"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
)

// segmentShare is a saved segment the demo must make and the share of the
// site's identified users it may hold.
type segmentShare struct {
	name     string
	min, max float64
}

// savedSegments checks that each site has the demo's segments, saved as
// the API saves them (valid, canonical text and JSON, a description and
// an author), each with a plausible size; that power users are a minority
// and everyone else their complement among identified users; that the A/B
// variants are comparable; and that the detractors are the NPS survey's.
func savedSegments(t *testing.T, f *filled) {
	ctx := context.Background()
	sites := []struct {
		name string
		site int64
		sum  demo.Summary
		want []segmentShare
	}{
		{"Ledgerly", f.saas, f.sum, []segmentShare{
			{"Power users", 0.0001, 0.05}, {"Non-power users", 0.9, 1},
			{"Rage-clickers", 0.01, 0.3}, {"NPS detractors", 0.005, 0.2},
			{"Trial users who became paid", 0.01, 0.3}, {"Trial users who churned", 0.01, 0.3},
			{"High-LTV customers", 0.01, 0.3}, {"Low-LTV customers", 0.01, 0.3},
			{"Onboarding test: variant A", 0.02, 0.3}, {"Onboarding test: variant B", 0.02, 0.3},
		}},
		{"Fernhill", f.shop, f.shsum, []segmentShare{
			{"Cart abandoners", 0.02, 0.6}, {"Checkout abandoners", 0.01, 0.4}, {"Buyers", 0.05, 0.8},
			{"VIPs", 0.02, 0.5}, {"Rage-clickers at checkout", 0.01, 0.3}, {"Cart abandoners (funnel)", 0.01, 0.6},
		}},
	}
	for _, s := range sites {
		identified := count(t, f, `SELECT count(DISTINCT entity_key) FROM identities WHERE site_id = ? AND kind = 1`, s.site)
		saved, err := f.db.ListSegments(ctx, s.site)
		if err != nil {
			t.Fatal(err)
		}
		if len(saved) != len(s.want) || len(s.sum.Segments) != len(s.want) {
			t.Errorf("%s: %d segments saved, %d in the summary, want %d", s.name, len(saved), len(s.sum.Segments), len(s.want))
		}
		byName := map[string]store.SavedSegment{}
		for _, seg := range saved {
			byName[seg.Name] = seg
		}
		reported := map[string]int64{}
		for _, seg := range s.sum.Segments {
			reported[seg.Name] = seg.Size
		}
		sizes := map[string]int64{}
		nodes := map[string]segment.Node{}
		for _, w := range s.want {
			seg, ok := byName[w.name]
			if !ok {
				t.Errorf("%s: no segment %q", s.name, w.name)
				continue
			}
			n := checkSaved(t, f, s.site, seg)
			if n == nil {
				continue
			}
			size, err := f.svc.Segments.Count(ctx, s.site, n)
			if err != nil {
				t.Fatal(err)
			}
			share := float64(size) / float64(identified)
			t.Logf("%s: %-28s %5d  %5.1f%%  %s", s.name, w.name, size, 100*share, seg.Text)
			if size == 0 || share < w.min || share > w.max || size != reported[w.name] {
				t.Errorf("%s: %q has %d members (%.1f%% of %d identified users, reported %d), want %.2f%% to %.0f%%",
					s.name, w.name, size, 100*share, identified, reported[w.name], 100*w.min, 100*w.max)
			}
			sizes[w.name], nodes[w.name] = size, n
		}
		if s.site != f.saas {
			continue
		}
		if p, e := sizes["Power users"], sizes["Non-power users"]; p+e != identified {
			t.Errorf("power users %d + non-power users %d = %d, want the %d identified users", p, e, p+e, identified)
		}
		if a, b := float64(sizes["Onboarding test: variant A"]), float64(sizes["Onboarding test: variant B"]); a < 0.75*b || b < 0.75*a {
			t.Errorf("variant A has %.0f users, B %.0f: want comparable groups", a, b)
		}
		if n := nodes["NPS detractors"]; n != nil {
			npsDetractors(t, f, n, sizes["NPS detractors"])
		}
	}
}

// checkSaved checks that a saved segment is what the API would have saved
// from its text, and returns its tree.
func checkSaved(t *testing.T, f *filled, site int64, seg store.SavedSegment) segment.Node {
	t.Helper()
	ctx := context.Background()
	if seg.Description == "" || seg.Author != demo.DefaultAuthor {
		t.Errorf("segment %q: description %q, author %q", seg.Name, seg.Description, seg.Author)
	}
	n, err := f.svc.Segments.Saved(ctx, site, seg)
	if err != nil {
		t.Errorf("segment %q does not validate: %v", seg.Name, err)
		return nil
	}
	again, err := f.svc.Segments.Prepare(ctx, site, engine.Definition{Text: seg.Text}, seg.ID)
	if err != nil {
		t.Errorf("segment %q: its text %q does not validate: %v", seg.Name, seg.Text, err)
		return nil
	}
	def, err := segment.MarshalNode(again)
	if err != nil {
		t.Fatal(err)
	}
	if segment.Format(n) != seg.Text || !bytes.Equal(def, seg.Definition) {
		t.Errorf("segment %q is not canonical:\ntext %s\nformat %s\njson %s\nfrom text %s",
			seg.Name, seg.Text, segment.Format(n), seg.Definition, def)
	}
	return n
}

// npsDetractors checks that the detractor segment holds exactly the NPS
// survey's detractors: broken down by it, the survey's results have every
// detractor and nobody else.
func npsDetractors(t *testing.T, f *filled, n segment.Node, size int64) {
	t.Helper()
	ctx := context.Background()
	list, err := f.svc.Surveys.List(ctx, f.saas)
	if err != nil {
		t.Fatal(err)
	}
	for _, sv := range list {
		if sv.Status != survey.StatusLive {
			continue
		}
		res, err := f.svc.Surveys.Results(ctx, sv, survey.ResultsQuery{
			Segments: []survey.NamedSegment{{ID: "detractors", Name: "NPS detractors", Node: n}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.NPS == nil || len(res.Segments) != 1 {
			t.Fatalf("NPS survey results: %+v", res)
		}
		sr := res.Segments[0]
		t.Logf("survey: %d detractors of %d responses; the segment: %d respondents, %d detractors of %d responses",
			res.NPS.Detractors, res.NPS.Responses, sr.Respondents, sr.NPS.Detractors, sr.NPS.Responses)
		if sr.NPS.Detractors != res.NPS.Detractors || sr.NPS.Responses != sr.NPS.Detractors ||
			int64(sr.Respondents) != size {
			t.Errorf("the detractor segment (%d users) has %d respondents and %d of the survey's %d detractors among %d responses",
				size, sr.Respondents, sr.NPS.Detractors, res.NPS.Detractors, sr.NPS.Responses)
		}
	}
}

func count(t *testing.T, f *filled, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.SQL().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
