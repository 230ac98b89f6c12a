package recordingtest

import (
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/storetest"
)

// event is a message of site 1 from anonymous visitor anon at t0+at.
func event(kind store.Kind, anon, userID, msgID, name string, at time.Duration) store.Message {
	m := store.Message{SiteID: 1, Kind: kind, AnonymousID: anon, UserID: userID, MessageID: msgID, Name: name,
		Timestamp: t0.Add(at), ReceivedAt: t0.Add(at), Source: store.SourceTracker}
	if kind == store.KindPage {
		m.Page = store.Page{Path: "/" + name, URL: "https://app.example.com/" + name}
	}
	return m
}

// device sets the context a session takes from its first message.
func device(m store.Message, deviceType, country string) store.Message {
	m.Context = store.Context{DeviceType: deviceType, Browser: "Firefox", OS: "Linux", Country: country}
	return m
}

func write(t *testing.T, s store.Writer, msgs ...store.Message) {
	t.Helper()
	_, err := s.Write(ctx, msgs)
	check(t, err, "Write")
}

// fixture is three recordings of site 1 and one of site 2:
//
//	a: va, 0 to 60 s, /home and /pricing, desktop in NO, clicks, a rage click, "Signed up"
//	b: vb, 1 h to 1 h 5 min, /docs, mobile in SE
//	c: vc, 2 h to 2 h 10 s, /pricing/enterprise, no events: no user yet
type fixture struct{ a, b, c, other store.Recording }

func newFixture(t *testing.T, s Store) fixture {
	t.Helper()
	const u = "https://app.example.com/"
	var f fixture
	f.a = record(t, s, 1, "sess-a", "va", chunk("", 0, 0, 30*time.Second, u+"home"), chunk("", 1, 30*time.Second, 60*time.Second, u+"pricing"))
	f.b = record(t, s, 1, "sess-b", "vb", chunk("", 0, time.Hour, time.Hour+5*time.Minute, u+"docs"))
	f.c = record(t, s, 1, "sess-c", "vc", chunk("", 0, 2*time.Hour, 2*time.Hour+10*time.Second, u+"pricing/enterprise"))
	f.other = record(t, s, 2, "sess-a", "va", chunk("", 0, 0, time.Minute, u+"home"))
	write(t, s,
		device(event(store.KindPage, "va", "", "a1", "home", time.Second), "desktop", "NO"),
		event(store.KindTrack, "va", "", "a2", store.EventClick, 5*time.Second),
		event(store.KindTrack, "va", "", "a3", store.EventClick, 6*time.Second),
		event(store.KindTrack, "va", "", "a4", store.EventRageClick, 7*time.Second),
		event(store.KindTrack, "va", "", "a5", store.EventScroll, 8*time.Second),
		event(store.KindPage, "va", "", "a6", "pricing", 31*time.Second),
		event(store.KindTrack, "va", "", "a7", "Signed up", 40*time.Second),
		event(store.KindTrack, "va", "", "a8", "Later", 10*time.Minute),
		device(event(store.KindPage, "vb", "", "b1", "docs", time.Hour+time.Second), "mobile", "SE"))
	return f
}

func runListing(t *testing.T, open storetest.Opener[Store]) {
	t.Run("recordings are listed by date or length, page by page", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		f := newFixture(t, s)
		if got := rowIDs(list(t, s, 1, store.RecordingQuery{})); !slices.Equal(got, []string{f.c.ID, f.b.ID, f.a.ID}) {
			t.Errorf("by date = %q, want c, b, a", got)
		}
		if got := rowIDs(list(t, s, 1, store.RecordingQuery{Sort: store.SortDuration})); !slices.Equal(got, []string{f.b.ID, f.a.ID, f.c.ID}) {
			t.Errorf("by duration = %q, want b, a, c", got)
		}
		for _, sort := range []store.RecordingSort{store.SortDate, store.SortDuration, store.SortFrustration} {
			want := rowIDs(list(t, s, 1, store.RecordingQuery{Sort: sort}))
			var paged []string
			q := store.RecordingQuery{Sort: sort, Limit: 1}
			for range 5 {
				page := list(t, s, 1, q)
				if len(page) == 0 {
					break
				}
				paged = append(paged, rowIDs(page)...)
				last := page[len(page)-1]
				q.After = &store.RecordingCursor{Key: last.SortKey, ID: last.ID}
			}
			if !slices.Equal(paged, want) || len(want) != 3 {
				t.Errorf("%s page by page = %q, want %q", sort, paged, want)
			}
		}
		if got := rowIDs(list(t, s, 2, store.RecordingQuery{})); !slices.Equal(got, []string{f.other.ID}) {
			t.Errorf("site 2's = %q", got)
		}
		_, err := s.Recording(ctx, 1, f.other.ID, nil)
		wantErr(t, err, store.ErrNotFound, "another site's recording")
	})

	t.Run("recordings are filtered by time, length, page, device, country, event and signal", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		f := newFixture(t, s)
		tests := []struct {
			name string
			q    store.RecordingQuery
			want []string
		}{
			{"from", store.RecordingQuery{From: t0.Add(30 * time.Minute)}, []string{f.c.ID, f.b.ID}},
			{"to", store.RecordingQuery{To: t0.Add(time.Hour)}, []string{f.a.ID}},
			{"at least 30 s", store.RecordingQuery{MinDuration: 30 * time.Second}, []string{f.b.ID, f.a.ID}},
			{"at most 30 s", store.RecordingQuery{MaxDuration: 30 * time.Second}, []string{f.c.ID}},
			{"a page", store.RecordingQuery{Page: "pricing"}, []string{f.c.ID, f.a.ID}},
			{"a device", store.RecordingQuery{Device: "mobile"}, []string{f.b.ID}},
			{"a country", store.RecordingQuery{Country: "NO"}, []string{f.a.ID}},
			{"an event done during it", store.RecordingQuery{Event: "Signed up"}, []string{f.a.ID}},
			{"an event done after it", store.RecordingQuery{Event: "Later"}, nil},
			{"a signal", store.RecordingQuery{Signal: "rage_clicks"}, []string{f.a.ID}},
			{"a signal nobody had", store.RecordingQuery{Signal: "errors"}, nil},
			{"the limit", store.RecordingQuery{Limit: 2}, []string{f.c.ID, f.b.ID}},
		}
		for _, tt := range tests {
			if got := rowIDs(list(t, s, 1, tt.q)); !slices.Equal(got, tt.want) {
				t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
			}
		}
	})

	t.Run("a row has the session's device and country and the tracker's signals", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		f := newFixture(t, s)
		a, err := s.Recording(ctx, 1, f.a.ID, nil)
		check(t, err, "Recording")
		va, err := s.UserKey(ctx, 1, store.Identity{Kind: "anonymous", ID: "va"})
		check(t, err, "UserKey")
		if a.UserKey != va || a.UserExtID != "" || a.SessionID == 0 || a.Device != "desktop" || a.Browser != "Firefox" ||
			a.OS != "Linux" || a.Country != "NO" {
			t.Errorf("a = %+v", a)
		}
		if a.Signals.Clicks != 2 || a.Signals.RageClicks != 1 || a.Signals.Frustration() != 1 {
			t.Errorf("a's signals = %+v, want 2 clicks and a rage click", a.Signals)
		}
		c, err := s.Recording(ctx, 1, f.c.ID, []string{"plan"})
		check(t, err, "Recording")
		if c.UserKey != 0 || c.SessionID != 0 || c.Device != "" || c.Signals != (store.Signals{}) || len(c.Attributes) != 0 {
			t.Errorf("a recording whose visitor sent no event = %+v", c)
		}
	})

	t.Run("a recording follows its visitor's identify and merges", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		f := newFixture(t, s)
		write(t, s, store.Message{SiteID: 1, Kind: store.KindIdentify, UserID: "u-a", AnonymousID: "va", MessageID: "i1",
			Timestamp: t0.Add(50 * time.Second), ReceivedAt: t0.Add(50 * time.Second), Traits: attr.Flatten(map[string]any{"plan": "pro"})})
		a, err := s.Recording(ctx, 1, f.a.ID, []string{"plan"})
		check(t, err, "Recording")
		if a.UserExtID != "u-a" || len(a.Attributes) != 1 || a.Attributes[0].Key != "plan" || a.Attributes[0].Value.Str != "pro" {
			t.Errorf("after identify: %+v", a)
		}
		check(t, s.Merge(ctx, 1, store.Identity{Kind: "anonymous", ID: "vb"}, store.Identity{Kind: "user", ID: "u-a"}), "Merge")
		rows := list(t, s, 1, store.RecordingQuery{Attributes: []string{"plan"}})
		for _, r := range rows {
			if r.ID != f.c.ID && (r.UserExtID != "u-a" || r.UserKey != a.UserKey || len(r.Attributes) != 1) {
				t.Errorf("after the merge: %+v", r)
			}
		}
		// c's visitor shows up later, already known.
		write(t, s, store.Message{SiteID: 1, Kind: store.KindIdentify, UserID: "u-a", AnonymousID: "vc", MessageID: "i2",
			Timestamp: t0.Add(3 * time.Hour), ReceivedAt: t0.Add(3 * time.Hour)})
		if c, err := s.Recording(ctx, 1, f.c.ID, nil); err != nil || c.UserKey != a.UserKey {
			t.Errorf("c after its visitor identified: %+v, %v", c, err)
		}
	})

	t.Run("the timeline is what the visitor did during the recording", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		f := newFixture(t, s)
		a, err := s.Recording(ctx, 1, f.a.ID, nil)
		check(t, err, "Recording")
		events, err := s.RecordingTimeline(ctx, 1, a, 100)
		check(t, err, "RecordingTimeline")
		var ids []string
		for _, e := range events {
			ids = append(ids, e.MessageID)
		}
		if want := []string{"a1", "a2", "a3", "a4", "a6", "a7"}; !slices.Equal(ids, want) {
			t.Errorf("timeline = %q, want %q (oldest first, without scroll reports or later events)", ids, want)
		}
		if events, _ := s.RecordingTimeline(ctx, 1, a, 2); len(events) != 2 {
			t.Errorf("timeline limited to 2 = %d events", len(events))
		}
		c, err := s.Recording(ctx, 1, f.c.ID, nil)
		check(t, err, "Recording")
		if events, err := s.RecordingTimeline(ctx, 1, c, 100); err != nil || len(events) != 0 {
			t.Errorf("the timeline of a recording without a user = %+v, %v", events, err)
		}
	})
}
