package loadgen_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/loadgen"
)

func defaultMix() loadgen.MessageMix { return loadgen.DefaultConfig().Mix }

// render makes n bodies with g, failing the test on error.
func render(t testing.TB, g *loadgen.Generator, n int) []*loadgen.Body {
	t.Helper()
	var out []*loadgen.Body
	for range n {
		b, err := g.Body()
		if err != nil {
			t.Fatalf("Body: %v", err)
		}
		out = append(out, b)
	}
	return out
}

// mustDecode decodes and checks a body, failing the test if it is not a
// valid Segment batch.
func mustDecode(t testing.TB, b *loadgen.Body) batch {
	t.Helper()
	dec, err := decodeBatch(b.Bytes())
	if err != nil {
		t.Fatalf("invalid batch: %v\n%.2000s", err, b.Bytes())
	}
	if len(dec.Batch) != b.Messages() {
		t.Fatalf("batch has %d messages, Messages() says %d", len(dec.Batch), b.Messages())
	}
	return dec
}

func TestBodiesAreValidSegmentBatches(t *testing.T) {
	tests := []struct {
		name string
		mix  func(m *loadgen.MessageMix)
	}{
		{"default", func(*loadgen.MessageMix) {}},
		{"one message", func(m *loadgen.MessageMix) { m.Batch = 1 }},
		{"only identify", func(m *loadgen.MessageMix) { m.Identify, m.Page = 1, 0 }},
		{"only page", func(m *loadgen.MessageMix) { m.Identify, m.Page = 0, 1 }},
		{"only track", func(m *loadgen.MessageMix) { m.Identify, m.Page = 0, 0 }},
		{"all anonymous", func(m *loadgen.MessageMix) { m.Anonymous = 1 }},
		{"one user", func(m *loadgen.MessageMix) { m.Users = 1 }},
		{"many users", func(m *loadgen.MessageMix) { m.Users = 10_000_000 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mix := defaultMix()
			tt.mix(&mix)
			g := loadgen.NewGenerator(mix, 7)
			s := loadgen.NewStamper(mix, 42, 3, 7)
			for _, b := range render(t, g, 5) {
				mustDecode(t, b) // placeholders are valid too
				s.Stamp(b, time.Now())
				mustDecode(t, b)
			}
		})
	}
}

func TestMixProportions(t *testing.T) {
	mix := defaultMix()
	g := loadgen.NewGenerator(mix, 1)
	counts := map[string]int{}
	anonymous, pageOrTrack, total := 0, 0, 0
	for _, b := range render(t, g, 100) {
		for _, m := range mustDecode(t, b).Batch {
			counts[m.Type]++
			total++
			if m.Type != "identify" {
				pageOrTrack++
				if m.UserID == nil {
					anonymous++
				}
			}
		}
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if got < want-0.02 || got > want+0.02 {
			t.Errorf("%s fraction = %.3f, want %.2f±0.02", name, got, want)
		}
	}
	near("identify", float64(counts["identify"])/float64(total), mix.Identify)
	near("page", float64(counts["page"])/float64(total), mix.Page)
	near("track", float64(counts["track"])/float64(total), 1-mix.Identify-mix.Page)
	near("anonymous", float64(anonymous)/float64(pageOrTrack), mix.Anonymous)
}

func TestMessagesLookReal(t *testing.T) {
	g := loadgen.NewGenerator(defaultMix(), 1)
	agents, events, paths := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, b := range render(t, g, 10) {
		for _, m := range mustDecode(t, b).Batch {
			agents[m.Context.UserAgent] = true
			paths[m.Context.Page["path"]] = true
			if !strings.HasPrefix(m.Context.UserAgent, "Mozilla/5.0 (") {
				t.Errorf("user agent %q is not a browser's", m.Context.UserAgent)
			}
			if !strings.HasPrefix(m.Context.Page["url"], "https://app.example.com/") {
				t.Errorf("page url %q", m.Context.Page["url"])
			}
			switch m.Type {
			case "track":
				events[m.Event] = true
				if len(m.Properties) < 2 {
					t.Errorf("track %q has only %d properties", m.Event, len(m.Properties))
				}
			case "identify":
				for _, k := range []string{"email", "name", "plan", "company"} {
					if m.Traits[k] == nil {
						t.Errorf("identify lacks trait %q: %v", k, m.Traits)
					}
				}
			}
		}
	}
	if len(agents) < 5 || len(events) < 5 || len(paths) < 5 {
		t.Errorf("too little variety: %d user agents, %d events, %d paths", len(agents), len(events), len(paths))
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	a := render(t, loadgen.NewGenerator(defaultMix(), 9), 3)
	b := render(t, loadgen.NewGenerator(defaultMix(), 9), 3)
	c := render(t, loadgen.NewGenerator(defaultMix(), 10), 1)
	for i := range a {
		if !bytes.Equal(a[i].Bytes(), b[i].Bytes()) {
			t.Fatalf("body %d differs between two generators with the same seed", i)
		}
	}
	if bytes.Equal(a[0].Bytes(), c[0].Bytes()) {
		t.Fatal("different seeds gave the same body")
	}
}

func TestStampGivesUniqueIDsAndTheCurrentTime(t *testing.T) {
	mix := defaultMix()
	bodies := render(t, loadgen.NewGenerator(mix, 1), 4)
	stampers := []*loadgen.Stamper{
		loadgen.NewStamper(mix, 99, 0, 1),
		loadgen.NewStamper(mix, 99, 1, 1), // same nonce and seed: only the worker differs
	}
	seen := map[string]bool{}
	now := time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.FixedZone("CET", 3600))
	for round := range 5 {
		for w, s := range stampers {
			for i, b := range bodies {
				now = now.Add(time.Millisecond)
				s.Stamp(b, now)
				dec := mustDecode(t, b)
				want := now.UTC().Format("2006-01-02T15:04:05.000Z")
				if dec.SentAt != want {
					t.Fatalf("sentAt = %s, want %s", dec.SentAt, want)
				}
				for _, m := range dec.Batch {
					if m.Timestamp != want {
						t.Fatalf("timestamp = %s, want %s", m.Timestamp, want)
					}
					if seen[m.MessageID] {
						t.Fatalf("round %d, worker %d, body %d: messageId %s repeats", round, w, i, m.MessageID)
					}
					seen[m.MessageID] = true
				}
			}
		}
	}
	if want := 5 * 2 * 4 * mix.Batch; len(seen) != want {
		t.Fatalf("%d distinct message IDs, want %d", len(seen), want)
	}
}

func TestStampSpreadsUsersConsistently(t *testing.T) {
	mix := defaultMix()
	mix.Users = 1000
	userRE := regexp.MustCompile(`^u_\d{3}$`)
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	bodies := render(t, loadgen.NewGenerator(mix, 1), 10)
	s := loadgen.NewStamper(mix, 1, 0, 1)
	anonOf, userOf := map[string]string{}, map[string]string{}
	for range 3 {
		for _, b := range bodies {
			s.Stamp(b, time.Now())
			for _, m := range mustDecode(t, b).Batch {
				if !uuidRE.MatchString(m.AnonymousID) {
					t.Fatalf("anonymousId %q is not a v4 UUID", m.AnonymousID)
				}
				if m.UserID == nil {
					continue
				}
				u := *m.UserID
				if !userRE.MatchString(u) {
					t.Fatalf("userId %q does not match %s", u, userRE)
				}
				if prev, ok := anonOf[u]; ok && prev != m.AnonymousID {
					t.Fatalf("user %s has anonymousIds %s and %s", u, prev, m.AnonymousID)
				}
				if prev, ok := userOf[m.AnonymousID]; ok && prev != u {
					t.Fatalf("anonymousId %s belongs to %s and %s", m.AnonymousID, prev, u)
				}
				anonOf[u], userOf[m.AnonymousID] = m.AnonymousID, u
				if m.Type == "identify" {
					if want := "user" + strings.TrimPrefix(u, "u_") + "@example.com"; m.Traits["email"] != want {
						t.Fatalf("identify of %s has email %v, want %s", u, m.Traits["email"], want)
					}
				}
			}
		}
	}
	// 3*10*100 messages, ~80% with a userId, over 1000 users: nearly all
	// users should appear.
	if len(anonOf) < 800 {
		t.Fatalf("only %d of 1000 users seen", len(anonOf))
	}
}

func BenchmarkStamp(b *testing.B) {
	for _, n := range []int{10, 100, 500} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			mix := defaultMix()
			mix.Batch = n
			body := render(b, loadgen.NewGenerator(mix, 1), 1)[0]
			s := loadgen.NewStamper(mix, 1, 0, 1)
			b.SetBytes(int64(len(body.Bytes())))
			b.ReportAllocs()
			now := time.Now()
			for b.Loop() {
				s.Stamp(body, now)
			}
		})
	}
}

func BenchmarkGeneratorBody(b *testing.B) {
	g := loadgen.NewGenerator(defaultMix(), 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Body(); err != nil {
			b.Fatal(err)
		}
	}
}
