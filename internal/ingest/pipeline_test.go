package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/store"
)

// gateWriter is a store.Writer that waits for a signal before each write,
// so a test can hold the pipeline busy; it records batch sizes.
type gateWriter struct {
	gate    chan struct{}
	mu      sync.Mutex
	batches []int
	fail    error
}

func (g *gateWriter) Write(_ context.Context, msgs []store.Message) ([]store.Outcome, error) {
	<-g.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	g.batches = append(g.batches, len(msgs))
	if g.fail != nil {
		return nil, g.fail
	}
	out := make([]store.Outcome, len(msgs))
	for i, m := range msgs {
		out[i].Duplicate = m.MessageID == "dup"
	}
	return out, nil
}

func msgs(n int, id string) []store.Message {
	out := make([]store.Message, n)
	for i := range out {
		out[i].MessageID = id
	}
	return out
}

func newTestPipeline(w store.Writer, queue, batch int) *Pipeline {
	p := NewPipeline(w, queue, batch, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	go p.Run()
	return p
}

func TestPipelineGroupsWaitingRequestsAndRoutesOutcomes(t *testing.T) {
	w := &gateWriter{gate: make(chan struct{})}
	p := newTestPipeline(w, 100, 100)
	// The first request occupies the writer; the next three queue up and
	// must then be committed together.
	results := make(chan []store.Outcome, 4)
	submit := func(n int, id string) {
		out, err := p.Submit(context.Background(), msgs(n, id))
		if err != nil {
			t.Error(err)
		}
		results <- out
	}
	go submit(1, "a")
	waitFor(t, func() bool { return p.queued.Load() == 1 })
	go submit(2, "b")
	go submit(3, "dup")
	go submit(4, "c")
	waitFor(t, func() bool { return p.queued.Load() == 10 })
	w.gate <- struct{}{}
	w.gate <- struct{}{}
	got := map[int]int{}
	for range 4 {
		out := <-results
		dups := 0
		for _, o := range out {
			if o.Duplicate {
				dups++
			}
		}
		got[len(out)] = dups
	}
	if got[1] != 0 || got[2] != 0 || got[3] != 3 || got[4] != 0 {
		t.Fatalf("outcomes routed wrongly: %v", got)
	}
	if len(w.batches) != 2 || w.batches[0] != 1 || w.batches[1] != 9 {
		t.Fatalf("batches = %v, want [1 9]", w.batches)
	}
	close(w.gate)
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPipelineOverloadAndStop(t *testing.T) {
	w := &gateWriter{gate: make(chan struct{})}
	p := newTestPipeline(w, 10, 100)
	done := make(chan error, 2)
	go func() { _, err := p.Submit(context.Background(), msgs(6, "a")); done <- err }()
	waitFor(t, func() bool { return p.queued.Load() == 6 })
	if _, err := p.Submit(context.Background(), msgs(5, "b")); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("over the queue bound: %v, want ErrOverloaded", err)
	}
	go func() { _, err := p.Submit(context.Background(), msgs(4, "c")); done <- err }()
	waitFor(t, func() bool { return p.queued.Load() == 10 })
	// Stop must still commit what was queued before it.
	stopped := make(chan error)
	go func() { stopped <- p.Stop(context.Background()) }()
	close(w.gate)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("queued request failed: %v", err)
		}
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, err := p.Submit(context.Background(), msgs(1, "d")); !errors.Is(err, ErrStopped) {
		t.Fatalf("after stop: %v, want ErrStopped", err)
	}
}

func TestPipelineReportsWriteFailureToEveryRequest(t *testing.T) {
	w := &gateWriter{gate: make(chan struct{}), fail: errors.New("disk full")}
	close(w.gate)
	p := newTestPipeline(w, 100, 100)
	defer p.Stop(context.Background())
	if _, err := p.Submit(context.Background(), msgs(3, "a")); err == nil || err.Error() != "disk full" {
		t.Fatalf("err = %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
