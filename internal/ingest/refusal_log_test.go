package ingest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/store"
)

type oneSite struct{}

func (oneSite) SiteByWriteKey(_ context.Context, key string) (store.Site, error) {
	if key != "wk_test" {
		return store.Site{}, store.ErrNotFound
	}
	return store.Site{ID: 1}, nil
}

// lockedBuffer is a log sink safe for the pipeline's goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

// TestRefusedRequestLogsOnce sends a request whose commit fails and wants
// one log line for it, not one from the pipeline and another from the
// handler.
func TestRefusedRequestLogsOnce(t *testing.T) {
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	w := &gateWriter{gate: make(chan struct{}), fail: errors.New("disk on fire")}
	close(w.gate)
	metrics := NewMetrics(prometheus.NewRegistry())
	p := NewPipeline(w, 100, 100, metrics, log)
	go p.Run()
	defer p.Stop(context.Background())
	h := NewHandler(Config{Sites: oneSite{}, Pipeline: p, Limits: DefaultLimits(), UA: enrich.NewUAParser(),
		Metrics: metrics, Log: log})
	mux := http.NewServeMux()
	h.Register(mux)

	req := httptest.NewRequest("POST", "/v1/track", strings.NewReader(`{"userId":"u","event":"e"}`))
	req.SetBasicAuth("wk_test", "")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "storage_unavailable") {
		t.Fatalf("answer %d %s", rec.Code, rec.Body)
	}
	if lines := logs.lines(); len(lines) != 1 || !strings.Contains(lines[0], "disk on fire") {
		t.Fatalf("log lines for one refused request: %q", lines)
	}
}
