package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Figures of the read-wait scenario.
const (
	// readWarmup is the write load before reads are measured.
	readWarmup = 2 * time.Second
	// readers read at once, one request after the other.
	readers = 4
)

// readWait hammers a server with batches from Senders senders and, for
// ReadWindow, reads users and their events through the read API, which
// waits until what was acknowledged before is applied. Every read must
// answer (200, 404 for a user not seen yet, or 503 store_lagging when
// the wait is cut short), none may hang, and their p99 must stay within
// ReadBound.
func readWait(ctx context.Context, e *env, row *Row) error {
	data := filepath.Join(e.dir, "data")
	s, err := e.createSite(ctx, data, "chaos reads")
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
	client := newClient(e.cfg.Senders, e.cfg.Timeout)
	defer client.CloseIdleConnections()
	l := newLoad(t, client, e.cfg, fmt.Sprintf("%08x", e.rng.Uint32()), e.rng.Uint64())
	loadCtx, stopLoad := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.run(loadCtx, e.cfg.Senders); close(done) }()
	defer func() { stopLoad(); <-done }()
	if !sleepCtx(ctx, readWarmup) {
		return ctx.Err()
	}

	reads := newClient(readers, e.cfg.Timeout)
	defer reads.CloseIdleConnections()
	kinds := tally{}
	var latencies []time.Duration
	var mu sync.Mutex
	start := time.Now()
	var wg sync.WaitGroup
	for r := range readers {
		rng := rand.New(rand.NewPCG(e.rng.Uint64(), uint64(r)))
		wg.Go(func() {
			for i := 0; time.Since(start) < e.cfg.ReadWindow && ctx.Err() == nil; i++ {
				path := "/users/" + userID(rng.IntN(e.cfg.Users))
				if i%2 == 1 {
					path += "/events?limit=20"
				}
				a := deliverOnce(ctx, reads, t.reader(path))
				mu.Lock()
				kinds[a.kind()]++
				latencies = append(latencies, a.latency)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	window := time.Since(start)
	stopLoad()
	<-done
	l.mu.Lock()
	acked, writes := messageCount(l.acked), l.kinds
	l.mu.Unlock()

	row.Acked = acked
	row.P50, row.P99 = percentile(latencies, 50), percentile(latencies, 99)
	row.note("%d reads by %d readers in %.0fs under %d senders' batches; max %s; answers %s",
		len(latencies), readers, window.Seconds(), e.cfg.Senders, millis(percentile(latencies, 100)), kinds)
	row.note("write load: %d messages acknowledged (%.0f/s); answers %s",
		acked, float64(acked)/(window+readWarmup).Seconds(), writes)
	if bad := kinds.count(func(k string) bool {
		return k != "200" && k != "404 not_found" && k != "503 store_lagging"
	}); bad > 0 {
		row.fail("%d reads answered other than 200, 404 or 503 store_lagging", bad)
	}
	if hangs := kinds["timeout"]; hangs > 0 {
		row.fail("%d reads hung past %v", hangs, e.cfg.Timeout)
	}
	if row.P99 > e.cfg.ReadBound {
		row.fail("the reads' p99 is %s; the bound is %s", millis(row.P99), millis(e.cfg.ReadBound))
	}
	if n := writes.count(func(k string) bool {
		return !is2xx(k) && !strings.HasPrefix(k, "429 ") && !strings.HasPrefix(k, "503 ")
	}); n > 0 {
		row.fail("%d writes answered other than 2xx, 429 or 503", n)
	}
	if err := srv.stop(30 * time.Second); err != nil {
		row.fail("%v", err)
	}
	return nil
}

// reader returns the maker of a GET of path in the site's read API.
func (t target) reader(path string) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url+"/api/v1/sites/"+t.site.ID+path, nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+t.site.Token)
		}
		return req, err
	}
}
