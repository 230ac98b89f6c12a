package chaos

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i
	}
	for _, tc := range []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, -1},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of four is the second", ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(hundred...), 99, 99 * time.Millisecond},
		{"max", ms(3, 9, 1), 100, 9 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.ds, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	acked := []batch{{ids: []string{"a", "b"}}, {ids: []string{"c"}}}
	maybe := []batch{{ids: []string{"m"}}}
	s := stored{count: map[string]int{"a": 1, "c": 2, "m": 1, "x": 1}, hidden: 3}
	v := compare(s, acked, maybe)
	if !slices.Equal(v.lost, []string{"b"}) || !slices.Equal(v.duplicated, []string{"c"}) ||
		!slices.Equal(v.unknown, []string{"x"}) || v.hidden != 3 {
		t.Errorf("compare = %+v; want lost [b], duplicated [c], unknown [x], hidden 3", v)
	}
}

// TestBatchesAreValid checks that generated batches are JSON with one
// unique messageId per message, the same as the batch's ids.
func TestBatchesAreValid(t *testing.T) {
	l := newLoad(target{}, nil, Config{Batch: 50, Users: 10}, "p", 1)
	seen := map[string]bool{}
	for w := range 2 {
		for n := range 3 {
			b := l.make(newRand(uint64(w)), w, n)
			if b.browser != (w == 1) {
				t.Errorf("sender %d: browser %v", w, b.browser)
			}
			var body struct {
				Batch []struct {
					MessageID string `json:"messageId"`
					UserID    string `json:"userId"`
				} `json:"batch"`
			}
			if err := json.Unmarshal(b.body, &body); err != nil {
				t.Fatal(err)
			}
			for i, m := range body.Batch {
				if m.MessageID != b.ids[i] || seen[m.MessageID] || !strings.HasPrefix(m.UserID, "u_") {
					t.Errorf("message %d: id %q (want %q, seen %v), user %q", i, m.MessageID, b.ids[i], seen[m.MessageID], m.UserID)
				}
				seen[m.MessageID] = true
			}
		}
	}
}

func TestWriteTable(t *testing.T) {
	r := newRow("kill-batch")
	r.Rounds, r.Acked, r.Lost, r.Reposted, r.RepostedDup, r.Recovery = 3, 1200, 0, 12, 12, 1500*time.Millisecond
	r.fail("one thing")
	r.finish()
	var buf bytes.Buffer
	if err := WriteTable(&buf, []*Row{r}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kill-batch", "1200", "12/12", "1.50", "FAIL", "FAIL: one thing"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
	if !Failed([]*Row{r}) {
		t.Error("Failed = false for a failed row")
	}
}

func TestStatusOf(t *testing.T) {
	for line, want := range map[string]string{
		"HTTP/1.1 408 Request Timeout\r\n": "408 Request Timeout",
		"garbage":                          "a malformed answer",
	} {
		if got := statusOf(line); got != want {
			t.Errorf("statusOf(%q) = %q, want %q", line, got, want)
		}
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

func TestWriteRefusalOK(t *testing.T) {
	for kind, want := range map[string]bool{
		"200": true, "202": true, "503 storage_unavailable": true, "503 busy": true, "429 overloaded": true,
		"500 internal": false, "503 cancelled": false, "503 shutting_down": false, "timeout": false, "transport": false,
	} {
		if got := writeRefusalOK(kind); got != want {
			t.Errorf("writeRefusalOK(%q) = %v, want %v", kind, got, want)
		}
	}
}

func TestFirstTime(t *testing.T) {
	a := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := a.Add(time.Second)
	if got := firstTime(time.Time{}, b, a); !got.Equal(a) {
		t.Errorf("firstTime = %v, want %v", got, a)
	}
	if got := firstTime(time.Time{}); !got.IsZero() {
		t.Errorf("firstTime of nothing = %v", got)
	}
	if since(time.Time{}, a) != -1 || since(a, b) != time.Second {
		t.Error("since")
	}
}
