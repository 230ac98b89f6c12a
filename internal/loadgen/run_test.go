package loadgen_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/loadgen"
)

const testKey = "wk_test"

// received is one request the fake server took.
type received struct {
	at  time.Time
	ids []string
}

// segmentServer is a stand-in that only checks what the load generator
// sends: Basic auth with the write key, a JSON body that is a valid Segment
// batch. answer decides the reply to the n-th request (from 0).
type segmentServer struct {
	t      *testing.T
	answer func(n int, w http.ResponseWriter)

	mu   sync.Mutex
	reqs []received
}

func newSegmentServer(t *testing.T, answer func(n int, w http.ResponseWriter)) (*segmentServer, string) {
	t.Helper()
	s := &segmentServer{t: t, answer: answer}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *segmentServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/v1/batch":
		s.t.Errorf("request %s %s, want POST /v1/batch", r.Method, r.URL.Path)
	case !ok || user != testKey || pass != "":
		s.t.Errorf("basic auth = %q:%q (%v), want %q with an empty password", user, pass, ok, testKey)
	case r.Header.Get("Content-Type") != "application/json":
		s.t.Errorf("content type %q", r.Header.Get("Content-Type"))
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client gave up, as it does when a run is cancelled
	}
	if r.ContentLength != int64(len(data)) {
		s.t.Errorf("content length %d, body %d bytes", r.ContentLength, len(data))
	}
	b, err := decodeBatch(data)
	if err != nil {
		s.t.Errorf("invalid batch: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := received{at: time.Now()}
	for _, m := range b.Batch {
		rec.ids = append(rec.ids, m.MessageID)
	}
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, rec)
	s.mu.Unlock()
	s.answer(n, w)
}

func (s *segmentServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

func ok(_ int, w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"success":true}`)
}

func testConfig(url string) loadgen.Config {
	cfg := loadgen.DefaultConfig()
	cfg.URL = url
	cfg.WriteKey = testKey
	cfg.Warmup = 0
	cfg.Duration = 10 * time.Second
	cfg.Concurrency = 2
	cfg.Bodies = 3
	cfg.Mix.Batch = 10
	cfg.Timeout = 5 * time.Second
	return cfg
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestRunCountsAcknowledgedEvents(t *testing.T) {
	srv, url := newSegmentServer(t, ok)
	cfg := testConfig(url)
	cfg.MaxRequests = 20

	res, err := loadgen.Run(t.Context(), cfg, quiet())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := srv.received()
	if len(got) != 20 {
		t.Fatalf("server got %d requests, want 20", len(got))
	}
	ids := map[string]bool{}
	for _, r := range got {
		for _, id := range r.ids {
			if ids[id] {
				t.Fatalf("messageId %s sent twice", id)
			}
			ids[id] = true
		}
	}
	if res.Requests != 20 || res.RequestsAcked != 20 || res.EventsAcked != 200 {
		t.Errorf("requests %d, acked %d, events %d; want 20, 20, 200", res.Requests, res.RequestsAcked, res.EventsAcked)
	}
	if len(res.Errors) != 0 || res.Throttled != 0 || res.Retries != 0 || res.Unconfirmed != 0 {
		t.Errorf("errors %v, throttled %d, retries %d, unconfirmed %d; want none", res.Errors, res.Throttled, res.Retries, res.Unconfirmed)
	}
	if res.Connections < 1 || res.Connections > 2 {
		t.Errorf("%d connections opened, want 1 or 2 (keep-alive)", res.Connections)
	}
	if res.Measured <= 0 || res.Measured >= 10 {
		t.Errorf("measured %.3fs: the run should end when MaxRequests is reached", res.Measured)
	}
	if want := 200 / res.Measured; res.EventsPerSecond < want*0.999 || res.EventsPerSecond > want*1.001 {
		t.Errorf("events/s = %f, want %f", res.EventsPerSecond, want)
	}
	l := res.Latency
	if !(l.P50 > 0 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("latency quantiles out of order: %+v", l)
	}
	if want := 20 * float64(res.MeanBodyBytes); float64(res.BytesSent) < want*0.8 || float64(res.BytesSent) > want*1.2 {
		t.Errorf("bytes sent %d, want about %.0f", res.BytesSent, want)
	}
}

func TestRunHonoursRetryAfter(t *testing.T) {
	srv, url := newSegmentServer(t, func(n int, w http.ResponseWriter) {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"overloaded"}`, http.StatusTooManyRequests)
			return
		}
		ok(n, w)
	})
	cfg := testConfig(url)
	cfg.Concurrency = 1
	cfg.MaxRequests = 4
	cfg.Mix.Batch = 5

	res, err := loadgen.Run(t.Context(), cfg, quiet())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Requests != 4 || res.RequestsAcked != 3 || res.EventsAcked != 15 {
		t.Errorf("requests %d, acked %d, events %d; want 4, 3, 15", res.Requests, res.RequestsAcked, res.EventsAcked)
	}
	if res.Throttled != 1 || res.Retries != 1 || res.Errors["429"] != 1 || len(res.Errors) != 1 {
		t.Errorf("throttled %d, retries %d, errors %v; want 1, 1, map[429:1]", res.Throttled, res.Retries, res.Errors)
	}
	if res.Backoff < 0.9 {
		t.Errorf("backoff %.3fs, want about 1s", res.Backoff)
	}
	got := srv.received()
	if len(got) != 4 {
		t.Fatalf("server got %d requests, want 4", len(got))
	}
	if !slices.Equal(got[0].ids, got[1].ids) {
		t.Errorf("the retry sent other messages: %v then %v", got[0].ids, got[1].ids)
	}
	if slices.Equal(got[1].ids, got[2].ids) {
		t.Errorf("the batch after the retry repeats its message IDs")
	}
	if gap := got[1].at.Sub(got[0].at); gap < 950*time.Millisecond {
		t.Errorf("retried after %v, want Retry-After's 1s", gap)
	}
}

func TestRunBacksOffWithoutRetryAfter(t *testing.T) {
	_, url := newSegmentServer(t, func(n int, w http.ResponseWriter) {
		if n < 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		ok(n, w)
	})
	cfg := testConfig(url)
	cfg.Concurrency = 1
	cfg.MaxRequests = 3

	res, err := loadgen.Run(t.Context(), cfg, quiet())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Errors["503"] != 2 || res.Throttled != 2 || res.Retries != 2 || res.RequestsAcked != 1 {
		t.Errorf("errors %v, throttled %d, retries %d, acked %d; want 503:2, 2, 2, 1", res.Errors, res.Throttled, res.Retries, res.RequestsAcked)
	}
	// 100ms, then 200ms.
	if res.Backoff < 0.29 || res.Backoff > 2 {
		t.Errorf("backoff %.3fs, want about 0.3s", res.Backoff)
	}
}

func TestRunCountsRefusedBatchesWithoutRetrying(t *testing.T) {
	_, url := newSegmentServer(t, func(_ int, w http.ResponseWriter) {
		http.Error(w, `{"error":"bad batch"}`, http.StatusBadRequest)
	})
	cfg := testConfig(url)
	cfg.MaxRequests = 5

	res, err := loadgen.Run(t.Context(), cfg, quiet())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Requests != 5 || res.Errors["400"] != 5 || res.RequestsAcked != 0 || res.EventsAcked != 0 || res.Retries != 0 {
		t.Errorf("requests %d, errors %v, acked %d, events %d, retries %d; want 5, 400:5, 0, 0, 0",
			res.Requests, res.Errors, res.RequestsAcked, res.EventsAcked, res.Retries)
	}
	if res.EventsPerSecond != 0 || res.Latency.Max != 0 {
		t.Errorf("refused requests counted: %.1f events/s, latency %+v", res.EventsPerSecond, res.Latency)
	}
}

func TestRunCountsUnconfirmedAcks(t *testing.T) {
	_, url := newSegmentServer(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusOK) })
	cfg := testConfig(url)
	cfg.MaxRequests = 3
	res, err := loadgen.Run(t.Context(), cfg, quiet())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.RequestsAcked != 3 || res.Unconfirmed != 3 {
		t.Errorf("acked %d, unconfirmed %d; want 3, 3", res.RequestsAcked, res.Unconfirmed)
	}
}

func TestRunStopsWhenTheKeyIsRefused(t *testing.T) {
	_, url := newSegmentServer(t, func(_ int, w http.ResponseWriter) {
		http.Error(w, `{"error":"unknown write key"}`, http.StatusUnauthorized)
	})
	cfg := testConfig(url)
	cfg.Warmup = time.Second // a refusal stops the run even in the warmup
	start := time.Now()
	res, err := loadgen.Run(t.Context(), cfg, quiet())
	if !errors.Is(err, loadgen.ErrWriteKeyRefused) {
		t.Fatalf("Run error = %v, want ErrWriteKeyRefused", err)
	}
	if res == nil {
		t.Fatal("no result with the error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("run took %v after the key was refused", d)
	}
}

func TestRunMeasuresOnlyAfterWarmup(t *testing.T) {
	srv, url := newSegmentServer(t, func(n int, w http.ResponseWriter) {
		time.Sleep(5 * time.Millisecond)
		ok(n, w)
	})
	cfg := testConfig(url)
	cfg.Warmup = 200 * time.Millisecond
	cfg.Duration = 300 * time.Millisecond

	start := time.Now()
	res, err := loadgen.Run(t.Context(), cfg, quiet())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("run took %v, want about 0.5s", d)
	}
	if res.WarmupRequests == 0 || res.Requests == 0 {
		t.Errorf("%d warmup and %d measured requests, want some of each", res.WarmupRequests, res.Requests)
	}
	if res.Measured < 0.29 || res.Measured > 0.5 {
		t.Errorf("measured %.3fs, want 0.3s", res.Measured)
	}
	if total := res.WarmupRequests + res.Requests + res.LateRequests; total != int64(len(srv.received())) {
		t.Errorf("warmup+measured+late = %d, server got %d", total, len(srv.received()))
	}
	stored := 0
	for _, r := range srv.received() {
		stored += len(r.ids)
	}
	if res.AllEventsAcked != int64(stored) {
		t.Errorf("all events acknowledged = %d, server took %d", res.AllEventsAcked, stored)
	}
	if want := float64(res.EventsAcked) / res.Measured; res.EventsPerSecond != want {
		t.Errorf("events/s = %f, want %f", res.EventsPerSecond, want)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	_, url := newSegmentServer(t, ok)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	res, err := loadgen.Run(ctx, testConfig(url), quiet())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Interrupted || res.Measured > 1 {
		t.Errorf("interrupted %v after %.3fs, want true after 0.3s", res.Interrupted, res.Measured)
	}
}

func TestRunRefusesBadTargets(t *testing.T) {
	tests := []struct {
		url      string
		loopback bool // whether the error is ErrNotLoopback
	}{
		{"http://10.1.2.3:8080", true},
		{"http://192.168.1.10", true},
		{"http://example.com", true},
		{"http://[2001:db8::1]:80", true},
		{"ftp://127.0.0.1/", false},
		{"http://wk_x@127.0.0.1:80", false},
		{"://", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg := testConfig(tt.url)
			_, err := loadgen.Run(t.Context(), cfg, quiet())
			if err == nil {
				t.Fatal("Run accepted the target")
			}
			if errors.Is(err, loadgen.ErrNotLoopback) != tt.loopback {
				t.Errorf("error %v: ErrNotLoopback = %v, want %v", err, !tt.loopback, tt.loopback)
			}
		})
	}
}
