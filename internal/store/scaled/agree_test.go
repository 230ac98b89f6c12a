package scaled_test

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/store/storetest"
)

// history generates a site's few days of visits from a seed: visitors
// with page views, clicks and frustration signals, custom events with
// properties, identifies (some visitors sharing a user ID, which merges
// them), aliases, and survey answers and feedback from some of them.
func history(seed uint64) (msgs []store.Message, responses []store.SurveyResponse, feedback []store.FeedbackItem) {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	t0 := storetest.T0.Add(-72 * time.Hour)
	paths := []string{"/", "/pricing", "/docs/a", "/docs/b", "/blog"}
	n := 0
	id := func() string { n++; return fmt.Sprintf("m%d", n) }
	for v := range 24 {
		anon := fmt.Sprintf("a%d", v)
		user := ""
		at := t0.Add(time.Duration(r.IntN(60)) * time.Hour)
		for range 1 + r.IntN(3) { // visits
			for range 1 + r.IntN(8) {
				at = at.Add(time.Duration(1+r.IntN(600)) * time.Second)
				m := store.Message{SiteID: 1, MessageID: id(), AnonymousID: anon, UserID: user, Timestamp: at, ReceivedAt: at}
				path := paths[r.IntN(len(paths))]
				m.Page = store.Page{Path: path, URL: "https://app.example.com" + path}
				switch x := r.IntN(10); {
				case x < 5:
					m.Kind, m.Name = store.KindPage, ""
				case x < 7:
					m.Kind, m.Name = store.KindTrack, []string{"$click", "$rage_click", "$dead_click"}[r.IntN(3)]
					m.Properties = fmt.Sprintf(`{"selector":"#b%d","offset_x":0.%d,"page_x":%d}`, r.IntN(3), r.IntN(9), r.IntN(900))
					m.Source = store.SourceTracker
				case x < 9:
					m.Kind, m.Name = store.KindTrack, []string{"Signup", "Export"}[r.IntN(2)]
					m.Properties = fmt.Sprintf(`{"plan":"p%d","rows":%d,"ok":true}`, r.IntN(3), r.IntN(100))
				default:
					if user == "" {
						user = fmt.Sprintf("u%d", r.IntN(16)) // shared by some visitors: merges
					}
					m.Kind, m.UserID = store.KindIdentify, user
					m.Traits = attr.Flatten(map[string]any{"plan": []string{"free", "pro"}[r.IntN(2)], "seats": float64(r.IntN(5))})
				}
				msgs = append(msgs, m)
			}
			at = at.Add(time.Duration(1+r.IntN(10)) * time.Hour)
		}
		if r.IntN(4) == 0 {
			done := at.Add(time.Minute)
			nps := r.IntN(11)
			responses = append(responses, store.SurveyResponse{SiteID: 1, SurveyID: "sv1", ResponseID: fmt.Sprint("r", v),
				AnonymousID: anon, UserID: user, URL: "https://app.example.com/", Answers: []byte(fmt.Sprintf(`{"q1":%d}`, nps)),
				NPS: &nps, Completed: true, CreatedAt: done, UpdatedAt: done, CompletedAt: done})
		}
		if r.IntN(4) == 0 {
			feedback = append(feedback, store.FeedbackItem{ID: fmt.Sprint("fb", v), SiteID: 1, AnonymousID: anon, UserID: user,
				URL: "https://app.example.com/pricing", Rating: 1 + r.IntN(5), Comment: "c", CreatedAt: at})
		}
	}
	return msgs, responses, feedback
}

// TestAgreesWithDuckstore writes the same generated history to duckstore
// and to this store, and compares what the overview, the event catalog,
// a user's erasure and the retention sweep answer on each.
func TestAgreesWithDuckstore(t *testing.T) {
	svc := newServices(t)
	for seed := range uint64(2) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			now := storetest.T0
			clock := func() time.Time { return now }
			duck, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "s.duckdb"), duckstore.Options{MemoryLimit: "128MB",
				Threads: 1, Now: clock}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { duck.Close() })
			ch, pg := svc.dsns(t)
			sc := open(t, ch, pg, clock)
			msgs, responses, feedback := history(seed)
			for i := 0; i < len(msgs); i += 40 {
				batch := msgs[i:min(i+40, len(msgs))]
				if _, err := duck.Write(ctx, batch); err != nil {
					t.Fatal(err)
				}
				if _, err := sc.Write(ctx, batch); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range responses {
				answers := []store.AnswerValue{{QuestionID: "q1", Num: ptr(float64(*r.NPS))}}
				check(t, duck.SaveResponse(ctx, r, answers))
				check(t, sc.SaveResponse(ctx, r, answers))
			}
			for _, f := range feedback {
				check(t, duck.AddFeedback(ctx, f))
				check(t, sc.AddFeedback(ctx, f))
			}
			check(t, duck.Sync(ctx))
			compare := func(what string) {
				t.Helper()
				day := 24 * time.Hour
				cur := store.Period{From: now.Add(-2 * day), To: now}
				prev := store.Period{From: now.Add(-4 * day), To: now.Add(-2 * day)}
				// Days cut in UTC, and in zones far from it, one with a
				// change of offset (St John's).
				for _, zone := range []string{"UTC", "Pacific/Kiritimati", "America/St_Johns"} {
					loc, err := time.LoadLocation(zone)
					check(t, err)
					same(t, what+": Activity in "+zone, func(s any) (any, error) {
						return s.(store.Overview).Activity(ctx, 1, cur, prev, loc)
					}, duck, sc)
				}
				same(t, what+": TopPages", func(s any) (any, error) {
					return s.(store.Overview).TopPages(ctx, 1, cur, prev, 3)
				}, duck, sc)
				same(t, what+": FrustrationSpots", func(s any) (any, error) {
					return s.(store.Overview).FrustrationSpots(ctx, 1, store.Period{From: now.Add(-4 * day), To: now}, 10)
				}, duck, sc)
				same(t, what+": NPSCounts", func(s any) (any, error) {
					return s.(store.Overview).NPSCounts(ctx, 1, "sv1", store.Period{From: now.Add(-4 * day), To: now})
				}, duck, sc)
				same(t, what+": Events", func(s any) (any, error) {
					// The samples are the first few values of partial sums
					// that each store cuts where its batches end.
					events, err := s.(store.EventCatalog).Events(ctx, 1, true)
					for i := range events {
						for j := range events[i].Properties {
							events[i].Properties[j].Samples = nil
						}
					}
					return events, err
				}, duck, sc)
				same(t, what+": EventUsers", func(s any) (any, error) {
					u, err := s.(store.EventCatalog).EventUsers(ctx, 1)
					return u.Users, err
				}, duck, sc)
				same(t, what+": FeedbackSummary", func(s any) (any, error) {
					return s.(store.FeedbackItems).FeedbackSummary(ctx, 1, store.FeedbackQuery{}, "day")
				}, duck, sc)
			}
			compare("written")
			// The user of the most messages, erased with every visitor
			// joined to them.
			count := map[string]int{}
			for _, m := range msgs {
				if m.UserID != "" {
					count[m.UserID]++
				}
			}
			top := ""
			for u, n := range count {
				if top == "" || n > count[top] || (n == count[top] && u < top) {
					top = u
				}
			}
			who := store.Identity{Kind: "user", ID: top}
			same(t, "UserSubmissions", func(s any) (any, error) {
				return s.(store.Submissions).UserSubmissions(ctx, 1, who)
			}, duck, sc)
			de, err := duck.DeleteUser(ctx, 1, who, store.EraseOptions{})
			check(t, err)
			se, err := sc.DeleteUser(ctx, 1, who, store.EraseOptions{})
			check(t, err)
			if de.Identities != se.Identities {
				t.Errorf("erasure: %d identities on duckstore, %d here", de.Identities, se.Identities)
			}
			for _, k := range []string{"events", "attribute_history", "rejections", "survey_responses", "survey_answers",
				"feedback", "sessions", "attributes", "company_links"} {
				if de.Deleted[k] != se.Deleted[k] {
					t.Errorf("erasure: %d %s on duckstore, %d here", de.Deleted[k], k, se.Deleted[k])
				}
			}
			compare("after the erasure")
			if de.Deleted["events"] == 0 {
				t.Error("the erased user had no events: the comparison shows nothing")
			}
			// Retention: two days of events, history and answers.
			keep := map[int64]store.Retention{1: {EventsDays: 2, HistoryDays: 2, SurveysDays: 2}}
			dx, err := duck.ExpireRetentions(ctx, now, keep)
			check(t, err)
			sx, err := sc.ExpireRetentions(ctx, now, keep)
			check(t, err)
			for _, k := range []string{"events", "clicks", "attribute_history", "survey_responses", "survey_answers"} {
				if dx[k] != sx[k] {
					t.Errorf("retention: %d %s on duckstore, %d here", dx[k], k, sx[k])
				}
			}
			if dx["events"] == 0 {
				t.Error("retention expired no event: the comparison shows nothing")
			}
			compare("after the retention sweep")
		})
	}
}

func ptr[T any](v T) *T { return &v }

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// same calls read on both stores and fails unless the answers are equal.
func same(t *testing.T, what string, read func(any) (any, error), duck, sc any) {
	t.Helper()
	want, err := read(duck)
	if err != nil {
		t.Fatalf("%s on duckstore: %v", what, err)
	}
	got, err := read(sc)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !reflect.DeepEqual(normalise(want), normalise(got)) {
		t.Errorf("%s:\nduckstore %+v\nscaled    %+v", what, want, got)
	}
}

// normalise puts times in UTC, so that equal instants compare equal.
func normalise(v any) any {
	return normaliseValue(reflect.ValueOf(v)).Interface()
}

func normaliseValue(v reflect.Value) reflect.Value {
	if !v.IsValid() {
		return v
	}
	if t, ok := v.Interface().(time.Time); ok {
		return reflect.ValueOf(t.UTC())
	}
	switch v.Kind() {
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(normaliseValue(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(normaliseValue(v.Index(i)))
		}
		return out
	case reflect.Map:
		out := reflect.MakeMap(v.Type())
		for _, k := range v.MapKeys() {
			out.SetMapIndex(k, normaliseValue(v.MapIndex(k)))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(normaliseValue(v.Elem()))
		return out
	}
	return v
}
