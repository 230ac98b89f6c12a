package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// batch is one batch request as sent: the same body is sent again on a
// retry, as Segment's libraries and the tracker do.
type batch struct {
	browser bool // /t/batch as the tracker posts it, else /v1/batch
	body    []byte
	ids     []string
}

// batchAnswer is the body of a 2xx answer to a batch.
type batchAnswer struct {
	Accepted   int               `json:"accepted"`
	Duplicates int               `json:"duplicates"`
	Rejected   []json.RawMessage `json:"rejected"`
}

// load is senders posting batches of unique messages, each retrying its
// batch until it is acknowledged or the load stops, and what came of it.
type load struct {
	t      target
	client *http.Client
	batch  int
	users  int
	prefix string // makes message IDs unique across loads and runs
	seed   uint64
	// pause, when set, is slept between a sender's batches.
	pause time.Duration

	mu        sync.Mutex
	acked     []batch // answered 2xx
	unacked   []batch // sent, never answered 2xx: maybe stored, maybe not
	kinds     tally   // every answer, retries included
	latencies []time.Duration
	partial   int // 2xx answers that did not accept every message as new
	hangs     int
	answers   []answerAt // every answer, in order, when keep is set
	keep      bool
}

// answerAt is an answer and when it came.
type answerAt struct {
	at      time.Time
	kind    string
	latency time.Duration
}

func newLoad(t target, client *http.Client, cfg Config, prefix string, seed uint64) *load {
	return &load{t: t, client: client, batch: cfg.Batch, users: cfg.Users, prefix: prefix, seed: seed, kinds: tally{}}
}

// run starts senders senders, half posting to /v1/batch and half to
// /t/batch, and returns once ctx is done and every sender has stopped.
func (l *load) run(ctx context.Context, senders int) {
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() { l.send(ctx, w) })
	}
	wg.Wait()
}

// Backoff of a sender the server asked to retry without saying when.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

func (l *load) send(ctx context.Context, w int) {
	rng := rand.New(rand.NewPCG(l.seed, uint64(w)))
	for n := 0; ctx.Err() == nil; n++ {
		b := l.make(rng, w, n)
		if !l.deliver(ctx, b) {
			l.record(&l.unacked, b)
			return
		}
		if l.pause > 0 && !sleepCtx(ctx, l.pause) {
			return
		}
	}
}

// deliver sends b until it is acknowledged, refused for good, or ctx ends;
// it reports whether the sender goes on.
func (l *load) deliver(ctx context.Context, b batch) bool {
	a, goOn := deliverUntil(ctx, l.client, l.t.batchSender(b), func(a answer) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.kinds[a.kind()]++
		if a.timedOut() {
			l.hangs++
		}
		if l.keep {
			l.answers = append(l.answers, answerAt{at: time.Now(), kind: a.kind(), latency: a.latency})
		}
	})
	switch {
	case a.ok():
		var res batchAnswer
		l.mu.Lock()
		if json.Unmarshal(a.body, &res) != nil || res.Accepted != len(b.ids) || len(res.Rejected) > 0 {
			l.partial++
		}
		l.acked = append(l.acked, b)
		l.latencies = append(l.latencies, a.latency)
		l.mu.Unlock()
	case goOn: // refused for good
		l.record(&l.unacked, b)
	}
	return goOn
}

// deliverUntil sends the request mk makes until it is acknowledged,
// refused for good (a 4xx other than 429), or ctx ends, waiting
// Retry-After or a growing backoff between tries, as Segment's libraries
// and the tracker do. It calls seen with every answer the server gave,
// and returns the last answer and whether the sender goes on (false once
// ctx has ended).
func deliverUntil(ctx context.Context, client *http.Client, mk func(context.Context) (*http.Request, error),
	seen func(answer)) (answer, bool) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		req, err := mk(ctx)
		if err != nil {
			return answer{err: err}, false
		}
		a := do(client, req)
		if ctx.Err() != nil && !a.ok() {
			return a, false // cut by the end of the load, not by the server
		}
		seen(a)
		if a.ok() || !a.retryable() {
			return a, true
		}
		wait := a.retryAfter
		if wait == 0 {
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			wait = backoff
		}
		if !sleepCtx(ctx, wait) {
			return a, false
		}
	}
	return answer{err: ctx.Err()}, false
}

func (l *load) record(to *[]batch, b batch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*to = append(*to, b)
}

// Events and pages the generated messages are drawn from.
var (
	eventNames = []string{"Invoice Created", "Invoice Sent", "Report Exported", "Payment Received", "Client Added", "Search"}
	pagePaths  = []string{"/", "/invoices", "/invoices/new", "/clients", "/reports", "/settings/billing"}
)

// make renders batch n of sender w: track and page messages of random
// users, every one with its own messageId.
func (l *load) make(rng *rand.Rand, w, n int) batch {
	type page struct {
		Path string `json:"path"`
		URL  string `json:"url"`
	}
	type message struct {
		Type        string         `json:"type"`
		MessageID   string         `json:"messageId"`
		UserID      string         `json:"userId"`
		AnonymousID string         `json:"anonymousId"`
		Event       string         `json:"event,omitempty"`
		Name        string         `json:"name,omitempty"`
		Timestamp   string         `json:"timestamp"`
		Properties  map[string]any `json:"properties"`
		Context     map[string]any `json:"context,omitempty"`
	}
	b := batch{browser: w%2 == 1, ids: make([]string, l.batch)}
	now := time.Now().UTC()
	msgs := make([]message, l.batch)
	for i := range msgs {
		u := rng.IntN(l.users)
		path := pagePaths[rng.IntN(len(pagePaths))]
		m := message{MessageID: fmt.Sprintf("%s-w%d-b%d-m%d", l.prefix, w, n, i), UserID: userID(u),
			AnonymousID: fmt.Sprintf("anon-%04d", u), Timestamp: now.Format(time.RFC3339Nano)}
		if rng.IntN(10) < 3 {
			m.Type, m.Name = "page", path
			m.Properties = map[string]any{"path": path, "url": origin + path, "title": "Ledger " + path}
		} else {
			m.Type, m.Event = "track", eventNames[rng.IntN(len(eventNames))]
			m.Properties = map[string]any{"amount": rng.IntN(5000), "currency": "EUR", "sender": w, "batch": n}
		}
		if !b.browser {
			m.Context = map[string]any{"userAgent": browserUA, "page": page{Path: path, URL: origin + path},
				"library": map[string]string{"name": "analytics-go", "version": "3.3.0"}}
		}
		msgs[i], b.ids[i] = m, m.MessageID
	}
	body, err := json.Marshal(map[string]any{"batch": msgs, "sentAt": now.Format(time.RFC3339Nano)})
	if err != nil {
		panic("BUG: a generated batch does not encode: " + err.Error())
	}
	b.body = body
	return b
}

// userID names user number u.
func userID(u int) string { return fmt.Sprintf("u_%03d", u) }

// messageCount returns the messages in bs.
func messageCount(bs []batch) int64 {
	var n int64
	for _, b := range bs {
		n += int64(len(b.ids))
	}
	return n
}

// repost sends every batch of bs once more, acknowledged before, and
// returns how many were answered as duplicates only, and a tally of the
// other answers.
func repost(ctx context.Context, t target, client *http.Client, bs []batch) (dup int64, other tally) {
	other = tally{}
	var mu sync.Mutex
	parallel(len(bs), 4, func(i int) {
		b := bs[i]
		a := deliverOnce(ctx, client, t.batchSender(b))
		var res batchAnswer
		isDup := a.ok() && json.Unmarshal(a.body, &res) == nil && res.Accepted == 0 && res.Duplicates == len(b.ids)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case isDup:
			dup++
		case a.ok():
			other[fmt.Sprintf("%s accepted %d of %d again", a.kind(), res.Accepted, len(b.ids))]++
		default:
			other[a.kind()]++
		}
	})
	return dup, other
}

// retryUnacked sends every batch of bs until it is acknowledged, a few
// times at most, as a client that never heard back would; it returns the
// batches acknowledged and those that were not.
func retryUnacked(ctx context.Context, t target, client *http.Client, bs []batch) (acked, not []batch) {
	var mu sync.Mutex
	parallel(len(bs), 4, func(i int) {
		ok := false
		for attempt := 0; attempt < 5 && !ok && ctx.Err() == nil; attempt++ {
			a := deliverOnce(ctx, client, t.batchSender(bs[i]))
			ok = a.ok()
			if !ok && !a.retryable() {
				break
			}
			if !ok {
				sleepCtx(ctx, max(a.retryAfter, 200*time.Millisecond))
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if ok {
			acked = append(acked, bs[i])
		} else {
			not = append(not, bs[i])
		}
	})
	return acked, not
}

// deliverOnce sends the request mk makes once.
func deliverOnce(ctx context.Context, client *http.Client, mk func(context.Context) (*http.Request, error)) answer {
	req, err := mk(ctx)
	if err != nil {
		return answer{err: err}
	}
	return do(client, req)
}

// batchSender returns the maker of b's request.
func (t target) batchSender(b batch) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) { return t.batchRequest(ctx, b.browser, b.body) }
}

// parallel calls fn(0) … fn(n-1) from workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
