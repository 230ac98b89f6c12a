package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
)

// slowAttack is a group of connections that each send their headers and
// one byte of a 1000-byte body, then nothing, from one address, and start
// over once answered.
type slowAttack struct {
	name, target, xff string
	header            map[string]string
	conns             int

	mu       sync.Mutex
	outcomes map[string]int           // "401 unauthorized" → count
	slowest  map[string]time.Duration // the longest wait for each outcome
}

func (a *slowAttack) run(ctx context.Context, t *testing.T, addr string, wg *sync.WaitGroup) {
	a.outcomes, a.slowest = map[string]int{}, map[string]time.Duration{}
	for range a.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				outcome, took := a.once(ctx, addr)
				if ctx.Err() != nil {
					return
				}
				a.mu.Lock()
				a.outcomes[outcome]++
				a.slowest[outcome] = max(a.slowest[outcome], took)
				a.mu.Unlock()
				// A pause before starting over: this is about clients that
				// hold connections, not about a flood of them.
				select {
				case <-ctx.Done():
				case <-time.After(500 * time.Millisecond):
				}
			}
		}()
	}
}

// once sends one slow request and returns the answer's status and error
// code, and how long it took.
func (a *slowAttack) once(ctx context.Context, addr string) (string, time.Duration) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "dial: " + err.Error(), 0
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var req strings.Builder
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\nX-Forwarded-For: %s\r\n", a.target, addr, a.xff)
	for k, v := range a.header {
		fmt.Fprintf(&req, "%s: %s\r\n", k, v)
	}
	req.WriteString("\r\n{")
	start := time.Now()
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return "write: " + err.Error(), 0
	}
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "no answer", time.Since(start)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return fmt.Sprintf("%d %s", resp.StatusCode, errorCode(body)), time.Since(start)
}

func (a *slowAttack) report() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var parts []string
	for o, n := range a.outcomes {
		parts = append(parts, fmt.Sprintf("%s ×%d (slowest %v)", o, n, a.slowest[o].Round(time.Millisecond)))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// normalClient sends valid requests one after another from its own
// address and records how long each took: rounds of a /v1/track, a
// /t/batch and a /t/rec, at least one round.
type normalClient struct {
	s      *testServer
	client *http.Client
	seq    int
	took   []time.Duration
	failed []string
}

func (c *normalClient) run(t *testing.T, d time.Duration) {
	t.Helper()
	c.took, c.failed = nil, nil
	end := time.Now().Add(d)
	for first := true; first || time.Now().Before(end); first = false {
		c.seq++
		msg := fmt.Sprintf(`{"userId":"u%d","event":"normal"}`, c.seq%10)
		reqs := []*http.Request{
			c.request("/v1/track", msg, true),
			c.request("/t/batch?k="+c.s.writeKey, `{"batch":[{"type":"track","anonymousId":"v1","event":"normal"}]}`, false),
			c.request("/t/rec?k="+c.s.writeKey, string(chunk("normal", "v1", c.seq, time.Now().Add(-time.Minute))), false),
		}
		for _, req := range reqs {
			start := time.Now()
			resp, err := c.client.Do(req)
			if err != nil {
				c.failed = append(c.failed, req.URL.Path+": "+err.Error())
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			c.took = append(c.took, time.Since(start))
			if resp.StatusCode != http.StatusOK {
				c.failed = append(c.failed, fmt.Sprintf("%s: %s %s", req.URL.Path, resp.Status, b))
			}
		}
	}
}

func (c *normalClient) request(path, body string, basic bool) *http.Request {
	req, _ := http.NewRequest("POST", c.s.base+path, strings.NewReader(body))
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	req.Header.Set("Content-Type", "text/plain")
	if basic {
		req.SetBasicAuth(c.s.writeKey, "")
	} else {
		req.Header.Set("Origin", appOrigin)
	}
	return req
}

// percentile is the p-th percentile of ds (0 < p ≤ 100).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// TestSlowClientsCannotStarveIngestion holds 100 connections that send
// their headers and one byte — with unknown and with valid write keys,
// against /v1/track, /t/batch and /t/rec — and wants a normal client's
// requests from another address to keep succeeding promptly: unknown keys
// are refused before they take a slot, one address holds only its share of
// the slots, and a body that stalls is cut off after the grace period.
func TestSlowClientsCannotStarveIngestion(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 10 s")
	}
	const grace = 2 * time.Second // shorter than the default 5 s, to cycle the attackers within the test
	s := startServer(t, func(c *config.Config) {
		c.TrustProxy = true
		c.Body.Grace = grace
	})
	addr := strings.TrimPrefix(s.base, "http://")
	basic := func(key string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))}
	}
	origin := map[string]string{"Origin": appOrigin}
	attacks := []*slowAttack{
		{name: "/v1/track, unknown key", target: "/v1/track", xff: "203.0.113.1", header: basic("wk_nope"), conns: 20},
		{name: "/v1/track, valid key", target: "/v1/track", xff: "203.0.113.2", header: basic(s.writeKey), conns: 20},
		{name: "/v1/track, key in the body", target: "/v1/track", xff: "203.0.113.3", conns: 10},
		{name: "/t/batch, valid key", target: "/t/batch?k=" + s.writeKey, xff: "203.0.113.4", header: origin, conns: 20},
		{name: "/t/rec, valid key", target: "/t/rec?k=" + s.writeKey, xff: "203.0.113.5", header: origin, conns: 15},
		{name: "/t/rec, unknown key", target: "/t/rec?k=wk_nope", xff: "203.0.113.6", header: origin, conns: 15},
	}

	normal := &normalClient{s: s, client: &http.Client{Timeout: 30 * time.Second}}
	normal.run(t, 0) // one round to warm up: the first chunk starts a recording
	normal.run(t, 1500*time.Millisecond)
	if len(normal.failed) > 0 {
		t.Fatalf("without attackers, the normal client failed: %v", normal.failed)
	}
	calm := normal.took

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, a := range attacks {
		a.run(ctx, t, addr, &wg)
	}
	time.Sleep(300 * time.Millisecond) // let them take what they can
	normal.run(t, 2*grace+time.Second)
	cancel()
	wg.Wait()

	t.Logf("normal client without attackers: %d requests, p50 %v, p99 %v", len(calm),
		percentile(calm, 50).Round(time.Microsecond), percentile(calm, 99).Round(time.Microsecond))
	t.Logf("normal client with 100 slow connections: %d requests, p50 %v, p99 %v", len(normal.took),
		percentile(normal.took, 50).Round(time.Microsecond), percentile(normal.took, 99).Round(time.Microsecond))
	for _, a := range attacks {
		t.Logf("%-28s %s", a.name+":", a.report())
	}
	if len(normal.failed) > 0 {
		t.Errorf("the normal client was refused %d times among %d requests, e.g. %v", len(normal.failed), len(normal.took), normal.failed[0])
	}
	// Generous, for -race on two busy cores; unloaded it is about 0.2 s.
	if p99 := percentile(normal.took, 99); p99 > 2*time.Second {
		t.Errorf("the normal client's p99 is %v under attack, want under 2 s", p99)
	}

	// What each attack got: unknown keys a 401 at once; valid keys a place
	// among the requests being received up to the address's share (then
	// 429 at once, which 20 connections may not reach) and, for a stalled
	// body, a 408 after the grace period.
	want := map[string][]string{
		"/v1/track, unknown key":     {"401 unauthorized"},
		"/v1/track, valid key":       {"408 body_timeout"},
		"/v1/track, key in the body": {"408 body_timeout"},
		"/t/batch, valid key":        {"408 body_timeout"},
		"/t/rec, valid key":          {"408 body_timeout"},
		"/t/rec, unknown key":        {"401 unauthorized"},
	}
	const capped = "429 too_many_requests_from_client"
	for _, a := range attacks {
		for o := range a.outcomes {
			if !slices.Contains(want[a.name], o) && !(o == capped && want[a.name][0] == "408 body_timeout") {
				t.Errorf("%s: unexpected answer %q", a.name, o)
			}
		}
		for _, o := range want[a.name] {
			if a.outcomes[o] == 0 {
				t.Errorf("%s: never got %q", a.name, o)
			}
		}
		if d := a.slowest["401 unauthorized"]; d > time.Second {
			t.Errorf("%s: a refusal of an unknown key took %v; it must not wait for the body", a.name, d)
		}
		if d := a.slowest["429 too_many_requests_from_client"]; d > time.Second {
			t.Errorf("%s: a refusal over the client's share took %v", a.name, d)
		}
		if d := a.slowest["408 body_timeout"]; d != 0 && (d < grace-100*time.Millisecond || d > grace+2*time.Second) {
			t.Errorf("%s: a stalled body was cut off after %v, want about %v", a.name, d, grace)
		}
	}
}

// TestRefusalDoesNotWaitForTheBody checks that a request refused before
// its body is read is answered at once and its connection closed, even
// though the client has sent only part of the body.
func TestRefusalDoesNotWaitForTheBody(t *testing.T) {
	s := startServer(t, nil)
	addr := strings.TrimPrefix(s.base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Length: 100000\r\n\r\n%s",
		base64.StdEncoding.EncodeToString([]byte("wk_nope:")), bytes.Repeat([]byte("x"), 10))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !resp.Close || time.Since(start) > time.Second {
		t.Fatalf("%s after %v, Connection %q", resp.Status, time.Since(start), resp.Header.Get("Connection"))
	}
}
