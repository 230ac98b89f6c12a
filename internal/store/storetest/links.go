package storetest

import (
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// VisitorStore keeps what visitors answer beside who they are.
type VisitorStore interface {
	Analytics
	store.SurveyResponses
	store.FeedbackItems
}

// RunVisitorLinks runs the suite of how responses and feedback name their
// user: the one their user ID (else their anonymous ID) belongs to when
// read, so that they follow identifies and merges without being
// rewritten.
func RunVisitorLinks(t *testing.T, open Opener[VisitorStore]) {
	t.Run("responses and feedback belong to the user their visitor is now", func(t *testing.T) {
		s := open(t, NewClock().Now)
		check(t, s.SaveResponse(ctx, response("sv", "r-anon", "anon-1", "", 0, true, 9), nil), "SaveResponse")
		check(t, s.SaveResponse(ctx, response("sv", "r-user", "anon-x", "u2", 0, true, 3), nil), "SaveResponse")
		check(t, s.AddFeedback(ctx, item("f-anon", 0, 4, "https://app.example.com/")), "AddFeedback")
		userKey := func(responseID string) int64 {
			t.Helper()
			r, err := s.Response(ctx, 1, "sv", responseID)
			check(t, err, "Response")
			return r.UserKey
		}
		feedbackKey := func() int64 {
			t.Helper()
			list, err := s.ListFeedback(ctx, 1, store.FeedbackQuery{})
			check(t, err, "ListFeedback")
			if len(list) != 1 {
				t.Fatalf("feedback = %+v", list)
			}
			return list[0].UserKey
		}
		if userKey("r-anon") != 0 || userKey("r-user") != 0 || feedbackKey() != 0 {
			t.Fatal("visitors the store has never seen have a user")
		}
		// The visitors show up.
		write(t, s, pageView("", "anon-1", "p1", "/", T0), pageView("", "anon-f-anon", "p2", "/", T0), identify("u2", "", "i1", T0, nil))
		a1, u2 := key(t, s, 1, anon("anon-1")), key(t, s, 1, user("u2"))
		if userKey("r-anon") != a1 || userKey("r-user") != u2 || feedbackKey() != key(t, s, 1, anon("anon-f-anon")) {
			t.Errorf("after their first events: %d, %d, %d", userKey("r-anon"), userKey("r-user"), feedbackKey())
		}
		// anon-1 identifies as u1; the feedback's visitor is merged into u2.
		write(t, s, identify("u1", "anon-1", "i2", T0.Add(time.Minute), nil))
		check(t, s.Merge(ctx, 1, anon("anon-f-anon"), user("u2")), "Merge")
		if userKey("r-anon") != key(t, s, 1, user("u1")) || feedbackKey() != u2 {
			t.Errorf("after identify and merge: response %d (u1 %d), feedback %d (u2 %d)",
				userKey("r-anon"), key(t, s, 1, user("u1")), feedbackKey(), u2)
		}
		list, err := s.Responses(ctx, 1, "sv", store.ResponseQuery{})
		check(t, err, "Responses")
		for _, r := range list {
			if r.UserKey == 0 {
				t.Errorf("Responses leaves %s without its user", r.ResponseID)
			}
		}
	})
}
