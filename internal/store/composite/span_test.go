package composite_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// TestWhatSpansBothHalves: a change's alert cause reaches the shared
// outbox; a saved segment moves the counters; the retention kept in
// PostgreSQL expires the embedded events; erasing a user deletes their
// data and the alert messages naming them; deleting a site empties both
// halves.
func TestWhatSpansBothHalves(t *testing.T) {
	ctx := context.Background()
	s := newHalves(t).open(t, nil)
	site, _, err := s.CreateSite(ctx, "Shop", nil)
	must(t, err, "CreateSite")
	must(t, s.SaveAlertConfig(ctx, site.ID, []byte(`{"rules":[]}`), []string{store.CauseChange}), "SaveAlertConfig")

	now := time.Now().UTC().Truncate(time.Second)
	msg := func(kind store.Kind, id string, at time.Time) store.Message {
		return store.Message{SiteID: site.ID, Kind: kind, UserID: "ann", AnonymousID: "anon-ann", MessageID: id,
			Name: "Bought", Timestamp: at, ReceivedAt: at, Traits: attr.Flatten(map[string]any{"plan": "pro"})}
	}
	_, err = s.Write(ctx, []store.Message{msg(store.KindIdentify, "m1", now), msg(store.KindTrack, "m2", now),
		msg(store.KindTrack, "m3", now.Add(-72*time.Hour))})
	must(t, err, "Write")
	key, err := s.UserKey(ctx, site.ID, store.Identity{Kind: "user", ID: "ann"})
	must(t, err, "UserKey")

	// The cause recorded with the change is relayed to PostgreSQL.
	causes, err := s.AlertCauses(ctx, 100)
	must(t, err, "AlertCauses")
	if len(causes) == 0 || causes[0].UserKey != key || causes[0].Kind != store.CauseChange {
		t.Fatalf("causes in the outbox: %+v, want a change of user %d", causes, key)
	}
	again, err := s.DB.AlertCauses(ctx, 100)
	must(t, err, "AlertCauses again")
	if len(again) != len(causes) {
		t.Errorf("relayed twice: %d causes, then %d", len(causes), len(again))
	}
	ids := make([]int64, len(causes))
	for i, c := range causes {
		ids[i] = c.ID
	}
	message := func(id, body string) store.AlertMessage {
		return store.AlertMessage{ID: id, SiteID: site.ID, RuleID: "rule_1", DestinationID: "dst_1", Type: "segment.entered",
			Summary: id, Body: []byte(body), Status: "delivered", CreatedAt: now, NextAt: now, DoneAt: now}
	}
	must(t, s.ResolveAlerts(ctx, ids, []store.AlertMessage{message("msg_ann", `{"user":{"id":"ann"}}`), message("msg_bob", `{"user":{"id":"bob"}}`)},
		[]store.AlertMember{{RuleID: "rule_1", UserKey: key, In: true}}), "ResolveAlerts")

	// A segment saved in PostgreSQL moves the counters the membership
	// cache compares.
	before := s.Versions(site.ID, key)
	_, err = s.SaveSegment(ctx, store.SavedSegment{SiteID: site.ID, Name: "Pro", Definition: []byte(`{"attribute":"plan","op":"=","value":"pro"}`), Text: `plan = "pro"`})
	must(t, err, "SaveSegment")
	if after := s.Versions(site.ID, key); after.Site <= before.Site {
		t.Errorf("Versions after a saved segment: %+v, before %+v", after, before)
	}

	// The retention is PostgreSQL's; the events are duckstore's.
	_, err = s.SetRetention(ctx, site.ID, store.Retention{EventsDays: 2})
	must(t, err, "SetRetention")
	expired, err := s.ExpireData(ctx, now)
	must(t, err, "ExpireData")
	if expired["events"] != 1 {
		t.Errorf("expired %v, want the one event older than 2 days", expired)
	}

	e, err := s.DeleteUser(ctx, site.ID, store.Identity{Kind: "user", ID: "ann"}, store.EraseOptions{})
	must(t, err, "DeleteUser")
	if e.Deleted["events"] != 2 || e.Deleted["alert_messages"] != 1 {
		t.Errorf("erasure deleted %v, want 2 events and 1 alert message", e.Deleted)
	}
	msgs, err := s.AlertMessages(ctx, site.ID, 10)
	must(t, err, "AlertMessages")
	if len(msgs) != 1 || msgs[0].ID != "msg_bob" {
		t.Errorf("alert messages after ann's erasure: %+v, want bob's only", msgs)
	}
	if in, err := s.AlertMembers(ctx, "rule_1", []int64{key}); err != nil || in[key] {
		t.Errorf("the rule still remembers ann: %v %v", in, err)
	}

	_, err = s.Write(ctx, []store.Message{{SiteID: site.ID, Kind: store.KindTrack, UserID: "cid", MessageID: "m4",
		Name: "Came back", Timestamp: now, ReceivedAt: now}})
	must(t, err, "Write")
	counts, err := s.DeleteSite(ctx, site.ID)
	must(t, err, "DeleteSite")
	if counts["sites"] != 1 || counts["segments"] != 1 || counts["events"] != 1 || counts["alert_config"] != 1 {
		t.Errorf("site deletion counts %v, want the site, its segment and alert config (PostgreSQL) and its event (duckstore)", counts)
	}
	if _, err := s.Site(ctx, site.PublicID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted site: %v", err)
	}
	if _, err := s.UserKey(ctx, site.ID, store.Identity{Kind: "user", ID: "cid"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted site's user: %v", err)
	}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
