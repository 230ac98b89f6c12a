package chaos

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// chunkKey names a chunk: browser w's chunk number seq. Each browser
// records one session, continued across the kills.
type chunkKey struct{ w, seq int }

// chunk is one recording chunk as sent; a retry sends the same bytes.
type chunk struct {
	key  chunkKey
	body []byte
	gzip bool
}

// uploads is browsers uploading chunks of their recordings, each retrying
// its chunk until it is acknowledged or the uploads stop.
type uploads struct {
	t      target
	client *http.Client
	nonce  string
	next   []int // each browser's next seq, kept across rounds

	mu        sync.Mutex
	acked     []chunk
	unacked   []chunk
	kinds     tally
	latencies []time.Duration
	dupFirst  int // first uploads answered as duplicates
}

// recordingID and visitorID name browser w's recording and visitor.
func (u *uploads) recordingID(w int) string { return fmt.Sprintf("chaos-%s-w%d", u.nonce, w) }
func (u *uploads) visitorID(w int) string   { return fmt.Sprintf("visitor-%s-w%d", u.nonce, w) }

// run uploads from every browser until ctx ends.
func (u *uploads) run(ctx context.Context, seed uint64) {
	u.acked, u.unacked, u.kinds, u.latencies, u.dupFirst = nil, nil, tally{}, nil, 0
	var wg sync.WaitGroup
	for w := range u.next {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for ctx.Err() == nil {
				c := u.make(rng, w, u.next[w])
				u.next[w]++
				a, goOn := deliverUntil(ctx, u.client, u.t.chunkSender(c), func(a answer) {
					u.mu.Lock()
					defer u.mu.Unlock()
					u.kinds[a.kind()]++
				})
				u.mu.Lock()
				if a.ok() {
					u.acked = append(u.acked, c)
					u.latencies = append(u.latencies, a.latency)
					if duplicateChunk(a) {
						u.dupFirst++
					}
				} else {
					u.unacked = append(u.unacked, c)
				}
				u.mu.Unlock()
				if !goOn {
					return
				}
			}
		})
	}
	wg.Wait()
}

// duplicateChunk reports whether a 2xx answer says the chunk was stored
// before.
func duplicateChunk(a answer) bool {
	var res struct {
		Duplicate bool `json:"duplicate"`
	}
	return json.Unmarshal(a.body, &res) == nil && res.Duplicate
}

// make renders chunk seq of browser w: a custom event naming the chunk
// (what the read-back counts), mouse moves, and on the first chunk the
// page's Meta event. Every other chunk is gzip-compressed.
func (u *uploads) make(rng *rand.Rand, w, seq int) chunk {
	now := time.Now().UnixMilli()
	var events []map[string]any
	if seq == 0 {
		events = append(events, map[string]any{"type": 4, "timestamp": now,
			"data": map[string]any{"href": origin + "/invoices", "width": 1280, "height": 800}})
	}
	events = append(events, map[string]any{"type": 5, "timestamp": now,
		"data": map[string]any{"tag": "chaos", "payload": map[string]int{"w": w, "seq": seq}}})
	for i := range 30 {
		events = append(events, map[string]any{"type": 3, "timestamp": now + int64(i*10), "data": map[string]any{
			"source": 1, "positions": []map[string]int{{"x": rng.IntN(1280), "y": rng.IntN(800), "id": 1 + rng.IntN(50), "timeOffset": 0}}}})
	}
	body, err := json.Marshal(map[string]any{"recording": u.recordingID(w), "anonymousId": u.visitorID(w),
		"seq": seq, "start": now, "end": now + 290, "sentAt": now + 300, "url": origin + "/invoices", "events": events})
	if err != nil {
		panic("BUG: a generated chunk does not encode: " + err.Error())
	}
	c := chunk{key: chunkKey{w, seq}, body: body, gzip: seq%2 == 1}
	if c.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		c.body = buf.Bytes()
	}
	return c
}

// chunkRequest posts c to /t/rec as the recorder does.
func (t target) chunkRequest(ctx context.Context, c chunk) (*http.Request, error) {
	u := t.url + "/t/rec?k=" + url.QueryEscape(t.site.WriteKey)
	if c.gzip {
		u += "&z=gzip"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(c.body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Origin", origin)
	req.Header.Set("User-Agent", browserUA)
	return req, nil
}

// chunkSender returns the maker of c's request.
func (t target) chunkSender(c chunk) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) { return t.chunkRequest(ctx, c) }
}

// readChunks reads every recording of the run's browsers through the read
// API and counts the chunks each holds. hidden counts chunks the index
// lists beyond the distinct ones its events show.
func readChunks(ctx context.Context, t target, client *http.Client, u *uploads) (map[chunkKey]int, int64, error) {
	type rec struct {
		ID          string `json:"id"`
		AnonymousID string `json:"anonymous_id"`
		Chunks      int    `json:"chunks"`
	}
	var recs []rec
	for after := ""; ; {
		q := url.Values{"limit": {"500"}}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Recordings []rec  `json:"recordings"`
			NextAfter  string `json:"next_after"`
		}
		if _, err := t.get(ctx, client, "/recordings?"+q.Encode(), &page); err != nil {
			return nil, 0, err
		}
		recs = append(recs, page.Recordings...)
		if page.NextAfter == "" {
			break
		}
		after = page.NextAfter
	}
	found := map[chunkKey]int{}
	var hidden int64
	for _, r := range recs {
		if !strings.HasPrefix(r.AnonymousID, "visitor-"+u.nonce) {
			continue
		}
		var events []struct {
			Type int `json:"type"`
			Data struct {
				Tag     string               `json:"tag"`
				Payload struct{ W, Seq int } `json:"payload"`
			} `json:"data"`
		}
		if _, err := t.get(ctx, client, "/recordings/"+url.PathEscape(r.ID)+"/events", &events); err != nil {
			return nil, 0, err
		}
		distinct := 0
		for _, e := range events {
			if e.Type == 5 && e.Data.Tag == "chaos" {
				k := chunkKey{e.Data.Payload.W, e.Data.Payload.Seq}
				if found[k] == 0 {
					distinct++
				}
				found[k]++
			}
		}
		hidden += int64(max(r.Chunks-distinct, 0))
	}
	return found, hidden, nil
}

// killRecordings is the kill -9 scenario of recording chunks: Rounds
// times, Senders browsers upload chunks to /t/rec, the server is killed at
// a random moment and restarted on the same data folder. After each
// restart every chunk acknowledged so far must be stored exactly once and
// every chunk acknowledged in the round answered as a duplicate when sent
// again; the chunks never answered are retried.
func killRecordings(ctx context.Context, e *env, row *Row) error {
	data := filepath.Join(e.dir, "data")
	s, err := e.createSite(ctx, data, "chaos recordings")
	if err != nil {
		return err
	}
	srv, _, err := e.start(ctx, data)
	if err != nil {
		return err
	}
	defer func() {
		if srv != nil {
			srv.kill()
		}
	}()
	client := newClient(e.cfg.Senders, e.cfg.Timeout)
	defer client.CloseIdleConnections()
	u := &uploads{t: target{url: srv.url, site: s}, client: client, nonce: fmt.Sprintf("%08x", e.rng.Uint32()),
		next: make([]int, e.cfg.Senders)}

	acked := map[chunkKey]bool{} // acknowledged at some point
	maybe := map[chunkKey]bool{} // sent, never acknowledged
	lost, dup := map[chunkKey]bool{}, map[chunkKey]bool{}
	var hiddenMax int64
	var latencies []time.Duration
	kinds := tally{}
	row.Rounds, row.Acked, row.Duplicated, row.Reposted, row.RepostedDup, row.Recovery = e.cfg.Rounds, 0, 0, 0, 0, 0
	check := func(t target, when string, pending []chunk) error {
		found, hidden, err := readChunks(ctx, t, client, u)
		if err != nil {
			return fmt.Errorf("read back %s: %w", when, err)
		}
		unknown := 0
		for k, n := range found {
			if n > 1 {
				dup[k] = true
			}
			if !acked[k] && !maybe[k] && !slices.ContainsFunc(pending, func(c chunk) bool { return c.key == k }) {
				unknown++
			}
		}
		for k := range acked {
			if found[k] == 0 {
				lost[k] = true
			}
		}
		if unknown > 0 {
			row.fail("%s: %d stored chunks were never sent", when, unknown)
		}
		if hidden > 0 {
			row.fail("%s: recordings list %d chunks more than their events show", when, hidden)
			hiddenMax = max(hiddenMax, hidden)
		}
		e.log.Info("read back", "when", when, "stored", len(found), "acked", len(acked), "lost", len(lost), "duplicated", len(dup))
		return nil
	}

	for round := 1; round <= e.cfg.Rounds; round++ {
		loadCtx, stopLoad := context.WithCancel(ctx)
		done := make(chan struct{})
		seed := e.rng.Uint64()
		go func() { u.run(loadCtx, seed); close(done) }()
		killAt := e.cfg.KillMin + time.Duration(e.rng.Int64N(int64(e.cfg.KillMax-e.cfg.KillMin)+1))
		sleepCtx(ctx, killAt)
		srv.kill()
		stopLoad()
		<-done
		client.CloseIdleConnections()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		row.Acked += int64(len(u.acked))
		latencies = append(latencies, u.latencies...)
		kinds.add(u.kinds)
		for _, c := range u.acked {
			acked[c.key] = true
		}
		if u.dupFirst > 0 {
			row.fail("round %d: %d chunks were answered as duplicates on their first upload", round, u.dupFirst)
		}
		e.log.Info("killed", "round", round, "after", killAt.Round(time.Millisecond),
			"acked_chunks", len(u.acked), "unacked_chunks", len(u.unacked))

		var took time.Duration
		if srv, took, err = e.start(ctx, data); err != nil {
			return fmt.Errorf("restart after kill %d: %w", round, err)
		}
		row.Recovery = max(row.Recovery, took)
		u.t.url = srv.url
		if err := check(u.t, fmt.Sprintf("round %d", round), u.unacked); err != nil {
			return err
		}
		var dups int64
		other := tally{}
		var mu sync.Mutex
		// Sent as the recorder would: a 429 (this address's share of the
		// upload slots is taken by the other senders) is retried after
		// its Retry-After.
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		parallel(len(u.acked), 4, func(i int) {
			a, _ := deliverUntil(rctx, client, u.t.chunkSender(u.acked[i]), func(answer) {})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case a.ok() && duplicateChunk(a):
				dups++
			case a.ok():
				other["200 stored again"]++
			default:
				other[a.kind()]++
			}
		})
		cancel()
		row.Reposted += int64(len(u.acked))
		row.RepostedDup += dups
		if len(other) > 0 {
			row.fail("round %d: acknowledged chunks sent again were answered %s", round, other)
		}
		retried := 0
		for _, c := range u.unacked {
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			a, _ := deliverUntil(rctx, client, u.t.chunkSender(c), func(answer) {})
			cancel()
			if a.ok() {
				acked[c.key] = true
				retried++
			} else {
				maybe[c.key] = true
				row.fail("round %d: unacknowledged chunk %v refused when retried: %s", round, c.key, a.kind())
			}
		}
		row.note("round %d: killed %.1fs into the uploads; %d chunks acked, %d unacked (%d retried fine); back in %.2fs",
			round, killAt.Seconds(), len(u.acked), len(u.unacked), retried, took.Seconds())
	}
	if err := check(u.t, "after the retries", nil); err != nil {
		return err
	}
	row.Lost, row.Duplicated = int64(len(lost)), int64(len(dup))+hiddenMax
	if row.Lost > 0 {
		row.fail("%d acknowledged chunks missing after a kill", row.Lost)
	}
	if len(dup) > 0 {
		row.fail("%d chunks stored more than once", len(dup))
	}
	row.P50, row.P99 = percentile(latencies, 50), percentile(latencies, 99)
	row.note("answers during the uploads: %s", kinds)
	if err := srv.stop(30 * time.Second); err != nil {
		row.fail("%v", err)
	}
	return nil
}
