package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

func runSessions(t *testing.T, open Opener[Analytics]) {
	t.Run("a session ends after 30 minutes without activity and lasts at most 4 hours", func(t *testing.T) {
		s := open(t, NewClock().Now)
		// a: a gap of 29 minutes stays in the session, one of 31 starts another.
		write(t, s, pageView("", "a", "a1", "/a", T0), pageView("", "a", "a2", "/b", T0.Add(29*time.Minute)))
		write(t, s, pageView("", "a", "a3", "/c", T0.Add(60*time.Minute)))
		// b: active every 20 minutes for 5 hours.
		var msgs []store.Message
		for i := range 16 {
			msgs = append(msgs, pageView("", "b", fmt.Sprint("b", i), "/x", T0.Add(time.Duration(i)*20*time.Minute)))
		}
		write(t, s, msgs...)
		a, err := s.UserSessions(ctx, 1, anon("a"), 10)
		check(t, err, "UserSessions a")
		if len(a) != 2 || a[0].Events != 1 || a[1].Events != 2 || a[1].ExitPage != "/b" || a[0].EntryPage != "/c" {
			t.Errorf("a's sessions = %+v, want [/c] and [/a /b], newest first", a)
		}
		b, err := s.UserSessions(ctx, 1, anon("b"), 10)
		check(t, err, "UserSessions b")
		if len(b) != 2 || b[0].Events+b[1].Events != 16 {
			t.Fatalf("b's sessions = %+v, want 2 holding the 16 events", b)
		}
		for _, ss := range b {
			if ss.End.Sub(ss.Start) >= 4*time.Hour {
				t.Errorf("session %d lasts %v", ss.ID, ss.End.Sub(ss.Start))
			}
		}
		if !b[0].Start.After(b[1].Start) {
			t.Errorf("sessions not newest first: %v, %v", b[0].Start, b[1].Start)
		}
		if u := readUser(t, s, 1, anon("b")); u.Sessions != 2 || u.Events != 16 {
			t.Errorf("b = %+v", u)
		}
		if last, err := s.UserSessions(ctx, 1, anon("b"), 1); err != nil || len(last) != 1 || last[0].ID != b[0].ID {
			t.Errorf("UserSessions limited to 1 = %+v, %v", last, err)
		}
	})

	t.Run("late and out-of-order messages join the session of their time", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, pageView("", "v", "1", "/a", T0), pageView("", "v", "2", "/c", T0.Add(10*time.Minute)))
		// Sent late, from within the session: it joins it, in its place.
		write(t, s, pageView("", "v", "3", "/b", T0.Add(5*time.Minute)))
		// Sent two hours late (an import, a client that was offline): a
		// session of its own, leaving the open one alone.
		write(t, s, pageView("", "v", "4", "/old", T0.Add(-2*time.Hour)), pageView("", "v", "5", "/older", T0.Add(-2*time.Hour-time.Minute)))
		write(t, s, pageView("", "v", "6", "/d", T0.Add(15*time.Minute)))
		ss, err := s.UserSessions(ctx, 1, anon("v"), 10)
		check(t, err, "UserSessions")
		if len(ss) != 2 {
			t.Fatalf("sessions = %+v, want the open one and the late one", ss)
		}
		cur, old := ss[0], ss[1]
		if !sameTime(cur.Start, T0) || !sameTime(cur.End, T0.Add(15*time.Minute)) || cur.Pages != 4 || cur.EntryPage != "/a" || cur.ExitPage != "/d" {
			t.Errorf("the open session = %+v, want /a to /d, 4 pages", cur)
		}
		if !sameTime(old.Start, T0.Add(-2*time.Hour-time.Minute)) || !sameTime(old.End, T0.Add(-2*time.Hour)) || old.Pages != 2 {
			t.Errorf("the late session = %+v", old)
		}
		events, err := s.UserEvents(ctx, 1, anon("v"), store.EventQuery{Limit: 10})
		check(t, err, "UserEvents")
		for _, e := range events {
			want := cur.ID
			if e.Timestamp.Before(T0) {
				want = old.ID
			}
			if e.SessionID != want {
				t.Errorf("event %s at %v is in session %d, want %d", e.MessageID, e.Timestamp, e.SessionID, want)
			}
		}
	})

	t.Run("concurrent writers lose nothing and split no session", func(t *testing.T) {
		s := open(t, NewClock().Now)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					at := T0.Add(time.Duration(i*4+w) * time.Second)
					m := track("", "v", fmt.Sprintf("w%d-%d", w, i), "Tick", at, "")
					if _, err := s.Write(ctx, []store.Message{m, pageView("", fmt.Sprint("other-", w), fmt.Sprintf("o%d-%d", w, i), "/", at)}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if u := readUser(t, s, 1, anon("v")); u.Events != 40 || u.Sessions != 1 {
			t.Errorf("v = %d events in %d sessions, want 40 in 1", u.Events, u.Sessions)
		}
		for w := range 4 {
			if u := readUser(t, s, 1, anon(fmt.Sprint("other-", w))); u.Events != 10 || u.Sessions != 1 {
				t.Errorf("other-%d = %d events in %d sessions, want 10 in 1", w, u.Events, u.Sessions)
			}
		}
	})

	t.Run("a session keeps its pages, context and the tracker's signals", func(t *testing.T) {
		s := open(t, NewClock().Now)
		first := pageView("", "v", "1", "/landing", T0)
		first.Context.UTMSource, first.Context.UTMMedium, first.Context.UTMCampaign, first.Context.Referrer =
			"news", "email", "launch", "https://news.example.com/"
		first.Context.Channel = "email"
		sig := func(id, name string, at time.Duration, props string) store.Message {
			m := track("", "v", id, name, T0.Add(at), props)
			m.Source = store.SourceTracker
			return m
		}
		write(t, s, first,
			sig("2", store.EventClick, time.Second, `{}`),
			sig("3", store.EventClick, 2*time.Second, `{}`),
			sig("4", store.EventRageClick, 3*time.Second, `{}`),
			sig("5", store.EventDeadClick, 4*time.Second, `{}`),
			sig("6", store.EventUTurn, 5*time.Second, `{}`),
			sig("7", store.EventError, 6*time.Second, `{"message":"boom"}`),
			sig("8", store.EventScroll, 7*time.Second, `{"depth":62}`),
			sig("9", store.EventScroll, 8*time.Second, `{"depth":40}`),
			pageView("", "v", "10", "/pricing", T0.Add(time.Minute)),
			track("", "v", "11", "Signed up", T0.Add(2*time.Minute), `{"plan":"pro"}`))
		ss, err := s.UserSessions(ctx, 1, anon("v"), 10)
		check(t, err, "UserSessions")
		if len(ss) != 1 {
			t.Fatalf("sessions = %+v", ss)
		}
		got := ss[0]
		if got.ID == 0 || !sameTime(got.Start, T0) || !sameTime(got.End, T0.Add(2*time.Minute)) || got.Pages != 2 || got.Events != 11 ||
			got.EntryPage != "/landing" || got.ExitPage != "/pricing" {
			t.Errorf("session = %+v", got)
		}
		if got.Context != first.Context {
			t.Errorf("context = %+v, want the first message's %+v", got.Context, first.Context)
		}
		want := store.Signals{Clicks: 2, RageClicks: 1, DeadClicks: 1, UTurns: 1, Errors: 1, MaxScroll: 62}
		if got.Signals != want {
			t.Errorf("signals = %+v, want %+v", got.Signals, want)
		}
	})

	t.Run("events are read newest first, page by page, even at one timestamp", func(t *testing.T) {
		s := open(t, NewClock().Now)
		var msgs []store.Message
		for i := range 5 {
			msgs = append(msgs, track("u1", "", fmt.Sprintf("m%d", i), "Tick", T0, ""))
		}
		msgs = append(msgs,
			track("u1", "", "early", "Exported", T0.Add(-time.Minute), `{"format":"csv","rows":1200,"nested":{"a":[1,2]}}`),
			pageView("u1", "", "late", "/docs", T0.Add(time.Minute)))
		write(t, s, msgs...)
		all, err := s.UserEvents(ctx, 1, user("u1"), store.EventQuery{Limit: 100})
		check(t, err, "UserEvents")
		want := []string{"late", "m4", "m3", "m2", "m1", "m0", "early"}
		if got := eventIDs(all); !slices.Equal(got, want) {
			t.Fatalf("events = %q, want %q", got, want)
		}
		var paged []string
		q := store.EventQuery{Limit: 2}
		for range 10 {
			page, err := s.UserEvents(ctx, 1, user("u1"), q)
			check(t, err, "UserEvents (page)")
			if len(page) == 0 {
				break
			}
			paged = append(paged, eventIDs(page)...)
			q.Before, q.BeforeID = page[len(page)-1].Timestamp, page[len(page)-1].MessageID
		}
		if !slices.Equal(paged, want) {
			t.Errorf("paged by 2 = %q, want %q", paged, want)
		}
		late, early, tick := all[0], all[6], all[1]
		if late.Kind != store.KindPage || late.Page.Path != "/docs" || late.Page.URL != "https://app.example.com/docs" ||
			late.Page.Title != "Page /docs" || late.SessionID == 0 || !sameTime(late.Timestamp, T0.Add(time.Minute)) {
			t.Errorf("page view = %+v", late)
		}
		if early.Kind != store.KindTrack || early.Name != "Exported" || early.Properties != `{"format":"csv","rows":1200,"nested":{"a":[1,2]}}` {
			t.Errorf("track = %+v, want its properties as sent", early)
		}
		if tick.Properties != "{}" {
			t.Errorf("an event without properties has %q, want {}", tick.Properties)
		}
		_, err = s.UserEvents(ctx, 1, user("nobody"), store.EventQuery{Limit: 10})
		wantErr(t, err, store.ErrNotFound, "UserEvents of an unknown user")
	})

	t.Run("a retried message is stored once, in a batch or later", func(t *testing.T) {
		s := open(t, NewClock().Now)
		out := write(t, s, pageView("", "a", "p1", "/", T0), pageView("", "a", "p1", "/", T0), pageView("", "a", "p2", "/b", T0))
		if out[0].Duplicate || !out[1].Duplicate || out[2].Duplicate {
			t.Errorf("outcomes = %+v, want the second a duplicate", out)
		}
		out = write(t, s, pageView("", "a", "p2", "/b", T0), track("", "a", "t1", "x", T0, ""))
		if !out[0].Duplicate || out[1].Duplicate {
			t.Errorf("outcomes = %+v, want the retry a duplicate", out)
		}
		if u := readUser(t, s, 1, anon("a")); u.Events != 3 {
			t.Errorf("events = %d, want 3", u.Events)
		}
	})

	t.Run("text that is not UTF-8 is refused whole, the rest of the batch kept", func(t *testing.T) {
		s := open(t, NewClock().Now)
		bad := pageView("", "a", "p1", "/", T0)
		bad.Page.Title = "caf\xe9"
		out := write(t, s, bad, pageView("", "b", "p2", "/", T0))
		if out[0].Refused == nil || out[0].Refused.Field != "page.title" || out[1].Refused != nil {
			t.Fatalf("outcomes = %+v", out)
		}
		_, err := s.UserKey(ctx, 1, anon("a"))
		wantErr(t, err, store.ErrNotFound, "the refused message's visitor")
		if u := readUser(t, s, 1, anon("b")); u.Events != 1 {
			t.Errorf("b = %+v", u)
		}
	})
}

func eventIDs(list []store.Event) []string {
	var ids []string
	for _, e := range list {
		ids = append(ids, e.MessageID)
	}
	return ids
}

func runActivity(t *testing.T, open Opener[Analytics]) {
	t.Run("the install check sees the last message, its page and source, and a day's count", func(t *testing.T) {
		s := open(t, NewClock().Now)
		st, err := s.InstallStatus(ctx, 1, T0)
		if err != nil || st != (store.InstallStatus{}) {
			t.Fatalf("a site without messages: %+v, %v", st, err)
		}
		old := pageView("", "a", "1", "/old", T0.Add(-48*time.Hour))
		recent := pageView("", "a", "2", "/recent", T0.Add(-time.Hour))
		server := track("u1", "", "3", "Paid", T0.Add(-time.Minute), "")
		server.Source = store.SourceServer
		write(t, s, old, recent, server)
		st, err = s.InstallStatus(ctx, 1, T0)
		check(t, err, "InstallStatus")
		want := store.InstallStatus{LastEventAt: server.ReceivedAt, LastPageURL: recent.Page.URL, LastSource: store.SourceServer, Events24h: 2}
		if !sameTime(st.LastEventAt, want.LastEventAt) || st.LastPageURL != want.LastPageURL || st.LastSource != want.LastSource ||
			st.Events24h != want.Events24h {
			t.Errorf("InstallStatus = %+v, want %+v", st, want)
		}
		// Two days later nothing is recent, and the last message is still known.
		st, err = s.InstallStatus(ctx, 1, T0.Add(48*time.Hour))
		check(t, err, "InstallStatus")
		if !sameTime(st.LastEventAt, want.LastEventAt) || st.LastPageURL != want.LastPageURL || st.Events24h != 0 {
			t.Errorf("InstallStatus two days on = %+v", st)
		}
		if st, _ := s.InstallStatus(ctx, 2, T0); st != (store.InstallStatus{}) {
			t.Errorf("another site's InstallStatus = %+v", st)
		}
	})

	t.Run("last seen is each user's latest event", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, pageView("", "a", "1", "/", T0), pageView("", "a", "2", "/", T0.Add(time.Hour)),
			track("u1", "", "3", "x", T0.Add(-time.Hour), ""), group("u1", "acme", "4", T0.Add(-time.Hour), nil))
		a, u1 := key(t, s, 1, anon("a")), key(t, s, 1, user("u1"))
		seen, err := s.LastSeen(ctx, 1, []int64{a, u1, a + u1 + 1000})
		check(t, err, "LastSeen")
		if len(seen) != 2 || !sameTime(seen[a], T0.Add(time.Hour)) || !sameTime(seen[u1], T0.Add(-time.Hour)) {
			t.Errorf("LastSeen = %v", seen)
		}
		if seen, err := s.LastSeen(ctx, 2, []int64{a}); err != nil || len(seen) != 0 {
			t.Errorf("LastSeen through another site = %v, %v", seen, err)
		}
	})
}
