package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// ChangeStore is every store whose writes the membership cache must see,
// with the counters that tell it (store.Changes).
type ChangeStore interface {
	Analytics
	store.Changes
	store.Segments
	store.SurveyResponses
}

// RunChanges runs the suite of the change counters: each write that a
// segment can read moves its counter by the time the write is visible (a
// read after Write sees it), so that a cached membership answer is never
// served across it.
func RunChanges(t *testing.T, open Opener[ChangeStore]) {
	t.Run("each kind of write moves its counter", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, identify("u1", "", "m1", T0, map[string]any{"plan": "free"}), identify("u2", "", "m2", T0, nil),
			pageView("", "a9", "m3", "/", T0), group("u2", "acme", "m4", T0, map[string]any{"industry": "tech"}))
		u1, a9 := key(t, s, 1, user("u1")), key(t, s, 1, anon("a9"))
		n := 0
		msg := func(m store.Message) func() error {
			return func() error {
				n++
				m.MessageID, m.Timestamp, m.ReceivedAt = fmt.Sprint("x", n), T0.Add(time.Duration(n)*time.Second), T0.Add(time.Duration(n)*time.Second)
				if _, err := s.Write(ctx, []store.Message{m}); err != nil {
					return err
				}
				_, err := s.UserKey(ctx, 1, user("u1")) // a read: the write is visible from here
				return err
			}
		}
		seg := store.SavedSegment{SiteID: 1, Name: "s", Definition: []byte(`{"all":[]}`)}
		tests := []struct {
			name  string
			write func() error
			user  int64
			moves []string // of the profile, activity, site and surveys counters
		}{
			{"an event", msg(track("u1", "", "", "Buy", T0, "")), u1, []string{"activity"}},
			{"a page view", msg(pageView("u1", "", "", "/x", T0)), u1, []string{"activity"}},
			{"an attribute", msg(identify("u1", "", "", T0, map[string]any{"plan": "pro"})), u1, []string{"profile"}},
			{"a new attribute key", msg(identify("u1", "", "", T0, map[string]any{"seats": 3.0})), u1, []string{"profile", "site"}},
			{"joining a company", msg(group("u1", "acme", "", T0, nil)), u1, []string{"profile"}},
			{"a company's attribute", msg(group("u2", "acme", "", T0, map[string]any{"industry": "retail"})), u1, []string{"site"}},
			{"an alias, the side merged away", msg(alias("u1", "a9", "", T0)), a9, []string{"profile", "activity"}},
			{"a merge, the side that stays", func() error { return s.Merge(ctx, 1, user("u2"), user("u1")) }, u1, []string{"profile", "activity"}},
			{"a saved segment", func() error { var err error; seg, err = s.SaveSegment(ctx, seg); return err }, u1, []string{"site"}},
			{"a saved segment deleted", func() error { return s.DeleteSegment(ctx, 1, seg.ID) }, u1, []string{"site"}},
			{"a survey response", func() error {
				return s.SaveResponse(ctx, response("sv", "r-1", "", "u1", 0, true, 10), nil)
			}, u1, []string{"surveys"}},
		}
		for _, tt := range tests {
			before := s.Versions(1, tt.user)
			check(t, tt.write(), tt.name)
			after := s.Versions(1, tt.user)
			moved := map[string]bool{"profile": after.Profile > before.Profile, "activity": after.Activity > before.Activity,
				"site": after.Site > before.Site, "surveys": after.Surveys > before.Surveys}
			for _, c := range tt.moves {
				if !moved[c] {
					t.Errorf("%s: the %s counter stayed at %+v", tt.name, c, after)
				}
			}
			if after.Profile < before.Profile || after.Activity < before.Activity || after.Site < before.Site || after.Surveys < before.Surveys {
				t.Errorf("%s: a counter went back: %+v → %+v", tt.name, before, after)
			}
		}
	})
}
