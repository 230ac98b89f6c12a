package chaos

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// slowBody measures a normal client's requests to /v1/track, /t/batch and
// /t/rec for SlowWindow, then again while SlowConns connections from
// SlowIPs other loopback addresses hold requests open by sending their
// bodies a byte at a time (some with a valid write key, some with an
// invalid one). The normal client must see no errors and a p99 within
// SlowP99 under attack.
func slowBody(ctx context.Context, e *env, row *Row) error {
	data := filepath.Join(e.dir, "data")
	s, err := e.createSite(ctx, data, "chaos slow")
	if err != nil {
		return err
	}
	srv, _, err := e.start(ctx, data)
	if err != nil {
		return err
	}
	defer srv.kill()
	row.Rounds = 1
	t := target{url: srv.url, site: s}
	n := &normalClient{t: t, client: newClient(2, e.cfg.Timeout), nonce: fmt.Sprintf("%08x", e.rng.Uint32())}
	defer n.client.CloseIdleConnections()

	base := n.measure(ctx, e.cfg.SlowWindow)
	e.log.Info("without attackers", "requests", len(base.latencies), "answers", base.kinds)

	attackCtx, stopAttack := context.WithCancel(ctx)
	att := &attack{addr: strings.TrimPrefix(srv.url, "http://"), site: s, answers: tally{}}
	var wg sync.WaitGroup
	for i := range e.cfg.SlowConns {
		wg.Go(func() { att.hold(attackCtx, i, e.cfg.SlowIPs) })
	}
	sleepCtx(ctx, 500*time.Millisecond) // let the attackers connect
	att.mu.Lock()
	opened := att.opened
	att.mu.Unlock()
	e.log.Info("attackers connected", "open", opened, "of", e.cfg.SlowConns)
	under := n.measure(ctx, e.cfg.SlowWindow)
	stopAttack()
	wg.Wait()
	e.log.Info("with attackers", "requests", len(under.latencies), "answers", under.kinds)

	row.P50, row.P99 = percentile(under.latencies, 50), percentile(under.latencies, 99)
	row.note("normal client without attackers: %d requests, p50 %s, p99 %s (%s); answers %s",
		len(base.latencies), millis(percentile(base.latencies, 50)), millis(percentile(base.latencies, 99)), base, base.kinds)
	row.note("normal client with %d slow connections from %d addresses: %d requests, p50 %s, p99 %s (%s); answers %s",
		e.cfg.SlowConns, e.cfg.SlowIPs, len(under.latencies), millis(row.P50), millis(row.P99), under, under.kinds)
	row.note("slow connections: %d opened (cut ones are replaced after %v), %d refused at connect, %d cut by the server"+
		" after a median %s, max %s (%s)", att.opened, attackerPause, att.refused, att.cut,
		seconds(percentile(att.held, 50)), seconds(percentile(att.held, 100)), att.answers)
	if bad := under.kinds.count(func(k string) bool { return !strings.HasSuffix(k, " 200") }); bad > 0 {
		row.fail("the normal client got %d errors under attack", bad)
	}
	if bad := base.kinds.count(func(k string) bool { return !strings.HasSuffix(k, " 200") }); bad > 0 {
		row.fail("the normal client got %d errors without attackers", bad)
	}
	if row.P99 > e.cfg.SlowP99 || row.P99 < 0 {
		row.fail("the normal client's p99 under attack is %s; the bound is %s", millis(row.P99), millis(e.cfg.SlowP99))
	}
	if err := srv.stop(30 * time.Second); err != nil {
		row.fail("%v", err)
	}
	return nil
}

// normalClient sends what a well-behaved server library and browser send,
// one request at a time from two workers.
type normalClient struct {
	t      target
	client *http.Client
	nonce  string
	round  int
}

// measured is what a normal client saw.
type measured struct {
	latencies []time.Duration
	by        map[string][]time.Duration // latencies by endpoint
	kinds     tally                      // "track 200", "rec 429 overloaded"…
}

// String gives each endpoint's p50 and p99.
func (m measured) String() string {
	var parts []string
	for _, name := range []string{"track", "batch", "rec"} {
		ds := m.by[name]
		parts = append(parts, fmt.Sprintf("%s %s/%s", name, millis(percentile(ds, 50)), millis(percentile(ds, 99))))
	}
	return "p50/p99 by endpoint: " + strings.Join(parts, ", ")
}

// measure sends requests for d and returns their latencies and answers.
func (n *normalClient) measure(ctx context.Context, d time.Duration) measured {
	n.round++
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	out := measured{kinds: tally{}, by: map[string][]time.Duration{}}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(n.round), uint64(w)))
			up := &uploads{t: n.t, nonce: fmt.Sprintf("%s-n%d", n.nonce, n.round)}
			l := newLoad(n.t, n.client, Config{Batch: 5, Users: 64}, fmt.Sprintf("%s-n%d-w%d", n.nonce, n.round, w), 0)
			for i := 0; ; i++ {
				var name string
				var mk func(context.Context) (*http.Request, error)
				switch i % 3 {
				case 0:
					name, mk = "track", n.track(fmt.Sprintf("%s-n%d-w%d-t%d", n.nonce, n.round, w, i))
				case 1:
					name, mk = "batch", n.t.batchSender(l.make(rng, 1, i))
				case 2:
					name, mk = "rec", n.t.chunkSender(up.make(rng, w, i/3))
				}
				a := deliverOnce(ctx, n.client, mk)
				if ctx.Err() != nil {
					return // the window closed during the request
				}
				mu.Lock()
				out.kinds[name+" "+a.kind()]++
				out.latencies = append(out.latencies, a.latency)
				out.by[name] = append(out.by[name], a.latency)
				mu.Unlock()
				if !sleepCtx(ctx, 20*time.Millisecond) {
					return
				}
			}
		})
	}
	wg.Wait()
	return out
}

// track returns the maker of a single /v1/track request.
func (n *normalClient) track(id string) func(context.Context) (*http.Request, error) {
	body := fmt.Sprintf(`{"userId":"u_001","event":"Report Exported","messageId":%q,"properties":{"format":"csv"}}`, id)
	return func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.t.url+"/v1/track", strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(n.t.site.WriteKey, "")
		return req, nil
	}
}

// attack holds slow connections and counts what the server did to them.
type attack struct {
	addr string
	site site

	mu      sync.Mutex
	opened  int
	refused int
	cut     int
	held    []time.Duration // how long each cut connection was held
	answers tally           // what the server did when it cut one
}

// attackerPause is how long an attacker waits before opening a new
// connection in place of one the server cut or refused.
const attackerPause = time.Second

// hold keeps slow connection i open from one of ips loopback addresses
// until ctx ends: the headers of a POST announcing a 64 KiB body, then a
// byte every second; when the server cuts it, a new one takes its place.
func (a *attack) hold(ctx context.Context, i, ips int) {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%max(ips, 1)))}
	key := a.site.WriteKey
	if i%4 == 3 {
		key = "wk_not_a_key_of_this_server"
	}
	var head string
	switch i % 3 {
	case 0:
		head = "POST /v1/track HTTP/1.1\r\nAuthorization: Basic " + base64.StdEncoding.EncodeToString([]byte(key+":")) +
			"\r\nContent-Type: application/json\r\n"
	case 1:
		head = "POST /t/batch?k=" + key + " HTTP/1.1\r\nOrigin: " + origin + "\r\nContent-Type: text/plain\r\n"
	case 2:
		head = "POST /t/rec?k=" + key + " HTTP/1.1\r\nOrigin: " + origin + "\r\nContent-Type: text/plain\r\n"
	}
	head += "Host: " + a.addr + "\r\nContent-Length: 65536\r\n\r\n{"
	for ctx.Err() == nil {
		if how, held := a.holdOnce(ctx, local, head); how != "" {
			a.mu.Lock()
			a.cut++
			a.held = append(a.held, held)
			a.answers[how]++
			a.mu.Unlock()
		}
		sleepCtx(ctx, attackerPause)
	}
}

// holdOnce opens one slow connection and holds it until ctx ends or the
// server cuts it; it returns what the server did ("" when ctx ended
// first) and how long the connection was held.
func (a *attack) holdOnce(ctx context.Context, local net.Addr, head string) (string, time.Duration) {
	conn, err := loopbackDialer(local).DialContext(ctx, "tcp", a.addr)
	if err != nil {
		if ctx.Err() == nil {
			a.mu.Lock()
			a.refused++
			a.mu.Unlock()
		}
		return "", 0
	}
	defer conn.Close()
	a.mu.Lock()
	a.opened++
	a.mu.Unlock()
	start := time.Now()
	if _, err := conn.Write([]byte(head)); err != nil {
		return "write failed", time.Since(start)
	}
	r := bufio.NewReader(conn)
	for ctx.Err() == nil {
		conn.SetReadDeadline(time.Now().Add(time.Second))
		line, err := r.ReadString('\n')
		if line != "" {
			return statusOf(line), time.Since(start)
		}
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			return "closed without an answer", time.Since(start)
		}
		if _, err := conn.Write([]byte(" ")); err != nil {
			return "write failed", time.Since(start)
		}
	}
	return "", 0
}

// statusOf returns the status code and text of an HTTP status line.
func statusOf(line string) string {
	f := strings.Fields(line)
	if len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
		return strings.Join(f[1:], " ")
	}
	return "a malformed answer"
}
