package duckstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestVersionsMoveWithEveryWrite checks, for every path that writes data
// segments read, that the change counters a cache of segment answers
// relies on have moved by the time the write is visible: after Sync for
// logged messages, on return for the others. A counter that stays put
// would let a stale membership answer through.
func TestVersionsMoveWithEveryWrite(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "v.duckdb"))
	defer db.Close()
	site := newSite(t, db).ID
	write(t, db,
		identify(site, "u1", "m1", t0, map[string]any{"plan": "free"}),
		identify(site, "u2", "m2", t0, map[string]any{"plan": "free"}),
		page(site, "a9", "", "m3", "/", t0),
		store.Message{SiteID: site, Kind: store.KindGroup, MessageID: "m4", UserID: "u2", GroupID: "acme",
			Timestamp: t0, ReceivedAt: t0, Traits: attr.Flatten(map[string]any{"industry": "tech"})},
	)
	key := func(kind, id string) int64 {
		t.Helper()
		k, err := db.UserKey(ctx, site, store.Identity{Kind: kind, ID: id})
		if err != nil {
			t.Fatalf("%s %s: %v", kind, id, err)
		}
		return k
	}
	u1, u2, a9 := key("user", "u1"), key("user", "u2"), key("anonymous", "a9")
	n := 10
	msg := func(m store.Message) func() error {
		return func() error {
			n++
			m.SiteID, m.MessageID, m.Timestamp, m.ReceivedAt = site, "x"+string(rune('a'+n)), t0.Add(time.Duration(n)*time.Second), t0
			if _, err := db.Write(ctx, []store.Message{m}); err != nil {
				return err
			}
			return db.Sync(ctx)
		}
	}
	saved, err := db.SaveSegment(ctx, store.SavedSegment{SiteID: site, Name: "s", Definition: []byte(`{"all":[]}`), Text: ""})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		write   func() error
		user    int64    // whose counters are read
		moves   []string // "profile", "activity", "site" or "surveys": the counters that must move
		stillU2 bool     // the write does not move u2's counters
		keeps   []string // counters of user that must not move
	}{
		{"a tracked event", msg(store.Message{Kind: store.KindTrack, UserID: "u1", Name: "Buy", Properties: "{}"}), u1, []string{"activity"}, true,
			[]string{"profile", "site", "surveys"}},
		{"a page view", msg(store.Message{Kind: store.KindPage, UserID: "u1", Page: store.Page{Path: "/x"}}), u1, []string{"activity"}, true,
			[]string{"profile", "site", "surveys"}},
		{"a user attribute", msg(store.Message{Kind: store.KindIdentify, UserID: "u1",
			Traits: attr.Flatten(map[string]any{"plan": "pro"})}), u1, []string{"profile"}, true, nil},
		{"a new attribute key", msg(store.Message{Kind: store.KindIdentify, UserID: "u1",
			Traits: attr.Flatten(map[string]any{"seats": 3.0})}), u1, []string{"site", "profile"}, false, nil},
		{"joining a company", msg(store.Message{Kind: store.KindGroup, UserID: "u1", GroupID: "acme"}), u1, []string{"profile"}, true, nil},
		{"a company attribute", msg(store.Message{Kind: store.KindGroup, UserID: "u2", GroupID: "acme",
			Traits: attr.Flatten(map[string]any{"industry": "retail"})}), u1, []string{"site"}, false, nil},
		{"an alias, the side merged away", msg(store.Message{Kind: store.KindAlias, UserID: "u1", PreviousID: "a9"}), a9, []string{"profile", "activity"}, true, nil},
		{"a merge through the API, the side that stays", func() error {
			return db.Merge(ctx, site, store.Identity{Kind: "user", ID: "u2"}, store.Identity{Kind: "user", ID: "u1"})
		}, u1, []string{"profile", "activity"}, false, nil},
		{"a type change", func() error {
			_, err := db.ChangeType(ctx, site, store.EntityUser, "seats", attr.String)
			return err
		}, u1, []string{"site"}, false, nil},
		{"a saved segment edited", func() error {
			saved.Definition = []byte(`{"any":[]}`)
			_, err := db.SaveSegment(ctx, saved)
			return err
		}, u1, []string{"site"}, false, nil},
		{"a saved segment deleted", func() error { return db.DeleteSegment(ctx, site, saved.ID) }, u1, []string{"site"}, false, nil},
		{"a survey response", func() error {
			nps := 10
			return db.SaveResponse(ctx, store.SurveyResponse{SiteID: site, SurveyID: "sv", ResponseID: "r1", UserID: "u1",
				NPS: &nps, Answers: []byte("{}"), CreatedAt: t0, UpdatedAt: t0}, nil)
		}, u1, []string{"surveys"}, false, nil},
		{"feedback", func() error {
			return db.AddFeedback(ctx, store.FeedbackItem{ID: "f1", SiteID: site, UserID: "u1", Rating: 1, CreatedAt: t0})
		}, u1, []string{"surveys"}, false, nil},
		{"a bulk load", func() error {
			b, err := db.Bulk(ctx)
			if err != nil {
				return err
			}
			b.NewUser(site, t0, "u3")
			return b.Close()
		}, u1, []string{"site"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, other := db.Versions(site, tt.user), db.Versions(site, u2)
			if err := tt.write(); err != nil {
				t.Fatal(err)
			}
			after := db.Versions(site, tt.user)
			moved := map[string]bool{"profile": after.Profile != before.Profile, "activity": after.Activity != before.Activity,
				"site": after.Site != before.Site, "surveys": after.Surveys != before.Surveys}
			for _, c := range tt.moves {
				if !moved[c] {
					t.Errorf("the %s counter stayed at %+v", c, after)
				}
			}
			for _, c := range tt.keeps {
				if moved[c] {
					t.Errorf("the %s counter moved: %+v → %+v", c, before, after)
				}
			}
			if tt.stillU2 && db.Versions(site, u2) != other {
				t.Errorf("another user's counters moved: %+v → %+v", other, db.Versions(site, u2))
			}
		})
	}
}

// TestVersionsMoveBeforeSyncReturns checks the order a cache depends on:
// once Sync has returned, every message acknowledged before it has moved
// its user's counter. Writes and reads race; -race checks the counters.
func TestVersionsMoveBeforeSyncReturns(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "v.duckdb"))
	defer db.Close()
	site := newSite(t, db).ID
	write(t, db, identify(site, "u1", "m0", t0, nil))
	key, err := db.UserKey(ctx, site, store.Identity{Kind: "user", ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // a reader polling while the writes go on
		defer close(done)
		for i := 0; i < 200; i++ {
			db.Versions(site, key)
		}
	}()
	for i := range 20 {
		before := db.Versions(site, key)
		if _, err := db.Write(ctx, []store.Message{page(site, "", "u1", "p"+string(rune('a'+i)), "/", t0.Add(time.Duration(i)*time.Second))}); err != nil {
			t.Fatal(err)
		}
		if err := db.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if after := db.Versions(site, key); after.Activity == before.Activity {
			t.Fatalf("write %d: the user's counter did not move before Sync returned", i)
		}
	}
	<-done
}

var _ store.Changes = (*duckstore.DB)(nil)
