package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// response is a response of site 1 to survey sv, created at T0+at.
func response(sv, id, anon, user string, at time.Duration, completed bool, nps int) store.SurveyResponse {
	r := store.SurveyResponse{SiteID: 1, SurveyID: sv, ResponseID: id, AnonymousID: anon, UserID: user,
		SessionID: "sess-" + anon, URL: "https://app.example.com/settings", CreatedAt: T0.Add(at), UpdatedAt: T0.Add(at)}
	if nps >= 0 {
		r.NPS = &nps
		r.Answers = fmt.Appendf(nil, `{"q1":%d}`, nps)
	} else {
		r.Answers = []byte(`{}`)
	}
	if completed {
		r.Completed, r.CompletedAt = true, r.UpdatedAt
	}
	return r
}

// RunSurveyResponses runs the suite of survey responses and dismissals.
func RunSurveyResponses(t *testing.T, open Opener[store.SurveyResponses]) {
	save := func(t *testing.T, s store.SurveyResponses, r store.SurveyResponse) {
		t.Helper()
		var answers []store.AnswerValue
		if r.NPS != nil {
			n := float64(*r.NPS)
			answers = append(answers, store.AnswerValue{QuestionID: "q1", Num: &n})
		}
		check(t, s.SaveResponse(ctx, r, answers), "SaveResponse")
	}

	t.Run("a response reads back as saved", func(t *testing.T) {
		s := open(t, NewClock().Now)
		open := response("sv1", "r-open-1", "anon-1", "", 0, false, -1)
		done := response("sv1", "r-done-1", "anon-2", "u2", time.Minute, true, 9)
		save(t, s, open)
		save(t, s, done)
		for _, want := range []store.SurveyResponse{open, done} {
			got, err := s.Response(ctx, 1, "sv1", want.ResponseID)
			check(t, err, "Response")
			sameResponse(t, got, want)
			if got.UserKey != 0 {
				t.Errorf("%s: user key %d for a visitor the store has never seen", want.ResponseID, got.UserKey)
			}
		}
		_, err := s.Response(ctx, 1, "sv1", "r-nope")
		wantErr(t, err, store.ErrNotFound, "an unknown response")
		_, err = s.Response(ctx, 2, "sv1", done.ResponseID)
		wantErr(t, err, store.ErrNotFound, "a response through another site")
		_, err = s.Response(ctx, 1, "sv2", done.ResponseID)
		wantErr(t, err, store.ErrNotFound, "a response through another survey")
	})

	t.Run("saving a response again replaces it: answers, score, completion", func(t *testing.T) {
		s := open(t, NewClock().Now)
		first := response("sv1", "r-1", "anon-1", "", 0, false, 3)
		save(t, s, first)
		later := response("sv1", "r-1", "anon-1", "u1", 0, true, 10)
		later.UpdatedAt = T0.Add(time.Minute)
		later.CompletedAt = later.UpdatedAt
		later.Answers = []byte(`{"q1":10,"q2":"great"}`)
		save(t, s, later)
		got, err := s.Response(ctx, 1, "sv1", "r-1")
		check(t, err, "Response")
		sameResponse(t, got, later)
		list, err := s.Responses(ctx, 1, "sv1", store.ResponseQuery{})
		check(t, err, "Responses")
		if len(list) != 1 {
			t.Fatalf("Responses after an upsert = %d rows, want 1", len(list))
		}
		sameResponse(t, list[0], later)
		counts, err := s.CompletedCounts(ctx, 1, []string{"sv1"})
		check(t, err, "CompletedCounts")
		if counts["sv1"] != 1 {
			t.Errorf("CompletedCounts = %v, want sv1: 1", counts)
		}
		// The same response ID in another survey is another response.
		save(t, s, response("sv2", "r-1", "anon-1", "", 0, false, 5))
		if got, _ := s.Response(ctx, 1, "sv1", "r-1"); got.NPS == nil || *got.NPS != 10 {
			t.Errorf("sv1's r-1 after sv2's r-1 was saved: %+v", got)
		}
	})

	t.Run("responses are listed newest first, in a period, page by page", func(t *testing.T) {
		s := open(t, NewClock().Now)
		// Six responses, three of them at the same moment.
		for i, at := range []time.Duration{0, time.Hour, time.Hour, time.Hour, 2 * time.Hour, 3 * time.Hour} {
			r := response("sv1", fmt.Sprintf("r-%d", i), fmt.Sprint("anon-", i), "", at, i%2 == 0, i)
			save(t, s, r)
		}
		save(t, s, response("sv2", "r-x", "anon-x", "", time.Hour, true, 1))
		other := response("sv1", "r-y", "anon-y", "", time.Hour, true, 1)
		other.SiteID = 2
		save(t, s, other)
		want := []string{"r-5", "r-4", "r-3", "r-2", "r-1", "r-0"}
		all, err := s.Responses(ctx, 1, "sv1", store.ResponseQuery{})
		check(t, err, "Responses")
		if got := responseIDs(all); !slices.Equal(got, want) {
			t.Errorf("Responses = %q, want %q", got, want)
		}
		var paged []string
		q := store.ResponseQuery{Limit: 2}
		for range 10 {
			page, err := s.Responses(ctx, 1, "sv1", q)
			check(t, err, "Responses (page)")
			if len(page) == 0 {
				break
			}
			paged = append(paged, responseIDs(page)...)
			last := page[len(page)-1]
			q.Before, q.BeforeID = last.CreatedAt, last.ResponseID
		}
		if !slices.Equal(paged, want) {
			t.Errorf("paged by 2 = %q, want %q", paged, want)
		}
		period, err := s.Responses(ctx, 1, "sv1", store.ResponseQuery{From: T0.Add(time.Hour), To: T0.Add(2 * time.Hour)})
		check(t, err, "Responses (period)")
		if got := responseIDs(period); !slices.Equal(got, []string{"r-3", "r-2", "r-1"}) {
			t.Errorf("Responses in [1h, 2h) = %q", got)
		}
	})

	t.Run("completed responses are counted per survey", func(t *testing.T) {
		s := open(t, NewClock().Now)
		save(t, s, response("sv1", "r-1", "a1", "", 0, true, 1))
		save(t, s, response("sv1", "r-2", "a2", "", 0, true, 2))
		save(t, s, response("sv1", "r-3", "a3", "", 0, false, 3))
		save(t, s, response("sv2", "r-1", "a1", "", 0, true, 4))
		save(t, s, response("sv3", "r-1", "a1", "", 0, false, 4))
		other := response("sv1", "r-9", "a9", "", 0, true, 1)
		other.SiteID = 2
		save(t, s, other)
		counts, err := s.CompletedCounts(ctx, 1, []string{"sv1", "sv3", "sv4"})
		check(t, err, "CompletedCounts")
		if counts["sv1"] != 2 || counts["sv3"] != 0 || counts["sv4"] != 0 {
			t.Errorf("CompletedCounts = %v, want sv1: 2 and none for sv3, sv4", counts)
		}
		if _, ok := counts["sv2"]; ok {
			t.Errorf("CompletedCounts counted sv2, which was not asked for: %v", counts)
		}
	})

	t.Run("dismissals are counted per survey in a period", func(t *testing.T) {
		s := open(t, NewClock().Now)
		for i, at := range []time.Duration{0, time.Hour, 2 * time.Hour} {
			check(t, s.Dismiss(ctx, store.Dismissal{SiteID: 1, SurveyID: "sv1", AnonymousID: fmt.Sprint("a", i), At: T0.Add(at)}), "Dismiss")
		}
		check(t, s.Dismiss(ctx, store.Dismissal{SiteID: 1, SurveyID: "sv2", AnonymousID: "a0", At: T0}), "Dismiss")
		check(t, s.Dismiss(ctx, store.Dismissal{SiteID: 2, SurveyID: "sv1", AnonymousID: "a0", At: T0}), "Dismiss")
		for _, tt := range []struct {
			from, to time.Time
			want     int64
		}{
			{time.Time{}, time.Time{}, 3},
			{T0.Add(time.Hour), time.Time{}, 2},
			{time.Time{}, T0.Add(time.Hour), 1},
			{T0, T0.Add(2 * time.Hour), 2},
			{T0.Add(3 * time.Hour), time.Time{}, 0},
		} {
			n, err := s.Dismissals(ctx, 1, "sv1", tt.from, tt.to)
			check(t, err, "Dismissals")
			if n != tt.want {
				t.Errorf("Dismissals(%v, %v) = %d, want %d", tt.from, tt.to, n, tt.want)
			}
		}
	})

	t.Run("histories give each visitor's last completion and dismissal", func(t *testing.T) {
		s := open(t, NewClock().Now)
		// A known user, by user ID: two completions, a dismissal.
		save(t, s, response("sv1", "r-1", "anon-1", "u1", 0, true, 8))
		save(t, s, response("sv1", "r-2", "anon-1b", "u1", time.Hour, true, 9))
		check(t, s.Dismiss(ctx, store.Dismissal{SiteID: 1, SurveyID: "sv1", AnonymousID: "anon-1", UserID: "u1", At: T0.Add(2 * time.Hour)}), "Dismiss")
		// An anonymous visitor: a completion and an open response.
		save(t, s, response("sv1", "r-3", "anon-3", "", 3*time.Hour, true, 2))
		save(t, s, response("sv2", "r-4", "anon-3", "", 4*time.Hour, false, 2))
		// Only dismissed.
		check(t, s.Dismiss(ctx, store.Dismissal{SiteID: 1, SurveyID: "sv2", AnonymousID: "anon-5", At: T0.Add(5 * time.Hour)}), "Dismiss")
		check(t, s.Dismiss(ctx, store.Dismissal{SiteID: 1, SurveyID: "sv2", AnonymousID: "anon-5", At: T0.Add(6 * time.Hour)}), "Dismiss")
		// Another site's.
		other := response("sv1", "r-9", "anon-9", "", 0, true, 1)
		other.SiteID = 2
		save(t, s, other)

		hs, err := s.SurveyHistories(ctx, 1)
		check(t, err, "SurveyHistories")
		type visitor struct{ survey, user, anon string }
		got := map[visitor]store.SurveyHistory{}
		for _, h := range hs {
			v := visitor{h.SurveyID, h.UserID, h.AnonymousID}
			if h.UserID != "" && h.AnonymousID != "" {
				t.Errorf("history %+v names a user by both IDs", h)
			}
			m := got[v]
			if h.Completed.After(m.Completed) {
				m.Completed = h.Completed
			}
			if h.Dismissed.After(m.Dismissed) {
				m.Dismissed = h.Dismissed
			}
			got[v] = m
		}
		want := map[visitor][2]time.Time{
			{"sv1", "u1", ""}:     {T0.Add(time.Hour), T0.Add(2 * time.Hour)},
			{"sv1", "", "anon-3"}: {T0.Add(3 * time.Hour), {}},
			{"sv2", "", "anon-5"}: {{}, T0.Add(6 * time.Hour)},
		}
		if len(got) != len(want) {
			t.Errorf("SurveyHistories = %+v, want %d visitors", hs, len(want))
		}
		for v, w := range want {
			h, ok := got[v]
			if !ok || !sameTime(h.Completed, w[0]) || !sameTime(h.Dismissed, w[1]) {
				t.Errorf("history of %+v = %+v (found %v), want completed %v, dismissed %v", v, h, ok, w[0], w[1])
			}
		}
	})
}

func sameResponse(t *testing.T, got, want store.SurveyResponse) {
	t.Helper()
	npsEqual := (got.NPS == nil) == (want.NPS == nil) && (got.NPS == nil || *got.NPS == *want.NPS)
	if got.SiteID != want.SiteID || got.SurveyID != want.SurveyID || got.ResponseID != want.ResponseID ||
		got.AnonymousID != want.AnonymousID || got.UserID != want.UserID || got.SessionID != want.SessionID ||
		got.URL != want.URL || !bytes.Equal(got.Answers, want.Answers) || !npsEqual || got.Completed != want.Completed ||
		!sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) ||
		!sameTime(got.CompletedAt, want.CompletedAt) {
		t.Errorf("response = %+v, want %+v", got, want)
	}
}

func responseIDs(list []store.SurveyResponse) []string {
	var ids []string
	for _, r := range list {
		ids = append(ids, r.ResponseID)
	}
	return ids
}
