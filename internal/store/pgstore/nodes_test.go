package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/pgstore"
	"github.com/sightline/sightline/internal/store/storetest"
)

// The tests here are of what several nodes sharing one database need:
// each node is a DB of its own (its own pool, its own node name) on the
// same schema.

var ctx = context.Background()

// nodes opens n stores on one new, empty schema.
func nodes(t *testing.T, dbs *databases, n int, opts pgstore.Options) []*pgstore.DB {
	t.Helper()
	dsn := dbs.schema(t)
	out := make([]*pgstore.DB, n)
	for i := range out {
		o := opts
		o.Node = fmt.Sprint("node-", i)
		out[i] = openDSN(t, dsn, o)
	}
	return out
}

func TestAcrossNodes(t *testing.T) {
	dbs := newDatabases(t)
	t.Run("the daily recording quota holds when nodes admit at once", func(t *testing.T) {
		t.Parallel()
		ns := nodes(t, dbs, 3, pgstore.Options{})
		const quota, tries = 10, 30
		var wg sync.WaitGroup
		var mu sync.Mutex
		created, refused := 0, 0
		var errs []error
		for i := range tries {
			wg.Go(func() {
				s := ns[i%len(ns)]
				_, made, err := s.StartRecording(ctx, store.RecordingStart{SiteID: 1, BrowserSession: fmt.Sprint("tab-", i),
					AnonymousID: "anon", At: storetest.T0}, quota)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, store.ErrQuota):
					refused++
				case err != nil:
					errs = append(errs, err)
				case made:
					created++
				}
			})
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if created != quota || refused != tries-quota {
			t.Errorf("%d created, %d refused; want %d and %d", created, refused, quota, tries-quota)
		}
	})

	t.Run("one tab started on several nodes at once has one recording", func(t *testing.T) {
		t.Parallel()
		ns := nodes(t, dbs, 3, pgstore.Options{})
		const tries = 12
		var wg sync.WaitGroup
		ids := make([]string, tries)
		made := make([]bool, tries)
		errs := make([]error, tries)
		for i := range tries {
			wg.Go(func() {
				r, c, err := ns[i%len(ns)].StartRecording(ctx, store.RecordingStart{SiteID: 1, BrowserSession: "tab",
					AnonymousID: "anon", At: storetest.T0.Add(time.Duration(i) * time.Millisecond)}, 100)
				ids[i], made[i], errs[i] = r.ID, c, err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := range ids {
			if ids[i] != ids[0] {
				t.Errorf("start %d got recording %s, start 0 %s", i, ids[i], ids[0])
			}
			if made[i] {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d starts created the recording, want 1", n)
		}
	})

	t.Run("nodes delivering at once never take the same message", func(t *testing.T) {
		t.Parallel()
		ns := nodes(t, dbs, 3, pgstore.Options{AlertLease: time.Minute})
		const count = 60
		var msgs []store.AlertMessage
		for i := range count {
			msgs = append(msgs, store.AlertMessage{ID: fmt.Sprint("m", i), SiteID: 1, RuleID: "r", DestinationID: fmt.Sprint("d", i%4),
				Type: "t", Summary: "s", Body: []byte(`{}`), Status: store.AlertPending, CreatedAt: storetest.T0, NextAt: storetest.T0})
		}
		if err := ns[0].ResolveAlerts(ctx, nil, msgs, nil); err != nil {
			t.Fatal(err)
		}
		now := storetest.T0.Add(time.Second)
		taken := make([][]store.AlertMessage, len(ns))
		var wg sync.WaitGroup
		errs := make([]error, len(ns))
		for i, s := range ns {
			wg.Go(func() {
				for {
					due, err := s.DueAlerts(ctx, now, 7)
					if err != nil {
						errs[i] = err
						return
					}
					if len(due) == 0 {
						return
					}
					taken[i] = append(taken[i], due...)
					for _, m := range due { // delivered
						m.Status, m.Attempts, m.DoneAt = store.AlertDelivered, 1, now
						if err := s.FinishAttempt(ctx, store.AlertAttempt{MessageID: m.ID, SiteID: 1, DestinationID: m.DestinationID,
							Attempt: 1, At: now, Status: 200}, m, store.DestinationState{}); err != nil {
							errs[i] = err
							return
						}
					}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for i := range taken {
			for _, m := range taken[i] {
				seen[m.ID]++
			}
		}
		for _, m := range msgs {
			if seen[m.ID] != 1 {
				t.Errorf("message %s taken %d times, want once", m.ID, seen[m.ID])
			}
		}
		log, err := ns[1].AlertAttempts(ctx, 1, "", 1000)
		if err != nil || len(log) != count {
			t.Errorf("%d attempts logged (%v), want %d", len(log), err, count)
		}
	})

	t.Run("a node's lease hides a message from the others until it ends", func(t *testing.T) {
		t.Parallel()
		ns := nodes(t, dbs, 2, pgstore.Options{AlertLease: time.Minute})
		a, b := ns[0], ns[1]
		m := store.AlertMessage{ID: "m1", SiteID: 1, RuleID: "r", DestinationID: "d", Type: "t", Summary: "s", Body: []byte(`{}`),
			Status: store.AlertPending, CreatedAt: storetest.T0, NextAt: storetest.T0}
		if err := a.ResolveAlerts(ctx, nil, []store.AlertMessage{m}, nil); err != nil {
			t.Fatal(err)
		}
		t0 := storetest.T0
		if due, err := a.DueAlerts(ctx, t0, 10); err != nil || len(due) != 1 {
			t.Fatalf("node A: %+v, %v", due, err)
		}
		if due, _ := b.DueAlerts(ctx, t0.Add(30*time.Second), 10); len(due) != 0 {
			t.Errorf("node B took a message node A holds: %+v", due)
		}
		if due, _ := a.DueAlerts(ctx, t0.Add(30*time.Second), 10); len(due) != 1 {
			t.Errorf("node A lost its own message: %+v", due)
		}
		// Node A dies: its lease (renewed at 30 s) runs out at 90 s.
		if due, _ := b.DueAlerts(ctx, t0.Add(89*time.Second), 10); len(due) != 0 {
			t.Errorf("node B took the message before the lease ended: %+v", due)
		}
		if due, _ := b.DueAlerts(ctx, t0.Add(90*time.Second), 10); len(due) != 1 {
			t.Errorf("node B after the lease ended: %+v", due)
		}
	})

	t.Run("causes are leased to one node, and a digest or an entry is made once", func(t *testing.T) {
		t.Parallel()
		c := storetest.NewClock()
		ns := nodes(t, dbs, 2, pgstore.Options{Now: c.Now, AlertLease: time.Minute})
		a, b := ns[0], ns[1]
		if err := a.SaveAlertConfig(ctx, 1, []byte(`{}`), []string{store.CauseChange}); err != nil {
			t.Fatal(err)
		}
		n, err := b.RecordAlertCauses(ctx, []store.AlertCause{{SiteID: 1, Kind: store.CauseChange, UserKey: 7},
			{SiteID: 1, Kind: store.CauseFeedback, Ref: "f"}, {SiteID: 2, Kind: store.CauseChange, UserKey: 8}})
		if err != nil || n != 1 {
			t.Fatalf("recorded %d causes (%v), want only the watched one", n, err)
		}
		ca, err := a.AlertCauses(ctx, 10)
		if err != nil || len(ca) != 1 || ca[0].UserKey != 7 {
			t.Fatalf("node A's causes: %+v, %v", ca, err)
		}
		if cb, _ := b.AlertCauses(ctx, 10); len(cb) != 0 {
			t.Errorf("node B got node A's causes: %+v", cb)
		}
		// Node A is slow: its lease runs out, node B takes the causes, and
		// A may no longer resolve them; B may.
		c.Add(time.Minute)
		cb, err := b.AlertCauses(ctx, 10)
		if err != nil || len(cb) != 1 || cb[0].ID != ca[0].ID {
			t.Fatalf("node B after node A's lease: %+v, %v", cb, err)
		}
		if err := a.ResolveAlerts(ctx, []int64{ca[0].ID}, nil, nil); !errors.Is(err, store.ErrConflict) {
			t.Errorf("node A resolving causes node B took over: %v, want a conflict", err)
		}
		if ca, _ = a.AlertCauses(ctx, 10); len(ca) != 0 {
			t.Errorf("node A got node B's causes back: %+v", ca)
		}
		ca = cb
		a, b = b, a // B holds the causes now
		// Both nodes saw user 7 outside rule r's segment and announce the
		// entry: the second is refused, and changes nothing.
		enter := []store.AlertMember{{RuleID: "r", UserKey: 7, In: true}}
		msg := func(id string) store.AlertMessage {
			return store.AlertMessage{ID: id, SiteID: 1, RuleID: "r", DestinationID: "d", Type: "t", Summary: "s", Body: []byte(`{}`),
				Status: store.AlertPending, CreatedAt: storetest.T0, NextAt: storetest.T0}
		}
		if err := a.ResolveAlerts(ctx, []int64{ca[0].ID}, []store.AlertMessage{msg("from-a")}, enter); err != nil {
			t.Fatal(err)
		}
		err = b.ResolveAlerts(ctx, nil, []store.AlertMessage{msg("from-b")}, enter)
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("a second announcement of the same entry: %v, want a conflict", err)
		}
		if n, _ := a.CountAlerts(ctx, "r", storetest.T0); n != 1 {
			t.Errorf("%d messages of rule r, want 1", n)
		}
		// A held message digested by both nodes: the second digest is
		// refused.
		held := msg("held-1")
		held.Status = store.AlertHeld
		if err := a.ResolveAlerts(ctx, nil, []store.AlertMessage{held}, nil); err != nil {
			t.Fatal(err)
		}
		digest := func(id string) []store.AlertMessage {
			done := held
			done.Status, done.DoneAt = store.AlertDigested, storetest.T0
			return []store.AlertMessage{done, msg(id)}
		}
		if err := a.ResolveAlerts(ctx, nil, digest("digest-a"), nil); err != nil {
			t.Fatal(err)
		}
		if err := b.ResolveAlerts(ctx, nil, digest("digest-b"), nil); !errors.Is(err, store.ErrConflict) {
			t.Errorf("a second digest of the same held message: %v, want a conflict", err)
		}
		list, _ := a.AlertMessages(ctx, 1, 100)
		var ids []string
		for _, m := range list {
			ids = append(ids, m.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"digest-a", "from-a", "held-1"}) {
			t.Errorf("messages %q", ids)
		}
	})

	t.Run("a change committed through one node moves the counters every node reads", func(t *testing.T) {
		t.Parallel()
		ns := nodes(t, dbs, 2, pgstore.Options{})
		a, b := ns[0], ns[1]
		before := b.Versions(1, 42)
		seg, err := a.SaveSegment(ctx, store.SavedSegment{SiteID: 1, Name: "s", Definition: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		after := b.Versions(1, 42)
		if after.Site <= before.Site {
			t.Errorf("a saved segment: site counter %d → %d", before.Site, after.Site)
		}
		before = after
		if err := a.DeleteSegment(ctx, 1, seg.ID); err != nil {
			t.Fatal(err)
		}
		if after = b.Versions(1, 42); after.Site <= before.Site {
			t.Errorf("a deleted segment: site counter %d → %d", before.Site, after.Site)
		}
		before = after
		if err := a.TouchVersions(ctx, pgstore.Touch{Profile: []int64{42, 42, 43}, Activity: []int64{42}}); err != nil {
			t.Fatal(err)
		}
		after = b.Versions(1, 42)
		if after.Profile <= before.Profile || after.Activity <= before.Activity || after.Site != before.Site {
			t.Errorf("a profile and activity change of user 42: %+v → %+v", before, after)
		}
		before = after
		sv, err := a.CreateSurvey(ctx, store.SurveyRecord{SiteID: 1, Name: "s", Status: "draft", Definition: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.DeleteSurvey(ctx, 1, sv.ID); err != nil {
			t.Fatal(err)
		}
		if after = a.Versions(1, 42); after.Surveys <= before.Surveys {
			t.Errorf("a deleted survey: %+v → %+v", before, after)
		}
		// Concurrent touches from both nodes: every one counts.
		start := a.Versions(1, 7)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				if err := ns[i%2].TouchVersions(ctx, pgstore.Touch{Activity: []int64{7, 8, 9}, Site: true}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		end := b.Versions(1, 7)
		if end.Activity-start.Activity < 20 || end.Site-start.Site != 20 {
			t.Errorf("20 concurrent touches: %+v → %+v", start, end)
		}
	})

	t.Run("sign-in failures on any node count against the same limits", func(t *testing.T) {
		t.Parallel()
		ns := nodes(t, dbs, 2, pgstore.Options{})
		c := storetest.NewClock()
		limiter := func(s *pgstore.DB) *account.Limiter {
			return account.NewLimiter(account.LimiterConfig{MaxFailures: 3, MaxPerIP: 5, Window: 15 * time.Minute, Now: c.Now, Store: s})
		}
		a, b := limiter(ns[0]), limiter(ns[1])
		email, ip := "owner@example.com", netip.MustParsePrefix("192.0.2.1/32")
		a.Fail(email, ip)
		c.Add(time.Minute)
		b.Fail(email, ip)
		c.Add(time.Minute)
		if w := a.Wait(email, ip); w != 0 {
			t.Fatalf("after two failures: wait %v", w)
		}
		a.Fail(email, ip)
		// Three failures from 10:00; the window ends at 10:15.
		for what, l := range map[string]*account.Limiter{"node A": a, "node B": b} {
			if w := l.Wait(email, ip); w != 13*time.Minute {
				t.Errorf("%s: wait %v, want 13m", what, w)
			}
		}
		if w := b.Wait(email, netip.MustParsePrefix("198.51.100.7/32")); w != 0 {
			t.Errorf("the owner from another address: wait %v", w)
		}
		b.Succeed(email, ip)
		if w := a.Wait(email, ip); w != 0 {
			t.Errorf("after a success on node B, node A: wait %v", w)
		}
		// The address's own limit (5) still counts the earlier three.
		b.Fail("x@example.com", ip)
		a.Fail("y@example.com", ip)
		if w := a.Wait("z@example.com", ip); w == 0 {
			t.Error("five failures from one address, spread over nodes and emails, do not stop a sixth email")
		}
		// A new window starts at the first failure after the window.
		c.Add(15 * time.Minute)
		if w := b.Wait("z@example.com", ip); w != 0 {
			t.Errorf("after the window: wait %v", w)
		}
		// Concurrent failures on both nodes all count.
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				[]*account.Limiter{a, b}[i%2].Fail("many@example.com", netip.MustParsePrefix("203.0.113.9/32"))
			})
		}
		wg.Wait()
		ws, err := ns[0].LimitWindows(ctx, []string{"e many@example.com"})
		if err != nil || ws["e many@example.com"].Failures != 10 {
			t.Errorf("10 concurrent failures counted as %+v, %v", ws, err)
		}
	})
}
