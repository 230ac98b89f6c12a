package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// Analytics is what ingestion writes and the read API reads back: users,
// their identities, attributes with their history, events and sessions.
type Analytics interface {
	store.Writer
	store.Merger
	store.Reader
	store.TypeChanger
	store.RecentActivity
}

// RunAnalytics runs the suites of ingestion and the reads of what it
// stored: identities and merges, typed attributes, sessions and events,
// searches and the recent activity.
func RunAnalytics(t *testing.T, open Opener[Analytics]) {
	t.Run("identities", func(t *testing.T) { runIdentities(t, open) })
	t.Run("attributes", func(t *testing.T) { runAttributes(t, open) })
	t.Run("sessions and events", func(t *testing.T) { runSessions(t, open) })
	t.Run("searches and activity", func(t *testing.T) { runActivity(t, open) })
}

// Message builders. Every message is of site 1 unless changed, and arrives
// when it happens.

func identify(user, anon, msgID string, at time.Time, traits map[string]any) store.Message {
	return store.Message{SiteID: 1, Kind: store.KindIdentify, UserID: user, AnonymousID: anon, MessageID: msgID,
		Timestamp: at, ReceivedAt: at, Traits: attr.Flatten(traits)}
}

func pageView(user, anon, msgID, path string, at time.Time) store.Message {
	return store.Message{SiteID: 1, Kind: store.KindPage, UserID: user, AnonymousID: anon, MessageID: msgID,
		Timestamp: at, ReceivedAt: at, Page: store.Page{Path: path, URL: "https://app.example.com" + path, Title: "Page " + path},
		Context: store.Context{DeviceType: "desktop", Browser: "Firefox", OS: "Linux", Country: "NO", Locale: "nb-NO",
			Timezone: "Europe/Oslo", Channel: "direct"}, Source: store.SourceTracker}
}

func track(user, anon, msgID, name string, at time.Time, properties string) store.Message {
	return store.Message{SiteID: 1, Kind: store.KindTrack, UserID: user, AnonymousID: anon, MessageID: msgID,
		Name: name, Timestamp: at, ReceivedAt: at, Properties: properties}
}

func alias(user, previous, msgID string, at time.Time) store.Message {
	return store.Message{SiteID: 1, Kind: store.KindAlias, UserID: user, PreviousID: previous, MessageID: msgID,
		Timestamp: at, ReceivedAt: at}
}

func group(user, groupID, msgID string, at time.Time, traits map[string]any) store.Message {
	return store.Message{SiteID: 1, Kind: store.KindGroup, UserID: user, GroupID: groupID, MessageID: msgID,
		Timestamp: at, ReceivedAt: at, Traits: attr.Flatten(traits)}
}

func user(id string) store.Identity { return store.Identity{Kind: "user", ID: id} }
func anon(id string) store.Identity { return store.Identity{Kind: "anonymous", ID: id} }

// write stores msgs and returns their outcomes.
func write(t *testing.T, s store.Writer, msgs ...store.Message) []store.Outcome {
	t.Helper()
	out, err := s.Write(ctx, msgs)
	check(t, err, "Write")
	if len(out) != len(msgs) {
		t.Fatalf("Write gave %d outcomes for %d messages", len(out), len(msgs))
	}
	return out
}

// readUser reads a user, failing the test when it is not there.
func readUser(t *testing.T, s store.Reader, site int64, id store.Identity) store.User {
	t.Helper()
	u, err := s.User(ctx, site, id)
	check(t, err, "User "+id.Kind+" "+id.ID)
	return u
}

// key reads a user's key, failing the test when it is not there.
func key(t *testing.T, s store.Reader, site int64, id store.Identity) int64 {
	t.Helper()
	k, err := s.UserKey(ctx, site, id)
	check(t, err, "UserKey "+id.Kind+" "+id.ID)
	if k == 0 {
		t.Fatalf("UserKey %s %s = 0", id.Kind, id.ID)
	}
	return k
}

// attrs returns a user's or company's attributes by key.
func attrs(list []store.AttrState) map[string]attr.Value {
	m := map[string]attr.Value{}
	for _, a := range list {
		m[a.Key] = a.Value
	}
	return m
}

func runIdentities(t *testing.T, open Opener[Analytics]) {
	t.Run("an anonymous visitor who identifies becomes the user, earlier events and session included", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, pageView("", "anon-1", "p1", "/pricing", T0), pageView("", "anon-1", "p2", "/signup", T0.Add(time.Minute)))
		write(t, s, identify("u1", "anon-1", "i1", T0.Add(2*time.Minute), map[string]any{"plan": "free"}))
		write(t, s, pageView("u1", "anon-1", "p3", "/app", T0.Add(3*time.Minute)))
		if key(t, s, 1, anon("anon-1")) != key(t, s, 1, user("u1")) {
			t.Fatal("the anonymous ID and the user ID name two users")
		}
		u := readUser(t, s, 1, anon("anon-1"))
		if u.UserID != "u1" || !slices.Equal(u.AnonymousIDs, []string{"anon-1"}) || u.Events != 4 || u.Sessions != 1 {
			t.Errorf("user = %+v, want u1 with anon-1, 4 events in 1 session", u)
		}
		if !sameTime(u.FirstSeen, T0) || !sameTime(u.LastSeen, T0.Add(3*time.Minute)) {
			t.Errorf("first and last seen %v, %v", u.FirstSeen, u.LastSeen)
		}
		ss, err := s.UserSessions(ctx, 1, user("u1"), 10)
		check(t, err, "UserSessions")
		if len(ss) != 1 || ss[0].Pages != 3 || ss[0].EntryPage != "/pricing" || ss[0].ExitPage != "/app" {
			t.Errorf("sessions = %+v", ss)
		}
	})

	t.Run("a known user on a new device takes the new anonymous visitor in", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, identify("u1", "laptop", "i1", T0.Add(-time.Hour), map[string]any{"plan": "pro"}))
		write(t, s, pageView("", "phone", "p1", "/", T0), pageView("", "phone", "p2", "/a", T0.Add(time.Minute)))
		write(t, s, identify("u1", "phone", "i2", T0.Add(2*time.Minute), nil))
		u := readUser(t, s, 1, anon("phone"))
		if u.UserID != "u1" || u.Events != 4 || !slices.Equal(sorted(u.AnonymousIDs), []string{"laptop", "phone"}) {
			t.Errorf("user = %+v, want u1 with both devices and 4 events", u)
		}
		if attrs(u.Attributes)["plan"].Str != "pro" {
			t.Errorf("attributes = %+v", u.Attributes)
		}
	})

	t.Run("an anonymous ID of another identified user is not merged (a shared browser)", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, identify("u1", "shared", "i1", T0, map[string]any{"name": "Ann"}))
		write(t, s, identify("u2", "shared", "i2", T0.Add(time.Minute), map[string]any{"name": "Bo"}))
		write(t, s, pageView("", "shared", "p1", "/", T0.Add(2*time.Minute)))
		k1, k2 := key(t, s, 1, user("u1")), key(t, s, 1, user("u2"))
		if k1 == k2 {
			t.Fatal("u1 and u2 were merged through a shared browser")
		}
		if key(t, s, 1, anon("shared")) != k1 {
			t.Error("the shared anonymous ID moved to the second user")
		}
		if u := readUser(t, s, 1, user("u1")); attrs(u.Attributes)["name"].Str != "Ann" || u.Events != 2 {
			t.Errorf("u1 = %+v", u)
		}
		if u := readUser(t, s, 1, user("u2")); attrs(u.Attributes)["name"].Str != "Bo" || u.Events != 1 {
			t.Errorf("u2 = %+v", u)
		}
	})

	t.Run("alias joins the previous ID into the user; on a key both have, the user's value wins", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s,
			// The user's value is the older one: it wins all the same.
			identify("new-id", "", "1", T0, map[string]any{"plan": "pro"}),
			identify("old-id", "", "2", T0.Add(time.Second), map[string]any{"plan": "free", "ltv": 10.0}),
			track("old-id", "", "3", "Signed up", T0.Add(2*time.Second), `{}`))
		write(t, s, alias("new-id", "old-id", "4", T0.Add(time.Minute)))
		if key(t, s, 1, user("old-id")) != key(t, s, 1, user("new-id")) {
			t.Fatal("alias left two users")
		}
		u := readUser(t, s, 1, user("old-id"))
		got := attrs(u.Attributes)
		if got["plan"].Str != "pro" || got["ltv"].Num != 10 || u.Events != 4 {
			t.Errorf("after alias: attributes %v, %d events; want plan pro, ltv 10, 4 events", got, u.Events)
		}
		// An anonymous previous ID joins the same way.
		write(t, s, pageView("", "anon-9", "5", "/x", T0))
		write(t, s, alias("new-id", "anon-9", "6", T0.Add(2*time.Minute)))
		if key(t, s, 1, anon("anon-9")) != key(t, s, 1, user("new-id")) {
			t.Error("alias of an anonymous ID left two users")
		}
	})

	t.Run("an alias that comes before its previous ID is seen joins what comes later", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, alias("new", "old", "1", T0))
		write(t, s, track("old", "", "2", "x", T0.Add(time.Second), ""), track("", "old", "3", "y", T0.Add(2*time.Second), ""))
		u := readUser(t, s, 1, user("new"))
		if u.Events != 3 || key(t, s, 1, user("old")) != u.Key || key(t, s, 1, anon("old")) != u.Key {
			t.Errorf("user = %+v; want the alias and both events on one user", u)
		}
	})

	t.Run("a user's companies come with their attributes", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s,
			identify("u1", "", "1", T0, map[string]any{"employees": "many"}),
			group("u1", "acme", "2", T0, map[string]any{"employees": 120.0, "industry": "retail"}),
			group("u1", "globex", "3", T0, nil),
			group("u2", "acme", "4", T0, map[string]any{"industry": "tech"}))
		u := readUser(t, s, 1, user("u1"))
		if len(u.Groups) != 2 || u.Groups[0].ID != "acme" || u.Groups[1].ID != "globex" {
			t.Fatalf("groups = %+v, want acme and globex", u.Groups)
		}
		acme := attrs(u.Groups[0].Attributes)
		if acme["employees"].Type != attr.Number || acme["employees"].Num != 120 || acme["industry"].Str != "tech" {
			t.Errorf("acme = %v; want employees 120 (a company key apart from the user's) and industry tech", acme)
		}
		if got := attrs(u.Attributes)["employees"]; got.Str != "many" {
			t.Errorf("the user's own employees = %+v", got)
		}
		if len(u.Groups[1].Attributes) != 0 {
			t.Errorf("globex = %+v", u.Groups[1])
		}
	})

	t.Run("an explicit merge moves everything of one user into another", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s,
			identify("keeper", "", "1", T0.Add(-time.Hour), map[string]any{"plan": "pro"}),
			pageView("", "anon-9", "2", "/x", T0),
			identify("", "anon-9", "3", T0, map[string]any{"plan": "free", "source": "ad"}))
		check(t, s.Merge(ctx, 1, anon("anon-9"), user("keeper")), "Merge")
		u := readUser(t, s, 1, anon("anon-9"))
		got := attrs(u.Attributes)
		if u.UserID != "keeper" || u.Events != 3 || u.Sessions != 1 || got["plan"].Str != "pro" || got["source"].Str != "ad" {
			t.Errorf("after the merge: %+v", u)
		}
		hist, err := s.History(ctx, 1, user("keeper"), "plan")
		check(t, err, "History")
		if len(hist) != 2 {
			t.Errorf("plan's history after the merge = %+v, want both users' values", hist)
		}
		wantErr(t, s.Merge(ctx, 1, user("nobody"), user("keeper")), store.ErrNotFound, "merging an unknown user")
		wantErr(t, s.Merge(ctx, 1, user("keeper"), user("nobody")), store.ErrNotFound, "merging into an unknown user")
		check(t, s.Merge(ctx, 1, user("keeper"), anon("anon-9")), "merging a user with itself")
		if u := readUser(t, s, 1, user("keeper")); u.Events != 3 {
			t.Errorf("after merging a user with itself: %+v", u)
		}
	})

	t.Run("merging two identified users keeps the surviving user's ID", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, identify("first", "", "1", T0, map[string]any{"plan": "free"}))
		write(t, s, identify("second", "", "2", T0.Add(time.Minute), map[string]any{"plan": "pro"}))
		check(t, s.Merge(ctx, 1, user("first"), user("second")), "Merge")
		u := readUser(t, s, 1, user("first"))
		if u.UserID != "second" || attrs(u.Attributes)["plan"].Str != "pro" || u.Events != 2 {
			t.Errorf("after merging first into second: %+v; want user ID second, plan pro", u)
		}
	})

	t.Run("one site's users are not another's", func(t *testing.T) {
		s := open(t, NewClock().Now)
		a := identify("u1", "anon-1", "m1", T0, map[string]any{"plan": "pro"})
		b := identify("u1", "anon-1", "m1", T0, map[string]any{"plan": 5.0}) // another site: its own catalog too
		b.SiteID = 2
		out := write(t, s, a, b)
		if out[1].Duplicate || len(out[1].Warnings) != 0 {
			t.Errorf("the same message ID and key on another site: %+v", out[1])
		}
		k1, k2 := key(t, s, 1, user("u1")), key(t, s, 2, user("u1"))
		if k1 == k2 {
			t.Fatal("two sites share a user")
		}
		if got := attrs(readUser(t, s, 2, user("u1")).Attributes)["plan"]; got.Type != attr.Number || got.Num != 5 {
			t.Errorf("site 2's plan = %+v", got)
		}
		_, err := s.UserKey(ctx, 3, user("u1"))
		wantErr(t, err, store.ErrNotFound, "UserKey on a third site")
		_, err = s.User(ctx, 3, anon("anon-1"))
		wantErr(t, err, store.ErrNotFound, "User on a third site")
		wantErr(t, s.Merge(ctx, 2, user("u1"), anon("anon-x")), store.ErrNotFound, "a merge naming an unknown ID")
	})
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
