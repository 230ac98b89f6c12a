package chaos

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// watcher runs a poll in the background until Stop.
type watcher struct {
	stop context.CancelFunc
	done chan struct{}
}

// every calls fn every period until the watcher is stopped.
func every(ctx context.Context, period time.Duration, fn func(ctx context.Context)) *watcher {
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			fn(ctx)
			sleepCtx(ctx, period)
		}
	}()
	return w
}

// Stop stops the polls and waits for the last one.
func (w *watcher) Stop() {
	w.stop()
	<-w.done
}

// readyAnswer is one answer of /readyz.
type readyAnswer struct {
	at      time.Time
	kind    string   // "200 ready", "503 not_ready", "timeout", "transport"
	reasons []string // the first words of each reason: "writes refused", "applier failing"
}

// readyLog polls /readyz and keeps every answer.
type readyLog struct {
	*watcher
	mu      sync.Mutex
	answers []readyAnswer
}

// readyPoll is how often /readyz is asked during the disk-full episode.
const readyPoll = 100 * time.Millisecond

// watchReady polls url's /readyz, each request bounded by timeout.
func watchReady(ctx context.Context, url string, timeout time.Duration) *readyLog {
	r := &readyLog{}
	client := newClient(1, timeout)
	r.watcher = every(ctx, readyPoll, func(ctx context.Context) {
		a := askReady(ctx, client, url)
		if ctx.Err() != nil {
			return // cut by Stop, not by the server
		}
		r.mu.Lock()
		r.answers = append(r.answers, a)
		r.mu.Unlock()
	})
	return r
}

func askReady(ctx context.Context, client *http.Client, url string) readyAnswer {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
	if err != nil {
		return readyAnswer{at: time.Now(), kind: "transport"}
	}
	resp, err := client.Do(req)
	if err != nil {
		return readyAnswer{at: time.Now(), kind: answer{err: err}.kind()}
	}
	defer resp.Body.Close()
	var body struct {
		Status  string   `json:"status"`
		Reasons []string `json:"reasons"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(&body)
	out := readyAnswer{at: time.Now(), kind: strconv.Itoa(resp.StatusCode) + " " + body.Status}
	switch {
	case err != nil && (answer{err: err}).timedOut():
		out.kind = "timeout"
	case err != nil:
		out.kind = strconv.Itoa(resp.StatusCode) + " unreadable"
	}
	for _, r := range body.Reasons {
		head, _, _ := strings.Cut(r, ":")
		out.reasons = append(out.reasons, head)
	}
	return out
}

// between tallies the answers in [from, to) and their reasons.
func (r *readyLog) between(from, to time.Time) (kinds, reasons tally) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kinds, reasons = tally{}, tally{}
	for _, a := range r.answers {
		if a.at.Before(from) || !a.at.Before(to) {
			continue
		}
		kinds[a.kind]++
		for _, why := range a.reasons {
			reasons[why]++
		}
	}
	return kinds, reasons
}

// readyAfter returns the first 200 answer after t, if there is one yet.
func (r *readyLog) readyAfter(t time.Time) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.answers {
		if a.at.After(t) && strings.HasPrefix(a.kind, "200 ") {
			return a.at, true
		}
	}
	return time.Time{}, false
}

// probeAnswer is the answer to one probe batch.
type probeAnswer struct {
	sent, at time.Time
	kind     string
	b        batch
}

// probes sends a new small batch every period, once each, and keeps the
// answers: unlike the load's senders it does not wait out Retry-After, so
// it sees both what the server answers while the disk is full and the
// moment it takes writes again.
type probes struct {
	*watcher
	mu      sync.Mutex
	answers []probeAnswer
}

// probePeriod is the time between two probes.
const probePeriod = 100 * time.Millisecond

// startProbes sends gen's batches of sender w.
func startProbes(ctx context.Context, t target, client *http.Client, gen *load, w int, rng *rand.Rand) *probes {
	p := &probes{}
	n := 0
	p.watcher = every(ctx, probePeriod, func(ctx context.Context) {
		b := gen.make(rng, w, n)
		n++
		sent := time.Now()
		a := deliverOnce(ctx, client, t.batchSender(b))
		p.mu.Lock()
		defer p.mu.Unlock()
		if ctx.Err() != nil && !a.ok() {
			// Cut by Stop: maybe stored, never acknowledged.
			p.answers = append(p.answers, probeAnswer{sent: sent, at: time.Now(), kind: "cut", b: b})
			return
		}
		p.answers = append(p.answers, probeAnswer{sent: sent, at: time.Now(), kind: a.kind(), b: b})
	})
	return p
}

// firstAckAfter returns the answer time of the first probe sent at or after
// t and acknowledged, if there is one yet.
func (p *probes) firstAckAfter(t time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.answers {
		if !a.sent.Before(t) && is2xx(a.kind) {
			return a.at, true
		}
	}
	return time.Time{}, false
}

// split returns the probes acknowledged and those that were not.
func (p *probes) split() (acked, not []batch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.answers {
		if is2xx(a.kind) {
			acked = append(acked, a.b)
		} else {
			not = append(not, a.b)
		}
	}
	return acked, not
}

// between tallies the answers that came in [from, to), and returns the
// latencies of the refusals among them.
func (p *probes) between(from, to time.Time) (tally, []time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kinds := tally{}
	var refusals []time.Duration
	for _, a := range p.answers {
		if a.at.Before(from) || !a.at.Before(to) || a.kind == "cut" {
			continue
		}
		kinds[a.kind]++
		if !is2xx(a.kind) {
			refusals = append(refusals, a.at.Sub(a.sent))
		}
	}
	return kinds, refusals
}

// reads reads a user through the read API, one request after the other,
// and keeps the answers and the slowest.
type reads struct {
	*watcher
	mu      sync.Mutex
	kinds   tally
	slowest time.Duration
}

func startReads(ctx context.Context, t target, client *http.Client) *reads {
	r := &reads{kinds: tally{}}
	r.watcher = every(ctx, probePeriod, func(ctx context.Context) {
		a := deliverOnce(ctx, client, t.reader("/users/"+userID(0)+"/events?limit=20"))
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.kinds[a.kind()]++
		r.slowest = max(r.slowest, a.latency)
	})
	return r
}

// writeRefusalOK reports whether a write answer is one a full disk may
// give: acknowledged (the readback checks it is durable), or refused with
// 503 storage_unavailable or busy, or 429.
func writeRefusalOK(kind string) bool {
	return is2xx(kind) || kind == "503 storage_unavailable" || kind == "503 busy" || strings.HasPrefix(kind, "429 ")
}

// firstAnswer returns when a probe was first answered with kind.
func (p *probes) firstAnswer(kind string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.answers {
		if a.kind == kind {
			return a.at
		}
	}
	return time.Time{}
}
