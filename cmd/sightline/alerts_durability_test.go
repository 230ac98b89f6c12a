package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/testsvc"
)

// TestAlertSurvivesKill checks the outbox's promise across a SIGKILL: an
// alert committed to the outbox whose delivery kept failing, and one whose
// cause was acknowledged just before the kill, are both delivered after a
// restart, each with one webhook-id, and no alert is made up.
//
// With the control data in PostgreSQL the outbox is there, and the cause
// of the alert made at the kill is recorded by the embedded store (with
// its change, or again when the write-ahead log is replayed) and relayed
// to PostgreSQL after the restart.
func TestAlertSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it twice")
	}
	t.Run("embedded", alertSurvivesKill)
	t.Run("postgres", func(t *testing.T) {
		t.Setenv("SIGHTLINE_POSTGRES", testsvc.Postgres(t))
		alertSurvivesKill(t)
	})
}

func alertSurvivesKill(t *testing.T) {
	t.Setenv("SIGHTLINE_ALERTS_ALLOW_HTTP", "true")
	t.Setenv("SIGHTLINE_ALERTS_ALLOW_PRIVATE", "true")
	bin := buildBinary(t)
	data := t.TempDir()

	var up atomic.Bool // the receiver answers 503 until up
	var mu sync.Mutex
	got := map[string][]string{} // webhook-id → user IDs of each request
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct {
			Type string
			Data struct{ User struct{ ID string } }
		}
		json.Unmarshal(body, &ev)
		mu.Lock()
		id := r.Header.Get("webhook-id")
		got[id] = append(got[id], ev.Type+" "+ev.Data.User.ID)
		mu.Unlock()
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer rcv.Close()

	srv := startServer(t, bin, data)
	var site struct {
		ID       string `json:"id"`
		WriteKey string `json:"write_key"`
	}
	runJSON(t, &site, bin, "site", "create", "alerts", "--data", data, "--json")
	var tok struct {
		Token string `json:"token"`
	}
	runJSON(t, &tok, bin, "token", "create", "--site", site.ID, "--scope", "admin", "--data", data, "--json")
	api := func(base, method, path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+"/api/v1/sites/"+site.ID+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %s %v", method, path, resp.Status, out)
		}
		return out
	}
	identify := func(base, user string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/v1/identify", strings.NewReader(fmt.Sprintf(`{"userId":%q,"traits":{"plan":"pro"}}`, user)))
		req.SetBasicAuth(site.WriteKey, "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("identify %s: %s", user, resp.Status)
		}
	}
	identify(srv.url, "seed")
	segment := api(srv.url, "POST", "/segments", map[string]any{"name": "Pro", "text": `plan = "pro"`})
	dst := api(srv.url, "POST", "/alerts/destinations", map[string]any{"name": "r", "kind": "webhook", "url": rcv.URL})
	api(srv.url, "POST", "/alerts/rules", map[string]any{"name": "entered", "trigger": "segment.entered",
		"segment_id": segment["id"], "destination_id": dst["id"], "enabled": true})

	identify(srv.url, "before-kill")
	waitFor(t, "a failed attempt of the first alert", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	})
	identify(srv.url, "at-kill")
	srv.kill(t)
	mu.Lock()
	var firstID string
	for id := range got {
		firstID = id
	}
	mu.Unlock()

	up.Store(true)
	srv = startServer(t, bin, data)
	// The alert that failed before the kill is retried after its backoff
	// (5 s ± jitter), under its webhook-id; the one made at the kill is
	// sent for the first time.
	waitFor(t, "both alerts delivered after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		users := map[string]bool{}
		for _, reqs := range got {
			users[reqs[len(reqs)-1]] = true
		}
		return len(got[firstID]) >= 2 && users["segment.entered at-kill"]
	})
	time.Sleep(time.Second)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Errorf("%d webhook-ids, want 2 (one an alert): %v", len(got), got)
	}
	for id, reqs := range got {
		for _, r := range reqs {
			if r != reqs[0] {
				t.Errorf("webhook-id %s carried %q and %q", id, reqs[0], r)
			}
		}
	}
	if reqs := got[firstID]; len(reqs) < 2 || reqs[0] != "segment.entered before-kill" {
		t.Errorf("the alert in the outbox at the kill: %v under webhook-id %s; all: %v", reqs, firstID, got)
	}
	t.Logf("requests by webhook-id: %v", got)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not after 30 s: %s", what)
		}
	}
}
