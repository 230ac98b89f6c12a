package storetest

import (
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// AlertStore is what the alerts suite needs: the configuration and the
// outbox, and feedback to make a cause with.
type AlertStore interface {
	store.AlertConfig
	store.AlertOutbox
	store.FeedbackItems
}

// RunAlerts runs the suite of alert configuration and the outbox.
func RunAlerts(t *testing.T, open Opener[AlertStore]) {
	t.Run("causes are recorded only for watched sites and kinds, and resolve with their messages", func(t *testing.T) {
		s := open(t, NewClock().Now)
		check(t, s.SaveAlertConfig(ctx, 1, []byte(`{"rules":[]}`), []string{store.CauseFeedback}), "SaveAlertConfig")
		check(t, s.AddFeedback(ctx, item("f1", 0, 2, "https://a/")), "AddFeedback")
		other := item("f2", time.Second, 1, "https://b/")
		other.SiteID = 2 // not watched
		check(t, s.AddFeedback(ctx, other), "AddFeedback")
		causes, err := s.AlertCauses(ctx, 10)
		if err != nil || len(causes) != 1 || causes[0].Kind != store.CauseFeedback || causes[0].Ref != "f1" || causes[0].SiteID != 1 {
			t.Fatalf("causes %+v, %v; want the watched site's feedback f1", causes, err)
		}
		if b, err := s.AlertConfig(ctx, 1); err != nil || string(b) != `{"rules":[]}` {
			t.Errorf("config %s, %v", b, err)
		}
		m := store.AlertMessage{ID: "msg_1", SiteID: 1, RuleID: "r1", DestinationID: "d1", Type: "feedback.new", Summary: "s",
			Body: []byte(`{}`), Status: store.AlertPending, CreatedAt: T0, NextAt: T0}
		check(t, s.ResolveAlerts(ctx, []int64{causes[0].ID}, []store.AlertMessage{m},
			[]store.AlertMember{{RuleID: "r1", UserKey: 7, In: true}}), "ResolveAlerts")
		if causes, _ := s.AlertCauses(ctx, 10); len(causes) != 0 {
			t.Errorf("causes after resolving: %+v", causes)
		}
		if in, err := s.AlertMembers(ctx, "r1", []int64{7, 8}); err != nil || !in[7] || in[8] {
			t.Errorf("members %v, %v", in, err)
		}
		if n, err := s.CountAlerts(ctx, "r1", T0); err != nil || n != 1 {
			t.Errorf("count %d, %v", n, err)
		}
		// Watching nothing any more: no cause.
		check(t, s.SaveAlertConfig(ctx, 1, []byte(`{}`), nil), "SaveAlertConfig")
		check(t, s.AddFeedback(ctx, item("f3", 2*time.Second, 1, "https://a/")), "AddFeedback")
		if causes, _ := s.AlertCauses(ctx, 10); len(causes) != 0 {
			t.Errorf("causes of an unwatched site: %+v", causes)
		}
	})
	t.Run("due messages skip disabled destinations until re-enabled; attempts are logged", func(t *testing.T) {
		s := open(t, NewClock().Now)
		msg := func(id, dest string, next time.Time) store.AlertMessage {
			return store.AlertMessage{ID: id, SiteID: 1, RuleID: "r", DestinationID: dest, Type: "t", Summary: id, Body: []byte(`{}`),
				Status: store.AlertPending, CreatedAt: T0, NextAt: next}
		}
		check(t, s.ResolveAlerts(ctx, nil, []store.AlertMessage{msg("a", "d1", T0), msg("b", "d2", T0), msg("c", "d1", T0.Add(time.Hour))}, nil), "ResolveAlerts")
		due, err := s.DueAlerts(ctx, T0.Add(time.Minute), 10)
		if err != nil || len(due) != 2 {
			t.Fatalf("due %+v, %v; want a and b", due, err)
		}
		a := due[0]
		if a.ID != "a" {
			a = due[1]
		}
		a.Attempts, a.NextAt = 1, T0.Add(2*time.Hour)
		check(t, s.FinishAttempt(ctx, store.AlertAttempt{MessageID: "a", SiteID: 1, DestinationID: "d1", Attempt: 1, At: T0, Status: 500,
			Error: "answered 500", Latency: 3 * time.Millisecond, Response: "oops"}, a,
			store.DestinationState{Failures: 1, DisabledAt: T0, Reason: "failing"}), "FinishAttempt")
		if st, err := s.DestinationState(ctx, 1, "d1"); err != nil || st.Failures != 1 || st.DisabledAt.IsZero() || st.Reason != "failing" {
			t.Errorf("state %+v, %v", st, err)
		}
		due, _ = s.DueAlerts(ctx, T0.Add(3*time.Hour), 10)
		if len(due) != 1 || due[0].ID != "b" {
			t.Errorf("due with d1 disabled: %+v; want b only", due)
		}
		check(t, s.EnableDestination(ctx, 1, "d1", T0.Add(time.Minute)), "EnableDestination")
		due, _ = s.DueAlerts(ctx, T0.Add(time.Minute), 10)
		if len(due) != 3 {
			t.Errorf("due after re-enabling: %+v; want a, b and c (now due)", due)
		}
		log, err := s.AlertAttempts(ctx, 1, "d1", 10)
		if err != nil || len(log) != 1 || log[0].Status != 500 || log[0].Response != "oops" || log[0].Latency != 3*time.Millisecond {
			t.Errorf("log %+v, %v", log, err)
		}
		if log, _ := s.AlertAttempts(ctx, 2, "", 10); len(log) != 0 {
			t.Errorf("another site's log: %+v", log)
		}
	})
}
