package compare_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/compare"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestCompaniesAndAnswersByHand compares users written by hand, plan "a"
// (u1–u3) with everyone else (u4–u6), on company attributes (u1 and u6
// have two companies, u1's of one industry) and survey answers (u1
// answered twice: the latest counts; u6 before the period: not at all),
// against values worked out by hand.
func TestCompaniesAndAnswersByHand(t *testing.T) {
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "d.duckdb"), duckstore.Options{MemoryLimit: "512MB", Threads: 2},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	site, _, err := db.CreateSite(ctx, "Hand", nil)
	if err != nil {
		t.Fatal(err)
	}
	at := now.Add(-10 * 24 * time.Hour)
	var msgs []store.Message
	msg := func(m store.Message) {
		m.SiteID, m.MessageID, m.Timestamp, m.ReceivedAt = site.ID, fmt.Sprintf("m%d", len(msgs)), at, at
		msgs = append(msgs, m)
	}
	for i := 1; i <= 6; i++ {
		plan := "a"
		if i > 3 {
			plan = "b"
		}
		msg(store.Message{Kind: store.KindIdentify, UserID: fmt.Sprintf("u%d", i), Traits: []attr.Pair{{Key: "plan", Raw: plan}}})
	}
	company := map[string][]attr.Pair{
		"c1": {{Key: "industry", Raw: "tech"}, {Key: "employees", Raw: 10.0}},
		"c2": {{Key: "industry", Raw: "tech"}, {Key: "employees", Raw: 20.0}},
		"c3": {{Key: "industry", Raw: "retail"}, {Key: "employees", Raw: 30.0}},
	}
	for _, link := range [][2]string{{"u1", "c1"}, {"u1", "c2"}, {"u2", "c3"}, {"u4", "c1"}, {"u5", "c3"}, {"u5", "c3"},
		{"u6", "c1"}, {"u6", "c3"}} {
		msg(store.Message{Kind: store.KindGroup, UserID: link[0], GroupID: link[1], Traits: company[link[1]]})
	}
	if _, err := db.Write(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	num := func(v float64) *float64 { return &v }
	str := func(v string) *string { return &v }
	for i, r := range []struct {
		user string
		at   time.Duration // before now
		rate float64
		why  []string
	}{
		{"u1", 9 * 24 * time.Hour, 2, []string{"fast", "cheap"}},
		{"u1", 8 * 24 * time.Hour, 4, []string{"cheap"}},
		{"u2", 8 * 24 * time.Hour, 5, []string{"fast"}},
		{"u4", 8 * 24 * time.Hour, 1, []string{"slow"}},
		{"u5", 7 * 24 * time.Hour, 4, []string{"fast", "slow"}},
		{"u6", 40 * 24 * time.Hour, 3, []string{"cheap"}},
	} {
		ts := now.Add(-r.at)
		answers := []store.AnswerValue{{QuestionID: "rate", Num: num(r.rate)}}
		for _, w := range r.why {
			answers = append(answers, store.AnswerValue{QuestionID: "why", Text: str(w)})
		}
		if err := db.SaveResponse(ctx, store.SurveyResponse{SiteID: site.ID, SurveyID: "s1", ResponseID: fmt.Sprintf("r%d", i),
			UserID: r.user, AnonymousID: "a-" + r.user, Answers: []byte("{}"), Completed: true, CreatedAt: ts, UpdatedAt: ts,
			CompletedAt: ts}, answers); err != nil {
			t.Fatal(err)
		}
	}
	clock := func() time.Time { return now }
	seg := engine.New(db, compiler.DuckDB{}, clock)
	res, err := compare.New(db, seg, compiler.DuckDB{}, clock).Compare(ctx, site.ID, compare.Request{
		A: parse(t, `plan = "a"`), From: now.Add(-30 * 24 * time.Hour), To: now,
		Questions: []compare.Question{{Survey: "s1", SurveyName: "S", ID: "rate", Prompt: "Rate", Score: true, Low: 1},
			{Survey: "s1", SurveyName: "S", ID: "why", Prompt: "Why"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]compare.Row{}
	for _, r := range res.Rows {
		got[r.Kind+" "+r.Key+" "+r.Value] = r
	}
	for _, w := range []struct {
		row    string
		a, b   float64
		na, nb int64
	}{
		{"company industry tech", 1.0 / 3, 2.0 / 3, 3, 3},
		{"company industry retail", 1.0 / 3, 2.0 / 3, 3, 3},
		{"company employees ", 20, 20, 3, 4}, // A: 10, 20, 30; B: 10, 30, 10, 30
		{"answer s1/rate ", 4.5, 2.5, 2, 2},
		{"answer s1/why cheap", 0.5, 0, 2, 2},
		{"answer s1/why fast", 0.5, 0.5, 2, 2},
		{"answer s1/why slow", 0, 1, 2, 2},
	} {
		r, ok := got[w.row]
		if !ok {
			t.Errorf("no row %q", w.row)
			continue
		}
		if math.Abs(r.A-w.a) > 1e-12 || math.Abs(r.B-w.b) > 1e-12 || r.NA != w.na || r.NB != w.nb {
			t.Errorf("%s: A %v B %v (n %d/%d), want A %v B %v (n %d/%d)", w.row, r.A, r.B, r.NA, r.NB, w.a, w.b, w.na, w.nb)
		}
	}
	// The users behind a row: a segment that selects exactly them.
	for _, c := range []struct {
		text string
		want int64
	}{
		{got["answer s1/why fast"].SegmentA, 1},    // u2 (u1's latest answer is not fast)
		{got["company industry tech"].SegmentB, 2}, // u4, u6
	} {
		n, err := seg.Prepare(ctx, site.ID, engine.Definition{Text: c.text}, "")
		if err != nil {
			t.Fatalf("%s: %v", c.text, err)
		}
		if size, err := seg.Count(ctx, site.ID, n); err != nil || size != c.want {
			t.Errorf("%s selects %d users (%v), want %d", c.text, size, err, c.want)
		}
	}
}
