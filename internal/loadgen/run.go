package loadgen

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrWriteKeyRefused is returned when the server answers 401 or 403: every
// later request would fail the same way, so the run stops at once.
var ErrWriteKeyRefused = errors.New("server refused the write key")

// runner is the state of one run shared by its workers.
type runner struct {
	cfg       Config
	endpoints []string     // posted to in turn
	next      atomic.Int64 // the requests sent, which pick the endpoint
	auth      string
	http      *loopbackClient
	log       *slog.Logger
	warmupEnd time.Time
	stop      chan struct{} // closed when the measured window ends
	started   atomic.Int64  // requests started, for MaxRequests
	abort     context.CancelCauseFunc

	logMu  sync.Mutex
	logged map[int]bool // statuses already logged once
}

// Run renders the request bodies, then sends batches from cfg.Concurrency
// workers until cfg.Warmup plus cfg.Duration have passed, cfg.MaxRequests
// have been sent, or ctx is done, and reports what was acknowledged after
// the warmup. Requests still in flight when the window closes are let finish
// (within cfg.Timeout) but not counted.
//
// It returns an error, with the figures so far, if the server refuses the
// write key (ErrWriteKeyRefused).
func Run(ctx context.Context, cfg Config, log *slog.Logger) (*Result, error) {
	endpoints, err := cfg.endpoints()
	if err != nil {
		return nil, fmt.Errorf("check config: %w", err)
	}
	cpu0 := processCPU()
	t0 := time.Now()
	workers, bodyBytes, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	pregen := time.Since(t0)
	meanBody := bodyBytes / (cfg.Concurrency * cfg.Bodies)
	if meanBody > segmentBatchLimit {
		log.Warn("request bodies are larger than Segment's 500 KB batch limit; the server may refuse them", "mean_bytes", meanBody)
	}
	log.Info("bodies rendered", "bodies", cfg.Concurrency*cfg.Bodies, "mean_bytes", meanBody, "took", pregen.Round(time.Millisecond))

	runCtx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	client := newLoopbackClient(cfg)
	defer client.transport.CloseIdleConnections()
	r := &runner{
		cfg:       cfg,
		endpoints: endpoints,
		auth:      "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.WriteKey+":")),
		http:      client,
		log:       log,
		warmupEnd: time.Now().Add(cfg.Warmup),
		stop:      make(chan struct{}),
		abort:     abort,
		logged:    map[int]bool{},
	}

	stats := make([]workerStats, cfg.Concurrency)
	var wg sync.WaitGroup
	for i, w := range workers {
		stats[i].errors = map[string]int64{}
		wg.Go(func() { r.work(runCtx, w, &stats[i]) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// The measured window runs from warmupEnd until Duration has passed,
	// the workers are all done or the run is stopped.
	measuring := r.wait(runCtx, done, cfg.Warmup)
	cpuStart := processCPU()
	if measuring {
		log.Info("warmup over, measuring", "duration", cfg.Duration)
		r.wait(runCtx, done, cfg.Duration)
	}
	close(r.stop)
	windowEnd, cpuEnd := time.Now(), processCPU()
	<-done

	window := time.Duration(0)
	if measuring {
		window = windowEnd.Sub(r.warmupEnd)
	}
	res := summarize(cfg, strings.Join(endpoints, ","), stats, window)
	res.Connections = client.dials.Load()
	res.Interrupted = ctx.Err() != nil
	res.MeanBodyBytes = meanBody
	res.PregenSeconds = pregen.Seconds()
	res.CPU = cpuUsage(cpuStart, cpuEnd, window, res.EventsAcked)
	res.CPUTotal = cpuUsage(cpu0, cpuEnd, windowEnd.Sub(t0), 0)
	if cause := context.Cause(runCtx); ctx.Err() == nil && errors.Is(cause, ErrWriteKeyRefused) {
		return res, cause
	}
	return res, nil
}

// workerBodies is what one worker sends from.
type workerBodies struct {
	bodies  []*pending
	stamper *Stamper
}

// prepare renders every worker's bodies and returns them with their total
// size.
func prepare(cfg Config) ([]workerBodies, int, error) {
	nonce := rand.Uint64() // unique per run, so IDs never repeat across runs
	workers := make([]workerBodies, cfg.Concurrency)
	total := 0
	for i := range workers {
		seed := cfg.Seed*1_000_003 + uint64(i)
		g := NewGenerator(cfg.Mix, seed)
		w := workerBodies{stamper: NewStamper(cfg.Mix, nonce, i, seed)}
		for range cfg.Bodies {
			b, err := g.Body()
			if err != nil {
				return nil, 0, fmt.Errorf("render bodies for worker %d: %w", i, err)
			}
			total += len(b.Bytes())
			w.bodies = append(w.bodies, &pending{body: b})
		}
		workers[i] = w
	}
	return workers, total, nil
}

// wait waits for d and reports whether it passed before ctx or done ended
// the run.
func (r *runner) wait(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
	case <-ctx.Done():
	}
	return false
}

// stopped reports whether the measured window has ended.
func (r *runner) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// take claims the right to send one more request.
func (r *runner) take() bool {
	n := r.started.Add(1)
	return r.cfg.MaxRequests <= 0 || n <= r.cfg.MaxRequests
}

// Backoff when the server asks for a retry without saying when.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
	// minRetryAfter keeps a server answering "Retry-After: 0" from being
	// hammered in a tight loop.
	minRetryAfter = 10 * time.Millisecond
)

// work sends one worker's bodies in turn until the window ends. A batch the
// server could not take (429, 5xx, a broken connection) is sent again,
// unchanged, after Retry-After or a growing backoff, as Segment's libraries
// do; the server should drop the duplicates by messageId.
func (r *runner) work(ctx context.Context, w workerBodies, s *workerStats) {
	backoff := time.Duration(0)
	for i := 0; ; i++ {
		p := w.bodies[i%len(w.bodies)]
		p.waitIdle()
		w.stamper.Stamp(p.body, time.Now())
		for attempt := 0; ; attempt++ {
			if r.stopped() || ctx.Err() != nil || !r.take() {
				return
			}
			out := r.send(ctx, p)
			r.record(ctx, s, p.body, out, attempt > 0)
			if ctx.Err() != nil {
				return
			}
			if out.status == 401 || out.status == 403 {
				r.abort(fmt.Errorf("%w: %d %s", ErrWriteKeyRefused, out.status, out.snippet))
				return
			}
			r.logOnce(out)
			if !out.retryable() {
				backoff = 0
				break
			}
			wait := out.retryAfter
			if wait < 0 {
				backoff = min(max(2*backoff, minBackoff), maxBackoff)
				wait = backoff
			}
			wait = max(wait, minRetryAfter)
			if !r.sleep(ctx, wait, s) {
				return
			}
		}
	}
}

// sleep waits d, counting it as backoff if the window is open, and reports
// whether the run goes on.
func (r *runner) sleep(ctx context.Context, d time.Duration, s *workerStats) bool {
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	var ok bool
	select {
	case <-t.C:
		ok = true
	case <-r.stop:
	case <-ctx.Done():
	}
	if !start.Before(r.warmupEnd) {
		s.backoff += time.Since(start)
	}
	return ok
}

// record adds the outcome of one request to s, if it ended inside the
// measured window.
func (r *runner) record(ctx context.Context, s *workerStats, b *Body, out outcome, retry bool) {
	if out.err == nil && out.status >= 200 && out.status < 300 {
		s.allEvents += int64(b.Messages())
	}
	switch {
	case out.end.Before(r.warmupEnd):
		s.warmup++
		return
	case r.stopped() || ctx.Err() != nil:
		s.late++
		return
	}
	s.requests++
	if out.err == nil {
		s.bytes += int64(len(b.Bytes()))
	}
	if retry {
		s.retries++
	}
	switch {
	case out.err != nil:
		s.errors["transport"]++
	case out.status >= 200 && out.status < 300:
		s.acked++
		s.events += int64(b.Messages())
		s.latencies = append(s.latencies, out.latency)
		if !out.confirmed {
			s.unconfirmed++
		}
	default:
		s.errors[fmt.Sprint(out.status)]++
		if out.status == 429 || out.status == 503 {
			s.throttled++
		}
	}
}

// logOnce logs the first failure of each kind, with what the server said,
// so that a wiring mistake shows at once without flooding the log.
func (r *runner) logOnce(out outcome) {
	if out.err == nil && out.status < 300 {
		return
	}
	r.logMu.Lock()
	first := !r.logged[out.status]
	r.logged[out.status] = true
	r.logMu.Unlock()
	if !first {
		return
	}
	if out.err != nil {
		r.log.Warn("request failed (first of its kind)", "err", out.err)
		return
	}
	r.log.Warn("server refused a batch (first of its kind)", "status", out.status, "retry_after", out.retryAfter, "body", out.snippet)
}
