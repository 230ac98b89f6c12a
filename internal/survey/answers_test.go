package survey_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
)

func parsed(t testing.TB) survey.Definition {
	t.Helper()
	d, err := survey.Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func raw(t testing.TB, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPath(t *testing.T) {
	d := parsed(t)
	tests := []struct {
		answers string
		want    string // question IDs in order
	}{
		{`{}`, "score why price bugs love"},
		{`{"score": 10}`, "score love"},
		{`{"score": 7}`, "score"},
		{`{"score": 3}`, "score why price bugs love"}, // price unanswered: its rule does not match
		{`{"score": 3, "why": "Bugs"}`, "score why bugs love"},
		{`{"score": 3, "why": "Speed", "price": 2}`, "score why price"},
	}
	for _, tt := range tests {
		t.Run(tt.answers, func(t *testing.T) {
			ans, err := d.CheckAnswers(raw(t, tt.answers), false)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, i := range d.Path(ans) {
				ids = append(ids, d.Questions[i].ID)
			}
			if got := strings.Join(ids, " "); got != tt.want {
				t.Fatalf("path %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckAnswers(t *testing.T) {
	d := parsed(t)
	tests := []struct {
		name      string
		answers   string
		completed bool
		field     string // "" when valid
		code      string
		want      string // the typed answers, printed
	}{
		{"a promoter completes", `{"score": 10, "love": "Speed"}`, true, "", "", "map[love:Speed score:10]"},
		{"a whole float is a score", `{"score": 9.0}`, false, "", "", "map[score:9]"},
		{"a detractor, partial", `{"score": 2, "why": "Bugs"}`, false, "", "", "map[score:2 why:Bugs]"},
		{"multiple choice", `{"score": 2, "why": "Bugs", "bugs": ["Export", "Reports"]}`, true, "", "", "map[bugs:[Export Reports] score:2 why:Bugs]"},
		{"null and empty are no answer", `{"score": 8, "love": null}`, true, "", "", "map[score:8]"},
		{"empty text is no answer", `{"score": 10, "love": ""}`, true, "", "", "map[score:10]"},
		{"required missing on completion", `{"why": "Speed"}`, true, "answers.score", "missing_answer", ""},
		{"required missing while partial is fine", `{}`, false, "", "", "map[]"},
		{"score above range", `{"score": 11}`, false, "answers.score", "invalid_answer", ""},
		{"score below range", `{"score": -1}`, false, "answers.score", "invalid_answer", ""},
		{"score not whole", `{"score": 9.5}`, false, "answers.score", "invalid_answer", ""},
		{"score as text", `{"score": "9"}`, false, "answers.score", "invalid_answer", ""},
		{"rating of 0", `{"score": 3, "why": "Price", "price": 0}`, false, "answers.price", "invalid_answer", ""},
		{"unknown option", `{"score": 3, "why": "Colour"}`, false, "answers.why", "invalid_answer", ""},
		{"single choice as list", `{"score": 3, "why": ["Bugs"]}`, false, "answers.why", "invalid_answer", ""},
		{"unknown option in a list", `{"score": 3, "why": "Bugs", "bugs": ["Export", "Nope"]}`, false, "answers.bugs", "invalid_answer", ""},
		{"an option twice", `{"score": 3, "why": "Bugs", "bugs": ["Export", "Export"]}`, false, "answers.bugs", "invalid_answer", ""},
		{"unknown question", `{"score": 3, "colour": "red"}`, false, "answers.colour", "unknown_question", ""},
		{"text too long", fmt.Sprintf(`{"score": 10, "love": %q}`, strings.Repeat("é", survey.MaxTextAnswer+1)), false, "answers.love", "invalid_answer", ""},
		{"text at the limit", fmt.Sprintf(`{"score": 10, "love": %q}`, strings.Repeat("é", survey.MaxTextAnswer)), false, "", "", ""},
		{"control characters", `{"score": 10, "love": "a\u0000b"}`, false, "answers.love", "invalid_answer", ""},
		{"a skipped question", `{"score": 10, "why": "Bugs"}`, false, "answers.why", "not_reached", ""},
		{"answer past the end", `{"score": 7, "love": "x"}`, false, "answers.love", "not_reached", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, err := d.CheckAnswers(raw(t, tt.answers), tt.completed)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.want != "" && fmt.Sprint(map[string]any(ans)) != tt.want {
					t.Fatalf("answers %v, want %s", ans, tt.want)
				}
				return
			}
			es, ok := survey.AsErrors(err)
			if !ok || es[0].Field != tt.field || es[0].Code != tt.code {
				t.Fatalf("error %v, want %s at %s", err, tt.code, tt.field)
			}
		})
	}
}

func TestURLsDevicesSampling(t *testing.T) {
	rules := func(match, value string) []survey.URLRule { return []survey.URLRule{{Match: match, Value: value}} }
	tests := []struct {
		name  string
		rules []survey.URLRule
		url   string
		want  bool
	}{
		{"no rules: every page", nil, "https://x.com/a", true},
		{"exact ignores query, fragment, trailing slash, host case", rules("exact", "https://app.example.com/pricing"), "https://App.Example.com/pricing/?utm=1#top", true},
		{"exact is not a prefix", rules("exact", "https://app.example.com/pricing"), "https://app.example.com/pricing/team", false},
		{"exact with a query compares it", rules("exact", "https://a.com/p?plan=pro"), "https://a.com/p?plan=free", false},
		{"exact with the same query", rules("exact", "https://a.com/p?plan=pro"), "https://a.com/p?plan=pro#x", true},
		{"contains", rules("contains", "/billing"), "https://a.com/settings/billing?x", true},
		{"contains, absent", rules("contains", "/billing"), "https://a.com/settings", false},
		{"starts_with", rules("starts_with", "https://a.com/app/"), "https://a.com/app/reports", true},
		{"starts_with, other", rules("starts_with", "https://a.com/app/"), "https://a.com/blog", false},
		{"regex", rules("regex", `/reports/\d+$`), "https://a.com/reports/42", true},
		{"regex, no match", rules("regex", `/reports/\d+$`), "https://a.com/reports/x", false},
		{"any rule matches", []survey.URLRule{{Match: "contains", Value: "/x"}, {Match: "contains", Value: "/y"}}, "https://a.com/y", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := survey.MatchURL(tt.rules, tt.url); got != tt.want {
				t.Fatalf("MatchURL = %v, want %v", got, tt.want)
			}
		})
	}

	// Sampling is stable per visitor and close to the percentage.
	in := 0
	for i := range 10000 {
		v := fmt.Sprintf("visitor-%d", i)
		got := survey.InSample("srv_1", v, 30)
		if got != survey.InSample("srv_1", v, 30) {
			t.Fatal("sampling is not deterministic")
		}
		if got {
			in++
		}
		if !survey.InSample("srv_1", v, 100) {
			t.Fatal("100% left someone out")
		}
	}
	if in < 2800 || in > 3200 {
		t.Fatalf("30%% sample took %d of 10000", in)
	}
}

func TestFrequency(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name string
		fr   survey.Frequency
		seen survey.Seen
		want bool
	}{
		{"never seen", survey.Frequency{Once: true}, survey.Seen{}, true},
		{"completed, once", survey.Frequency{Once: true}, survey.Seen{Completed: now.Add(-400 * day)}, false},
		{"completed, repeat not yet", survey.Frequency{RepeatDays: 30}, survey.Seen{Completed: now.Add(-29 * day)}, false},
		{"completed, repeat due", survey.Frequency{RepeatDays: 30}, survey.Seen{Completed: now.Add(-30 * day)}, true},
		{"dismissed, never again", survey.Frequency{Once: true}, survey.Seen{Dismissed: now.Add(-900 * day)}, false},
		{"dismissed within the window", survey.Frequency{Once: true, DismissDays: 7}, survey.Seen{Dismissed: now.Add(-6 * day)}, false},
		{"dismissed, window over", survey.Frequency{Once: true, DismissDays: 7}, survey.Seen{Dismissed: now.Add(-7 * day)}, true},
	}
	for _, tt := range tests {
		if got := survey.Allows(tt.fr, tt.seen, now); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	d := parsed(t)
	at := func(day int) time.Time { return time.Date(2026, 6, day, 10, 0, 0, 0, time.UTC) } // June 1 2026 is a Monday
	var ds []survey.Decoded
	add := func(day int, completed bool, answers string) {
		ans, err := d.CheckAnswers(raw(t, answers), completed)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, survey.Decoded{SurveyResponse: store.SurveyResponse{CreatedAt: at(day), Completed: completed}, Answers: ans})
	}
	add(1, true, `{"score": 10, "love": "all"}`)
	add(2, true, `{"score": 9}`)
	add(3, true, `{"score": 8}`)
	add(8, true, `{"score": 3, "why": "Bugs", "bugs": ["Export", "Reports"]}`)
	add(9, false, `{"score": 0, "why": "Price"}`)
	add(9, false, `{}`)
	r := survey.Summarize(d, ds, "week", time.Now())
	if r.Total != 6 || r.Completed != 4 || r.Partial != 2 {
		t.Fatalf("counts %+v", r)
	}
	// 2 promoters, 1 passive, 2 detractors of 5: (2-2)/5 = 0.
	if r.NPS == nil || *r.NPS.Score != 0 || r.NPS.Promoters != 2 || r.NPS.Passives != 1 || r.NPS.Detractors != 2 {
		t.Fatalf("nps %+v", r.NPS)
	}
	score := r.Questions[0]
	if score.Answered != 5 || score.Counts["10"] != 1 || score.Counts["0"] != 1 || score.Counts["5"] != 0 || len(score.Counts) != 11 ||
		*score.Average != 6 {
		t.Fatalf("score question %+v", score)
	}
	if why := r.Questions[1]; why.Counts["Bugs"] != 1 || why.Counts["Price"] != 1 || why.Counts["Speed"] != 0 {
		t.Fatalf("why %+v", why)
	}
	if bugs := r.Questions[3]; bugs.Answered != 1 || bugs.Counts["Export"] != 1 || bugs.Counts["Reports"] != 1 {
		t.Fatalf("bugs %+v", bugs)
	}
	if love := r.Questions[4]; love.Answered != 1 || love.Counts != nil {
		t.Fatalf("text question %+v", love)
	}
	// Week of June 1: 2 promoters, 1 passive = 66.7; week of June 8: two detractors = -100.
	if len(r.Trend) != 2 || *r.Trend[0].NPS.Score != 66.7 || *r.Trend[1].NPS.Score != -100 ||
		!r.Trend[1].Start.Equal(at(8).Truncate(24*time.Hour)) {
		t.Fatalf("trend %+v", r.Trend)
	}
	if byDay := survey.Summarize(d, ds, "day", time.Now()); len(byDay.Trend) != 5 {
		t.Fatalf("daily trend has %d points", len(byDay.Trend))
	}
}

// TestTrendMarksPartialAndThinPeriods: the week under way and a week with
// few answers are marked, so that a chart does not draw them as solid.
func TestTrendMarksPartialAndThinPeriods(t *testing.T) {
	d := parsed(t)
	var ds []survey.Decoded
	add := func(at time.Time, score int) {
		ans, err := d.CheckAnswers(raw(t, fmt.Sprintf(`{"score": %d}`, score)), true)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, survey.Decoded{SurveyResponse: store.SurveyResponse{CreatedAt: at, Completed: true}, Answers: ans})
	}
	week := func(day int) time.Time { return time.Date(2026, 6, day, 10, 0, 0, 0, time.UTC) } // June 1 2026 is a Monday
	for i := range survey.MinTrendResponses {
		add(week(1), i%11) // a full week, enough answers
	}
	add(week(8), 9) // a finished week with one answer
	for range 4 {
		add(week(15), 10) // the week under way
	}
	r := survey.Summarize(d, ds, "week", week(17))
	if len(r.Trend) != 3 {
		t.Fatalf("trend %+v", r.Trend)
	}
	for i, want := range []struct{ partial, few bool }{{false, false}, {false, true}, {true, true}} {
		if p := r.Trend[i]; p.Partial != want.partial || p.Few != want.few {
			t.Errorf("week %s: partial %v few %v, want %v %v", p.Start.Format("2006-01-02"), p.Partial, p.Few, want.partial, want.few)
		}
	}
}
