package engine_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// membershipFixture is a store with a few users, an engine with a cache
// over it and a clock the test moves.
type membershipFixture struct {
	t    *testing.T
	ctx  context.Context
	db   *duckstore.DB
	site int64
	eng  *engine.Engine
	now  atomic.Int64 // the engine's clock, Unix nanoseconds
	seq  int
}

var membershipNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func newMembershipFixture(t *testing.T) *membershipFixture {
	f := &membershipFixture{t: t, ctx: context.Background()}
	db, site := openStore(t, membershipNow)
	f.db, f.site = db, site.ID
	f.now.Store(membershipNow.UnixNano())
	f.eng = engine.New(db, compiler.DuckDB{}, func() time.Time { return time.Unix(0, f.now.Load()).UTC() })
	return f
}

// write logs messages, filling site, IDs and times (ago before now).
func (f *membershipFixture) write(ago time.Duration, msgs ...store.Message) {
	f.t.Helper()
	for i := range msgs {
		f.seq++
		msgs[i].SiteID, msgs[i].MessageID = f.site, fmt.Sprintf("m%d", f.seq)
		msgs[i].Timestamp, msgs[i].ReceivedAt = membershipNow.Add(-ago), membershipNow.Add(-ago)
	}
	if _, err := f.db.Write(f.ctx, msgs); err != nil {
		f.t.Fatal(err)
	}
}

func (f *membershipFixture) key(id store.Identity) int64 {
	f.t.Helper()
	k, err := f.db.UserKey(f.ctx, f.site, id)
	if err != nil {
		f.t.Fatalf("%v: %v", id, err)
	}
	return k
}

func (f *membershipFixture) prepare(text string) segment.Node {
	f.t.Helper()
	n, err := f.eng.Prepare(f.ctx, f.site, engine.Definition{Text: text}, "")
	if err != nil {
		f.t.Fatalf("%s: %v", text, err)
	}
	return n
}

// contains asks the engine and reports whether the answer came from the
// cache.
func (f *membershipFixture) contains(n segment.Node, key int64) (in, cached bool) {
	f.t.Helper()
	hits, _ := f.eng.MembershipCacheStats()
	in, err := f.eng.Contains(f.ctx, f.site, n, key)
	if err != nil {
		f.t.Fatal(err)
	}
	after, _ := f.eng.MembershipCacheStats()
	return in, after > hits
}

func track(user, name string) store.Message {
	return store.Message{Kind: store.KindTrack, UserID: user, Name: name, Properties: "{}"}
}

func visit(user, anon, path string) store.Message {
	return store.Message{Kind: store.KindPage, UserID: user, AnonymousID: anon, Page: store.Page{Path: path}}
}

func traits(kind store.Kind, user, group string, kv map[string]any) store.Message {
	return store.Message{Kind: kind, UserID: user, GroupID: group, Traits: attr.Flatten(kv)}
}

// TestContainsFlipsAtOnce checks, for every kind of write that segments
// read, that a cached membership answer is not given once the write is
// acknowledged (logged messages) or returned (the other writes): the next
// check asks the database and sees the change. Each case first checks
// that the answer is cached, so that the flip proves the invalidation.
func TestContainsFlipsAtOnce(t *testing.T) {
	user := store.Identity{Kind: "user", ID: "u1"}
	anon := store.Identity{Kind: "anonymous", ID: "a1"}
	tests := []struct {
		name    string
		setup   func(f *membershipFixture)
		saved   string // saved first; the segment names it $SAVED
		segment string
		who     store.Identity
		before  bool
		change  func(f *membershipFixture, saved store.SavedSegment)
		after   bool
	}{
		{"a tracked event", nil, "", `did("Buy", 7d)`, user, false,
			func(f *membershipFixture, _ store.SavedSegment) { f.write(time.Hour, track("u1", "Buy")) }, true},
		{"a page view", nil, "", `visited("/pricing")`, user, false,
			func(f *membershipFixture, _ store.SavedSegment) { f.write(time.Hour, visit("u1", "", "/pricing")) }, true},
		{"a user attribute", nil, "", `plan = "pro"`, user, false,
			func(f *membershipFixture, _ store.SavedSegment) {
				f.write(time.Hour, traits(store.KindIdentify, "u1", "", map[string]any{"plan": "pro"}))
			}, true},
		{"a new session", func(f *membershipFixture) { f.write(4*time.Hour, visit("u1", "", "/")) },
			"", `sessions(1d) >= 2`, user, false,
			func(f *membershipFixture, _ store.SavedSegment) { f.write(time.Hour, visit("u1", "", "/later")) }, true},
		{"another user changes the company's attribute",
			func(f *membershipFixture) {
				f.write(4*time.Hour, traits(store.KindGroup, "u1", "acme", map[string]any{"industry": "tech"}))
			}, "", `company.industry = "retail"`, user, false,
			func(f *membershipFixture, _ store.SavedSegment) {
				f.write(time.Hour, traits(store.KindGroup, "u2", "acme", map[string]any{"industry": "retail"}))
			}, true},
		{"joining a company",
			func(f *membershipFixture) {
				f.write(4*time.Hour, traits(store.KindGroup, "u2", "acme", map[string]any{"industry": "retail"}))
			}, "", `company.industry = "retail"`, user, false,
			func(f *membershipFixture, _ store.SavedSegment) {
				f.write(time.Hour, store.Message{Kind: store.KindGroup, UserID: "u1", GroupID: "acme"})
			}, true},
		{"an alias brings an anonymous visitor's events in",
			func(f *membershipFixture) { f.write(4*time.Hour, visit("", "a1", "/pricing")) },
			"", `visited("/pricing")`, user, false,
			func(f *membershipFixture, _ store.SavedSegment) {
				f.write(time.Hour, store.Message{Kind: store.KindAlias, UserID: "u1", PreviousID: "a1"})
			}, true},
		{"an alias merges the anonymous visitor away",
			func(f *membershipFixture) { f.write(4*time.Hour, visit("", "a1", "/pricing")) },
			"", `visited("/pricing")`, anon, true,
			func(f *membershipFixture, _ store.SavedSegment) {
				f.write(time.Hour, store.Message{Kind: store.KindAlias, UserID: "u1", PreviousID: "a1"})
			}, false},
		{"a merge through the API",
			func(f *membershipFixture) { f.write(4*time.Hour, visit("", "a1", "/pricing")) },
			"", `visited("/pricing")`, user, false,
			func(f *membershipFixture, _ store.SavedSegment) {
				if err := f.db.Merge(f.ctx, f.site, anon, user); err != nil {
					f.t.Fatal(err)
				}
			}, true},
		{"a saved segment edited", nil, `plan = "pro"`, `in_segment("$SAVED")`, user, false,
			func(f *membershipFixture, s store.SavedSegment) {
				def, err := segment.MarshalNode(f.prepare(`plan = "free"`))
				if err != nil {
					f.t.Fatal(err)
				}
				s.Definition, s.Text = def, `plan = "free"`
				if _, err := f.db.SaveSegment(f.ctx, s); err != nil {
					f.t.Fatal(err)
				}
			}, true},
		{"a survey response", nil, "", `nps_score() >= 9`, user, false,
			func(f *membershipFixture, _ store.SavedSegment) {
				nps := 10
				if err := f.db.SaveResponse(f.ctx, store.SurveyResponse{SiteID: f.site, SurveyID: "sv_1", ResponseID: "r1",
					UserID: "u1", NPS: &nps, Answers: []byte("{}"), CreatedAt: membershipNow.Add(-time.Hour),
					UpdatedAt: membershipNow.Add(-time.Hour)}, nil); err != nil {
					f.t.Fatal(err)
				}
			}, true},
		{"a survey deleted with its responses",
			func(f *membershipFixture) {
				nps := 10
				sv, err := f.db.CreateSurvey(f.ctx, store.SurveyRecord{ID: "sv_1", SiteID: f.site, Name: "NPS", Status: "live",
					Definition: []byte("{}"), CreatedAt: membershipNow, UpdatedAt: membershipNow})
				if err != nil {
					f.t.Fatal(err)
				}
				if err := f.db.SaveResponse(f.ctx, store.SurveyResponse{SiteID: f.site, SurveyID: sv.ID, ResponseID: "r1",
					UserID: "u1", NPS: &nps, Answers: []byte("{}"), CreatedAt: membershipNow.Add(-time.Hour),
					UpdatedAt: membershipNow.Add(-time.Hour)}, nil); err != nil {
					f.t.Fatal(err)
				}
			}, "", `nps_score() >= 9`, user, true,
			func(f *membershipFixture, _ store.SavedSegment) {
				all, err := f.db.ListSurveys(f.ctx, f.site)
				if err != nil || len(all) != 1 {
					f.t.Fatalf("surveys: %v, %v", all, err)
				}
				if err := f.db.DeleteSurvey(f.ctx, f.site, all[0].ID); err != nil {
					f.t.Fatal(err)
				}
			}, false},
		{"a bulk load", nil, "", `plan = "pro"`, user, false,
			func(f *membershipFixture, _ store.SavedSegment) {
				b, err := f.db.Bulk(f.ctx)
				if err != nil {
					f.t.Fatal(err)
				}
				b.SetAttr(f.site, store.EntityUser, f.key(user), "plan", attr.Value{Type: attr.String, Str: "pro"}, membershipNow)
				if err := b.Close(); err != nil {
					f.t.Fatal(err)
				}
			}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newMembershipFixture(t)
			f.write(5*time.Hour, traits(store.KindIdentify, "u1", "", map[string]any{"plan": "free", "seats": 1.0}),
				traits(store.KindIdentify, "u2", "", map[string]any{"plan": "free"}))
			if tt.setup != nil {
				tt.setup(f)
			}
			var saved store.SavedSegment
			text := tt.segment
			if tt.saved != "" {
				def, err := segment.MarshalNode(f.prepare(tt.saved))
				if err != nil {
					t.Fatal(err)
				}
				if saved, err = f.db.SaveSegment(f.ctx, store.SavedSegment{SiteID: f.site, Name: "saved", Definition: def,
					Text: tt.saved}); err != nil {
					t.Fatal(err)
				}
				text = replaceSaved(text, saved.ID)
			}
			n := f.prepare(text)
			key := f.key(tt.who)
			if in, _ := f.contains(n, key); in != tt.before {
				t.Fatalf("before: Contains = %v, want %v", in, tt.before)
			}
			if in, cached := f.contains(n, key); in != tt.before || !cached {
				t.Fatalf("asked again: Contains = %v (cached %v), want %v from the cache", in, cached, tt.before)
			}
			tt.change(f, saved)
			if in, cached := f.contains(n, key); in != tt.after || cached {
				t.Fatalf("after the change: Contains = %v (cached %v), want %v from the database", in, cached, tt.after)
			}
			if in, cached := f.contains(n, key); in != tt.after || !cached {
				t.Fatalf("after the change, asked again: Contains = %v (cached %v), want %v from the cache", in, cached, tt.after)
			}
		})
	}
}

func replaceSaved(text, id string) string {
	const marker = "$SAVED"
	for i := 0; i+len(marker) <= len(text); i++ {
		if text[i:i+len(marker)] == marker {
			return text[:i] + id + text[i+len(marker):]
		}
	}
	return text
}

// TestContainsCacheScope checks what the cache keeps apart and for how
// long: other users' writes leave an answer cached; a user's page view
// leaves a segment of attributes cached but not one of behaviour; a
// segment with a relative window is evaluated again once the TTL has
// passed, one without is kept as long as no counter moves; a type change
// drops every answer. A change the store did not count (SQL behind its
// back) is not seen while an answer is kept — which is what makes the
// cache worth having, and why every write path must count.
func TestContainsCacheScope(t *testing.T) {
	f := newMembershipFixture(t)
	f.write(23*time.Hour, track("u1", "Buy"), traits(store.KindIdentify, "u1", "", map[string]any{"plan": "pro"}),
		traits(store.KindIdentify, "u2", "", map[string]any{"plan": "free"}))
	u1 := f.key(store.Identity{Kind: "user", ID: "u1"})
	check := func(step string, n segment.Node, wantIn, wantCached bool) {
		t.Helper()
		if in, cached := f.contains(n, u1); in != wantIn || cached != wantCached {
			t.Fatalf("%s: Contains = %v (cached %v), want %v (cached %v)", step, in, cached, wantIn, wantCached)
		}
	}
	recent, pro := f.prepare(`did("Buy", 1d)`), f.prepare(`plan = "pro"`)
	check("first", recent, true, false)
	check("again", recent, true, true)
	check("first, attributes", pro, true, false)

	f.write(time.Hour, track("u2", "Buy"))
	check("after another user's event", recent, true, true)

	f.write(time.Hour, visit("u1", "", "/home"))
	check("after the user's page view, attributes", pro, true, true)
	check("after the user's page view, behaviour", recent, true, false)

	f.now.Add(int64(time.Second))
	check("a second later", recent, true, true)

	f.now.Add(int64(2 * time.Hour)) // the event is now 25 hours old
	check("past the TTL, the window moved", recent, false, false)
	check("past the TTL, no window", pro, true, true)

	if _, err := f.db.SQL().ExecContext(f.ctx, "UPDATE attr_current SET s = 'free' WHERE entity_key = ? AND key = 'plan'", u1); err != nil {
		t.Fatal(err)
	}
	check("a write the store did not count is not seen", pro, true, true)
	f.now.Add(int64(time.Hour))
	check("nor an hour later", pro, true, true)
	f.write(time.Hour, traits(store.KindIdentify, "u1", "", map[string]any{"seats": "3"}))
	check("until the user's profile moves", pro, false, false)

	if _, err := f.db.ChangeType(f.ctx, f.site, store.EntityUser, "seats", attr.Number); err != nil {
		t.Fatal(err)
	}
	check("a type change drops every answer", pro, false, false)
}

// TestContainsUnderConcurrentWrites checks freshness under -race: readers
// check users while a writer gives them the event the segment asks for,
// one by one. Once a write is acknowledged, no reader may answer "not a
// member" for its user, cached or not.
func TestContainsUnderConcurrentWrites(t *testing.T) {
	f := newMembershipFixture(t)
	const users = 12
	for i := range users {
		f.write(5*time.Hour, traits(store.KindIdentify, fmt.Sprintf("u%d", i), "", map[string]any{"plan": "pro"}))
	}
	keys := make([]int64, users)
	for i := range keys {
		keys[i] = f.key(store.Identity{Kind: "user", ID: fmt.Sprintf("u%d", i)})
	}
	n := f.prepare(`plan = "pro" and did("Buy", 7d)`)
	var acked [users]atomic.Bool
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := i % users
				was := acked[u].Load() // before the check: a write acknowledged by then must be seen
				in, err := f.eng.Contains(f.ctx, f.site, n, keys[u])
				if err != nil {
					errs <- err
					return
				}
				if was && !in {
					errs <- fmt.Errorf("user %d: not a member after the event was acknowledged", u)
					return
				}
			}
		}()
	}
	for u := range users {
		time.Sleep(5 * time.Millisecond)
		f.seq++
		m := track(fmt.Sprintf("u%d", u), "Buy")
		m.SiteID, m.MessageID, m.Timestamp, m.ReceivedAt = f.site, fmt.Sprintf("buy%d", u), membershipNow, membershipNow
		if _, err := f.db.Write(f.ctx, []store.Message{m}); err != nil {
			t.Fatal(err)
		}
		acked[u].Store(true)
	}
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if hits, _ := f.eng.MembershipCacheStats(); hits == 0 {
		t.Error("no answer came from the cache: the test did not exercise it")
	}
}
