package engine

import (
	"runtime"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// BenchmarkMembershipCacheMemory fills a cache of DefaultCacheEntries to
// its bound (twice that many answers) and reports the heap it takes per
// answer and in all.
func BenchmarkMembershipCacheMemory(b *testing.B) {
	now := time.Now()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		e := (&Engine{}).WithMembershipCache(DefaultCacheEntries, DefaultCacheTTL)
		for i := range 2*DefaultCacheEntries - 1 {
			k := memberKey{site: 1, user: int64(i)}
			k.n[0] = byte(i)
			e.members.put(k, memberEntry{in: i%2 == 0, vers: store.Versions{Profile: 1}, until: now.UnixNano()})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		_, n := e.members.stats()
		heap := float64(after.HeapAlloc - before.HeapAlloc)
		b.ReportMetric(heap/float64(n), "B/answer")
		b.ReportMetric(heap/(1<<20), "MiB")
		runtime.KeepAlive(e)
	}
}

// TestMembershipCacheBound checks that the cache holds at most twice its
// size and still finds what was put last.
func TestMembershipCacheBound(t *testing.T) {
	e := (&Engine{}).WithMembershipCache(100, time.Minute)
	now := time.Now()
	for i := range 1000 {
		e.members.put(memberKey{user: int64(i)}, memberEntry{in: true, until: now.Add(time.Minute).UnixNano()})
		if _, n := e.members.stats(); n > 200 {
			t.Fatalf("%d entries after %d puts, want at most 200", n, i+1)
		}
	}
	if in, ok := e.members.get(memberKey{user: 999}, store.Versions{}, now); !in || !ok {
		t.Fatal("the last answer put is gone")
	}
	if _, ok := e.members.get(memberKey{user: 0}, store.Versions{}, now); ok {
		t.Fatal("the first answer put is still there")
	}
	if _, ok := e.members.get(memberKey{user: 999}, store.Versions{Profile: 1}, now); ok {
		t.Fatal("an answer was given under other counters")
	}
	if _, ok := e.members.get(memberKey{user: 999}, store.Versions{}, now.Add(time.Minute)); ok {
		t.Fatal("an answer was given past its TTL")
	}
	if (&Engine{}).WithMembershipCache(0, time.Minute).members != nil {
		t.Fatal("0 entries should turn the cache off")
	}
}

// TestDependenceOf pins which counters and clock an answer depends on.
func TestDependenceOf(t *testing.T) {
	tests := []struct {
		text string
		want dependence
	}{
		{`plan = "pro"`, dependence{}},
		{`company.industry = "retail" and not plan in ("a", "b")`, dependence{}},
		{`signed_up_at within 30d`, dependence{drifts: true}},
		{`signed_up_at older_than 30d`, dependence{drifts: true}},
		{`plan changed to "pro"`, dependence{}},
		{`plan changed to "pro" within 30d`, dependence{drifts: true}},
		{`did("Buy")`, dependence{activity: true}},
		{`plan = "pro" and did("Buy", 7d)`, dependence{activity: true, drifts: true}},
		{`visited("/pricing")`, dependence{activity: true}},
		{`session.country = "NO"`, dependence{activity: true}},
		{`rage_clicks(7d) >= 3`, dependence{activity: true, drifts: true}},
		{`nps_score() >= 9`, dependence{surveys: true}},
		{`in_segment("seg_x")`, dependence{activity: true, surveys: true, drifts: true}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			n, err := segment.Parse(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := dependenceOf(n); got != tt.want {
				t.Errorf("dependenceOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}
