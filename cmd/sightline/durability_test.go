package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	senders         = 4
	batchSize       = 50
	users           = 20
	killAfter       = 1500 * time.Millisecond
	shutdownTimeout = 5 * time.Second
)

// TestKillMidStreamKeepsAcknowledged checks the promise behind a 200 from
// /v1/batch: a server killed with SIGKILL while senders are busy has, after
// a restart, every acknowledged message exactly once, answers a resent
// acknowledged batch with duplicates only, and stores the unacknowledged
// batches' retries without doubling what was committed but never answered.
func TestKillMidStreamKeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it for several seconds")
	}
	bin := buildBinary(t)
	data := t.TempDir()

	srv := startServer(t, bin, data)
	var site struct {
		ID       string `json:"id"`
		WriteKey string `json:"write_key"`
	}
	runJSON(t, &site, bin, "site", "create", "durability", "--data", data, "--json")
	var tok struct {
		Token string `json:"token"`
	}
	runJSON(t, &tok, bin, "token", "create", "--site", site.ID, "--scope", "read", "--data", data, "--json")

	l := &load{writeKey: site.WriteKey, base: time.Now().Add(-time.Hour).Truncate(time.Millisecond),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() { l.send(ctx, t, srv.url, w) })
	}
	time.Sleep(killAfter)
	srv.kill(t)
	cancel()
	wg.Wait()
	l.client.CloseIdleConnections()
	if len(l.acked) == 0 {
		t.Fatal("no batch was acknowledged before the kill")
	}

	srv = startServer(t, bin, data)
	r := reader{url: srv.url, site: site.ID, token: tok.Token}
	found := r.messageIDs(t)
	acked := l.ids(l.acked)
	t.Logf("acknowledged %d messages in %d batches; %d batches unacknowledged; found %d after restart",
		len(acked), len(l.acked), len(l.unacked), len(found))
	checkOnce(t, found, acked, l.ids(l.unacked))

	// A client that never got its 200 retries: a batch already answered is
	// all duplicates, and one committed just before the kill must be too.
	for _, b := range []sentBatch{l.acked[0], l.acked[len(l.acked)-1]} {
		if res := l.post(t, srv.url, b); res.Duplicates != len(b.ids) || res.Accepted != 0 {
			t.Errorf("resent acknowledged batch: accepted %d, duplicates %d; want 0, %d",
				res.Accepted, res.Duplicates, len(b.ids))
		}
	}
	retried := 0
	for _, b := range l.unacked {
		res := l.post(t, srv.url, b)
		retried += res.Accepted
		if res.Accepted+res.Duplicates != len(b.ids) {
			t.Errorf("retried batch: accepted %d + duplicates %d, want %d", res.Accepted, res.Duplicates, len(b.ids))
		}
	}
	all := r.messageIDs(t)
	t.Logf("retried %d unacknowledged batches: %d messages new; %d stored in all", len(l.unacked), retried, len(all))
	sent := l.ids(append(l.acked, l.unacked...))
	checkOnce(t, all, sent, nil)
	if len(all) != len(sent) {
		t.Errorf("%d messages stored after the retries; sent %d distinct", len(all), len(sent))
	}

	srv.terminate(t)
}

// checkOnce fails unless every ID of want was found exactly once, and every
// ID found is one of want or maybe.
func checkOnce(t *testing.T, found map[string]int, want, maybe map[string]bool) {
	t.Helper()
	missing, dup, unknown := 0, 0, 0
	for id := range want {
		if found[id] == 0 {
			if missing++; missing <= 5 {
				t.Errorf("message %s is missing", id)
			}
		}
	}
	for id, n := range found {
		if n > 1 {
			if dup++; dup <= 5 {
				t.Errorf("message %s is stored %d times", id, n)
			}
		}
		if !want[id] && !maybe[id] {
			if unknown++; unknown <= 5 {
				t.Errorf("message %s was never sent", id)
			}
		}
	}
	if missing+dup+unknown > 0 {
		t.Errorf("%d missing, %d duplicated, %d unknown", missing, dup, unknown)
	}
}

// load sends batches of track messages, remembering which were
// acknowledged. Every message has its own timestamp: the events API pages
// by timestamp.
type load struct {
	writeKey string
	base     time.Time
	client   *http.Client
	seq      atomic.Int64

	mu      sync.Mutex
	acked   []sentBatch
	unacked []sentBatch // sent but not answered 200: maybe stored, maybe not
}

type sentBatch struct {
	body []byte
	ids  []string
}

type batchResponse struct {
	Accepted   int             `json:"accepted"`
	Duplicates int             `json:"duplicates"`
	Rejected   json.RawMessage `json:"rejected"`
}

func (l *load) send(ctx context.Context, t *testing.T, base string, worker int) {
	for n := 0; ctx.Err() == nil; n++ {
		b := l.batch(t, worker, n)
		res, status, err := l.do(ctx, base, b)
		switch {
		case err == nil && status == http.StatusOK:
			if res.Accepted != len(b.ids) || len(res.Rejected) > 0 {
				t.Errorf("batch %d/%d: accepted %d of %d (duplicates %d, rejected %s)",
					worker, n, res.Accepted, len(b.ids), res.Duplicates, res.Rejected)
			}
			l.record(&l.acked, b)
		case err == nil && status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable:
			t.Errorf("batch %d/%d: status %d", worker, n, status)
			return
		default: // the kill, or back-pressure: the sender would retry
			l.record(&l.unacked, b)
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

func (l *load) record(to *[]sentBatch, b sentBatch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*to = append(*to, b)
}

func (l *load) batch(t *testing.T, worker, n int) sentBatch {
	type track struct {
		Type       string         `json:"type"`
		MessageID  string         `json:"messageId"`
		UserID     string         `json:"userId"`
		Event      string         `json:"event"`
		Timestamp  string         `json:"timestamp"`
		Properties map[string]any `json:"properties"`
	}
	msgs := make([]track, batchSize)
	ids := make([]string, batchSize)
	for i := range msgs {
		seq := l.seq.Add(1)
		ids[i] = fmt.Sprintf("w%d-b%d-m%d", worker, n, i)
		msgs[i] = track{Type: "track", MessageID: ids[i], UserID: fmt.Sprintf("user-%02d", seq%users),
			Event: "Load Tested", Timestamp: l.base.Add(time.Duration(seq) * time.Millisecond).Format(time.RFC3339Nano),
			Properties: map[string]any{"worker": worker, "batch": n, "seq": seq}}
	}
	body, err := json.Marshal(map[string]any{"batch": msgs})
	if err != nil {
		t.Fatal(err)
	}
	return sentBatch{body: body, ids: ids}
}

func (l *load) do(ctx context.Context, base string, b sentBatch) (batchResponse, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/batch", bytes.NewReader(b.body))
	if err != nil {
		return batchResponse{}, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(l.writeKey, "")
	resp, err := l.client.Do(req)
	if err != nil {
		return batchResponse{}, 0, err
	}
	defer resp.Body.Close()
	var res batchResponse
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			return res, 0, fmt.Errorf("read answer: %w", err)
		}
	}
	return res, resp.StatusCode, nil
}

// post sends b once more and wants a 200.
func (l *load) post(t *testing.T, base string, b sentBatch) batchResponse {
	t.Helper()
	res, status, err := l.do(context.Background(), base, b)
	if err != nil || status != http.StatusOK {
		t.Fatalf("resend batch: status %d, %v", status, err)
	}
	return res
}

func (l *load) ids(bs []sentBatch) map[string]bool {
	out := map[string]bool{}
	for _, b := range bs {
		for _, id := range b.ids {
			out[id] = true
		}
	}
	return out
}

// reader reads a site through the read API.
type reader struct {
	url, site, token string
}

// messageIDs pages through every test user's events and counts each
// message ID. It also checks the pages against the user's event count.
func (r reader) messageIDs(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for u := range users {
		user := fmt.Sprintf("user-%02d", u)
		var summary struct {
			Events int `json:"events"`
		}
		if !r.get(t, "/users/"+user, &summary) {
			continue // no acknowledged or stored message of this user
		}
		paged := 0
		for before := ""; ; {
			q := url.Values{"limit": {"1000"}}
			if before != "" {
				q.Set("before", before)
			}
			var page struct {
				Events []struct {
					MessageID string `json:"message_id"`
				} `json:"events"`
				NextBefore string `json:"next_before"`
			}
			r.get(t, "/users/"+user+"/events?"+q.Encode(), &page)
			for _, e := range page.Events {
				out[e.MessageID]++
			}
			paged += len(page.Events)
			if page.NextBefore == "" {
				break
			}
			before = page.NextBefore
		}
		if paged != summary.Events {
			t.Errorf("%s: paged through %d events; the user has %d", user, paged, summary.Events)
		}
	}
	return out
}

// get reads path into v; it reports false on 404.
func (r reader) get(t *testing.T, path string, v any) bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.url+"/api/v1/sites/"+r.site+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return false
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return true
}

// buildBinary builds sightline into a temporary folder. go test puts its own
// go command first on PATH.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "sightline")
	start := time.Now()
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// runJSON runs the CLI and decodes its standard output into v.
func runJSON(t *testing.T, v any, bin string, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sightline %v: %v\n%s", args, err, stderr.Bytes())
	}
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		t.Fatalf("sightline %v: %v in %q", args, err, stdout.Bytes())
	}
}

// server is a running sightline serve process.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{} // closed when the process has exited
	err  error         // from Wait, once done is closed
}

// startServer runs sightline serve on a free port and waits until it is
// healthy. The process is killed when the test ends, and its log shown if
// the test failed.
func startServer(t *testing.T, bin, data string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logPath := filepath.Join(t.TempDir(), "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--metrics-addr", "off", "--data", data, "--log-format", "json",
		"--shutdown-timeout", shutdownTimeout.String())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatal(err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("log of the server on %s:\n%s", addr, log)
		}
	})
	start := time.Now()
	for deadline := start.Add(20 * time.Second); ; {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-s.done:
			t.Fatalf("the server exited before it was healthy: %v", s.err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server was not healthy within 20s: %v", err)
		}
	}
	t.Logf("server healthy on %s after %v", addr, time.Since(start).Round(time.Millisecond))
	return s
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill the server: %v", err)
	}
	<-s.done
}

// terminate sends SIGTERM and wants a clean exit within the shutdown
// timeout.
func (s *server) terminate(t *testing.T) {
	t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal the server: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(shutdownTimeout + 2*time.Second):
		t.Fatalf("the server did not exit within %v of SIGTERM", shutdownTimeout+2*time.Second)
	}
	if s.err != nil {
		t.Fatalf("the server exited with %v after SIGTERM", s.err)
	}
	t.Logf("the server exited 0 %v after SIGTERM", time.Since(start).Round(time.Millisecond))
}
