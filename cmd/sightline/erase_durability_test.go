package main_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestDeletionJobSurvivesKill kills the server with SIGKILL while one user
// deletion scrubs the files (its rows are deleted) and a second waits in
// the queue behind it. After the restart both jobs are done — the first
// finished by the scrub at the start, the second resumed — their receipts
// are read back, and both users are gone.
func TestDeletionJobSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, generates data and runs the server twice")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	// Enough data that rewriting the database takes a while.
	var gen struct {
		Site string `json:"site"`
	}
	runJSON(t, &gen, bin, "gen", "--site", "shop", "--users", "4000", "--events-per-user", "80", "--data", data, "--json")
	var tok struct {
		Token string `json:"token"`
	}
	runJSON(t, &tok, bin, "token", "create", "--site", gen.Site, "--scope", "admin", "--data", data, "--json")

	call := func(base, method, path string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+"/api/v1/sites/"+gen.Site+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	srv := startServer(t, bin, data)
	for _, u := range []string{"u-1", "u-2"} {
		if code, out := call(srv.url, "GET", "/users/"+u); code != 200 {
			t.Fatalf("user %s: %d %v", u, code, out)
		}
	}
	code, first := call(srv.url, "DELETE", "/users/u-1")
	if code != http.StatusAccepted {
		t.Fatalf("delete u-1: %d %v", code, first)
	}
	var status string
	for deadline := time.Now().Add(time.Minute); status != "scrubbing"; time.Sleep(5 * time.Millisecond) {
		_, j := call(srv.url, "GET", "/deletions/"+first["id"].(string))
		status, _ = j["status"].(string)
		if status == "done" || status == "failed" || time.Now().After(deadline) {
			t.Fatalf("the first deletion was not caught scrubbing: %v", j)
		}
	}
	code, second := call(srv.url, "DELETE", "/users/u-2")
	if code != http.StatusAccepted || second["status"] != "queued" {
		t.Fatalf("delete u-2: %d %v", code, second)
	}
	if _, j := call(srv.url, "GET", "/deletions/"+first["id"].(string)); j["status"] != "scrubbing" {
		t.Fatalf("the first deletion finished before the kill: %v", j)
	}
	srv.kill(t)

	srv = startServer(t, bin, data)
	for _, job := range []map[string]any{first, second} {
		var j map[string]any
		waitFor(t, "deletion "+job["id"].(string)+" done after the restart", func() bool {
			_, j = call(srv.url, "GET", "/deletions/"+job["id"].(string))
			return j["status"] == "done" || j["status"] == "failed"
		})
		r, _ := j["receipt"].(map[string]any)
		deleted, _ := r["deleted"].(map[string]any)
		if j["status"] != "done" || r["rewritten"] != true || deleted["attribute_history"] == nil || deleted["attribute_history"].(float64) < 1 {
			t.Errorf("job %s after the restart: %v", job["id"], j)
		}
		t.Logf("job after the restart: %v", j)
	}
	for _, u := range []string{"u-1", "u-2"} {
		if code, _ := call(srv.url, "GET", "/users/"+u); code != 404 {
			t.Errorf("user %s after the restart: %d", u, code)
		}
	}
	if code, _ := call(srv.url, "GET", "/users/u-3"); code != 200 {
		t.Errorf("another user after the restart: %d", code)
	}
	if code, out := call(srv.url, "GET", "/deletions/del_0000000000000000"); code != 404 {
		t.Errorf("an unknown job: %d %v", code, out)
	}
}
