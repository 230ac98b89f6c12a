package storetest

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// RunFeedbackSettings runs the suite of each site's feedback settings.
func RunFeedbackSettings(t *testing.T, open Opener[store.FeedbackSettings]) {
	t.Run("settings are nil until saved, then the last saved, per site", func(t *testing.T) {
		s := open(t, NewClock().Now)
		got, err := s.FeedbackSettings(ctx, 1)
		if err != nil || got != nil {
			t.Fatalf("settings never saved = %q, %v; want nil", got, err)
		}
		check(t, s.SaveFeedbackSettings(ctx, 1, []byte(`{"enabled":true,"label":"Feedback — ✉"}`)), "SaveFeedbackSettings")
		check(t, s.SaveFeedbackSettings(ctx, 2, []byte(`{"enabled":false}`)), "SaveFeedbackSettings")
		check(t, s.SaveFeedbackSettings(ctx, 1, []byte(`{"enabled":true,"label":"Tell us"}`)), "SaveFeedbackSettings")
		for site, want := range map[int64]string{1: `{"enabled":true,"label":"Tell us"}`, 2: `{"enabled":false}`} {
			got, err := s.FeedbackSettings(ctx, site)
			if err != nil || string(got) != want {
				t.Errorf("site %d: settings %s, %v; want %s", site, got, err, want)
			}
		}
	})
}

// item is a piece of feedback of site 1 given at T0+at.
func item(id string, at time.Duration, rating int, url string) store.FeedbackItem {
	return store.FeedbackItem{ID: id, SiteID: 1, AnonymousID: "anon-" + id, SessionID: "sess-" + id, URL: url,
		Rating: rating, Comment: "comment " + id, Selector: "#" + id, CreatedAt: T0.Add(at)}
}

// RunFeedback runs the suite of feedback items.
func RunFeedback(t *testing.T, open Opener[store.FeedbackItems]) {
	add := func(t *testing.T, s store.FeedbackItems, f store.FeedbackItem) {
		t.Helper()
		check(t, s.AddFeedback(ctx, f), "AddFeedback")
	}

	t.Run("feedback reads back as given, newest first", func(t *testing.T) {
		s := open(t, NewClock().Now)
		a := item("f-a", 0, 5, "https://app.example.com/")
		a.UserID, a.Comment = "u1", "Große Klasse — 👍\nzweite Zeile"
		b := item("f-b", time.Minute, 1, "https://app.example.com/billing")
		b.Selector, b.Comment = "", ""
		add(t, s, a)
		add(t, s, b)
		other := item("f-c", 0, 3, "https://app.example.com/")
		other.SiteID = 2
		add(t, s, other)
		list, err := s.ListFeedback(ctx, 1, store.FeedbackQuery{})
		check(t, err, "ListFeedback")
		if len(list) != 2 {
			t.Fatalf("ListFeedback = %+v, want site 1's two", list)
		}
		for i, want := range []store.FeedbackItem{b, a} {
			got := list[i]
			if got.ID != want.ID || got.SiteID != 1 || got.AnonymousID != want.AnonymousID || got.UserID != want.UserID ||
				got.SessionID != want.SessionID || got.URL != want.URL || got.Rating != want.Rating ||
				got.Comment != want.Comment || got.Selector != want.Selector || !sameTime(got.CreatedAt, want.CreatedAt) {
				t.Errorf("item %d = %+v, want %+v", i, got, want)
			}
			if got.UserKey != 0 {
				t.Errorf("item %s: user key %d for a visitor the store has never seen", got.ID, got.UserKey)
			}
		}
	})

	t.Run("feedback is filtered by period, page and rating, and paged", func(t *testing.T) {
		s := open(t, NewClock().Now)
		pages := []string{"https://app.example.com/billing", "https://app.example.com/settings", "https://app.example.com/billing/invoices"}
		for i := range 9 {
			at := time.Duration(i/3) * time.Hour // three at each hour
			add(t, s, item(fmt.Sprintf("f-%d", i), at, 1+i%5, pages[i%3]))
		}
		ids := func(list []store.FeedbackItem) []string {
			var out []string
			for _, f := range list {
				out = append(out, f.ID)
			}
			return out
		}
		tests := []struct {
			name string
			q    store.FeedbackQuery
			want []string
		}{
			{"all", store.FeedbackQuery{}, []string{"f-8", "f-7", "f-6", "f-5", "f-4", "f-3", "f-2", "f-1", "f-0"}},
			{"from", store.FeedbackQuery{From: T0.Add(time.Hour)}, []string{"f-8", "f-7", "f-6", "f-5", "f-4", "f-3"}},
			{"to", store.FeedbackQuery{To: T0.Add(time.Hour)}, []string{"f-2", "f-1", "f-0"}},
			{"page", store.FeedbackQuery{Page: "/billing"}, []string{"f-8", "f-6", "f-5", "f-3", "f-2", "f-0"}},
			{"rating", store.FeedbackQuery{Rating: 2}, []string{"f-6", "f-1"}},
			{"page and rating", store.FeedbackQuery{Page: "settings", Rating: 5}, []string{"f-4"}},
			{"limit", store.FeedbackQuery{Limit: 4}, []string{"f-8", "f-7", "f-6", "f-5"}},
			{"after a cursor", store.FeedbackQuery{Limit: 2, Before: T0.Add(time.Hour), BeforeID: "f-4"}, []string{"f-3", "f-2"}},
		}
		for _, tt := range tests {
			list, err := s.ListFeedback(ctx, 1, tt.q)
			check(t, err, "ListFeedback "+tt.name)
			if got := ids(list); !slices.Equal(got, tt.want) {
				t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
			}
		}
		var paged []string
		q := store.FeedbackQuery{Limit: 2}
		for range 10 {
			page, err := s.ListFeedback(ctx, 1, q)
			check(t, err, "ListFeedback (page)")
			if len(page) == 0 {
				break
			}
			paged = append(paged, ids(page)...)
			q.Before, q.BeforeID = page[len(page)-1].CreatedAt, page[len(page)-1].ID
		}
		if len(paged) != 9 || !slices.Equal(paged, tests[0].want) {
			t.Errorf("paged by 2 = %q", paged)
		}
	})

	t.Run("the summary buckets ratings by UTC day or by week from Monday", func(t *testing.T) {
		s := open(t, NewClock().Now)
		// T0 is a Monday 10:00 UTC.
		day := 24 * time.Hour
		for i, f := range []struct {
			at     time.Duration
			rating int
		}{
			{0, 5}, {time.Hour, 4}, {13*time.Hour + 59*time.Minute, 1}, // Monday, to 23:59
			{14 * time.Hour, 2},       // Tuesday 00:00
			{6 * day, 3},              // Sunday
			{7*day - 10*time.Hour, 5}, // the next Monday 00:00
			{7*day + 10*time.Hour, 4}, // the next Monday
			{-10*time.Hour - 1, 1},    // the Sunday before, 23:59:59.999999999
		} {
			it := item(fmt.Sprint("f-", i), f.at, f.rating, "https://app.example.com/")
			it.CreatedAt = it.CreatedAt.Truncate(time.Microsecond)
			add(t, s, it)
		}
		monday := T0.Add(-10 * time.Hour)
		type bucket struct {
			start time.Time
			count int64
			avg   float64
			by    [5]int64
		}
		check1 := func(interval string, q store.FeedbackQuery, want []bucket) {
			t.Helper()
			got, err := s.FeedbackSummary(ctx, 1, q, interval)
			check(t, err, "FeedbackSummary "+interval)
			if len(got) != len(want) {
				t.Fatalf("%s buckets = %+v, want %+v", interval, got, want)
			}
			for i, w := range want {
				g := got[i]
				if !sameTime(g.Start, w.start) || g.Count != w.count || math.Abs(g.Average-w.avg) > 1e-9 || g.ByRating != w.by {
					t.Errorf("%s bucket %d = %+v, want %+v", interval, i, g, w)
				}
			}
		}
		check1("day", store.FeedbackQuery{}, []bucket{
			{monday.Add(-day), 1, 1, [5]int64{1, 0, 0, 0, 0}},
			{monday, 3, 10.0 / 3, [5]int64{1, 0, 0, 1, 1}},
			{monday.Add(day), 1, 2, [5]int64{0, 1, 0, 0, 0}},
			{monday.Add(6 * day), 1, 3, [5]int64{0, 0, 1, 0, 0}},
			{monday.Add(7 * day), 2, 4.5, [5]int64{0, 0, 0, 1, 1}},
		})
		check1("week", store.FeedbackQuery{}, []bucket{
			{monday.Add(-7 * day), 1, 1, [5]int64{1, 0, 0, 0, 0}},
			{monday, 5, 3, [5]int64{1, 1, 1, 1, 1}},
			{monday.Add(7 * day), 2, 4.5, [5]int64{0, 0, 0, 1, 1}},
		})
		check1("week", store.FeedbackQuery{From: monday, To: monday.Add(7 * day), Rating: 4}, []bucket{
			{monday, 1, 4, [5]int64{0, 0, 0, 1, 0}},
		})
		if got, err := s.FeedbackSummary(ctx, 2, store.FeedbackQuery{}, "day"); err != nil || len(got) != 0 {
			t.Errorf("a site without feedback: %+v, %v", got, err)
		}
	})
}
