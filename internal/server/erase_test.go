package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
)

// filesHolding lists the files under dir whose bytes contain marker.
func filesHolding(t *testing.T, dir, marker string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(marker)) {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// newEchoReceiver is a webhook receiver that answers with the body it
// got, as some do: the delivery log then keeps the start of the message.
func newEchoReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body, at: time.Now(), status: 200})
		r.mu.Unlock()
		w.Write(body)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// deleteUser asks for a user's deletion with token and, when it is
// accepted, waits for the job and returns it.
func (s *testServer) deleteUser(t *testing.T, token, site, query string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, s.base+"/api/v1/sites/"+site+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	code, job := do(t, req)
	if code != http.StatusAccepted {
		return code, job
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+site+"/deletions/"+job["id"].(string), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		c, j := do(t, req)
		if c != http.StatusOK {
			t.Fatalf("deletion job: %d %v", c, j)
		}
		if j["status"] == "done" || j["status"] == "failed" {
			return code, j
		}
	}
	t.Fatal("the deletion did not finish in a minute")
	return 0, nil
}

// TestDeleteUserThroughHTTP is the erasure's proof through the server: a
// marker in traits, an event's properties, a page URL, a recorded page
// (its blob) and feedback is in the data folder; after DELETE
// /users/{id} it is in no file, the other user is whole, and the
// endpoints refuse tokens without the admin scope or of another site.
func TestDeleteUserThroughHTTP(t *testing.T) { forBackends(t, testDeleteUserThroughHTTP) }

func testDeleteUserThroughHTTP(t *testing.T) {
	s := startRecServer(t, func(c *config.Config) {
		c.Alerts = config.AlertsConfig{AllowHTTP: true, AllowPrivate: true, RetryBase: 50 * time.Millisecond, Poll: 100 * time.Millisecond}
	})
	const marker = "QZX-http-erase-marker-5521"
	// An alert rule for feedback sends the user's comment to a receiver
	// that echoes it in its answer, which the delivery log keeps.
	rcv := newEchoReceiver(t)
	dst := s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/destinations",
		map[string]any{"name": "Echo", "kind": "webhook", "url": rcv.srv.URL})
	s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/rules", map[string]any{
		"name": "Any feedback", "trigger": "feedback.new", "destination_id": dst["id"], "enabled": true, "max_rating": 5})
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	if code, out := s.send(t, "/v1/batch", fmt.Sprintf(`{"batch":[
		{"type":"page","anonymousId":"anon-doomed","properties":{"url":"https://app.example.com/%[1]s","path":"/%[1]s"}},
		{"type":"identify","anonymousId":"anon-doomed","userId":"doomed","traits":{"note":"%[1]s","plan":"free"}},
		{"type":"track","userId":"doomed","event":"exported","properties":{"file":"%[1]s.csv"}},
		{"type":"identify","userId":"kept","traits":{"plan":"pro"}},
		{"type":"track","userId":"kept","event":"exported"}]}`, marker)); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	ms := start.UnixMilli()
	s.mustUpload(t, []byte(fmt.Sprintf(`{"recording":"rec-doomed","anonymousId":"anon-doomed","seq":0,"start":%d,"end":%d,
		"url":"%s/app","events":[{"type":4,"data":{"href":"%s/app","width":1280,"height":800},"timestamp":%d},
		{"type":5,"data":{"tag":"text","payload":{"text":"%s"}},"timestamp":%d}]}`,
		ms, ms+900, appOrigin, appOrigin, ms, marker, ms+1)), false)
	if code, out := s.call(t, store.ScopeAdmin, "PUT", "/feedback-settings", `{"enabled":true}`); code != 200 {
		t.Fatalf("feedback settings: %d %v", code, out)
	}
	if code, out := s.tracker(t, s.writeKey, "POST", "/t/feedback", nil, fmt.Sprintf(`{"anonymousId":"anon-doomed","userId":"doomed",
		"url":"https://app.example.com/","rating":1,"comment":%q}`, marker)); code != 200 {
		t.Fatalf("feedback: %d %v", code, out)
	}
	if code, _ := s.get(t, store.ScopeRead, "/users/doomed"); code != 200 {
		t.Fatalf("the user is not there: %d", code)
	}
	alerted := waitRequests(t, rcv, 1)
	if !bytes.Contains(alerted[0].body, []byte(marker)) {
		t.Fatalf("the alert does not carry the marker: %s", alerted[0].body)
	}
	var deliveries struct {
		Deliveries []struct {
			MessageID string `json:"message_id"`
			Response  string `json:"response"`
		} `json:"deliveries"`
	}
	eventually(t, "the delivery is logged with the echoed marker", func() bool {
		s.getJSON(t, "/alerts/deliveries", &deliveries)
		return len(deliveries.Deliveries) == 1 && strings.Contains(deliveries.Deliveries[0].Response, marker)
	})
	if len(s.list(t, "")) != 1 || len(s.blobFiles(t)) == 0 {
		t.Fatal("the recording is not stored")
	}
	if found := filesHolding(t, s.data, marker); len(found) == 0 {
		t.Fatal("the marker is in no file before the deletion: the proof proves nothing")
	} else {
		t.Logf("before: the marker is in %v", found)
	}

	// Who may delete.
	otherSite, otherToken := s.otherSite(t)
	_ = otherSite
	for _, c := range []struct {
		name, token, site string
		want              int
	}{
		{"read token", s.tokens[store.ScopeRead], s.site, http.StatusForbidden},
		{"write token", s.tokens[store.ScopeWrite], s.site, http.StatusForbidden},
		{"another site's admin token", otherToken, s.site, http.StatusNotFound},
		{"no token", "", s.site, http.StatusUnauthorized},
	} {
		if code, out := s.deleteUser(t, c.token, c.site, "/users/doomed"); code != c.want {
			t.Errorf("%s: %d %v, want %d", c.name, code, out, c.want)
		}
	}
	if code, out := s.deleteUser(t, s.tokens[store.ScopeAdmin], s.site, "/users/nobody"); code != http.StatusNotFound {
		t.Errorf("an unknown user: %d %v", code, out)
	}
	if code, out := s.deleteUser(t, s.tokens[store.ScopeAdmin], s.site, "/users/doomed?suppress=maybe"); code != 400 || errorCode(out) != "invalid_parameter" {
		t.Errorf("suppress=maybe: %d %v", code, out)
	}
	if code, _ := s.get(t, store.ScopeRead, "/users/doomed"); code != 200 {
		t.Fatalf("a refused deletion deleted: %d", code)
	}

	code, job := s.deleteUser(t, s.tokens[store.ScopeAdmin], s.site, "/users/doomed")
	if code != http.StatusAccepted || job["status"] != "done" {
		t.Fatalf("deletion: %d %v", code, job)
	}
	r, _ := job["receipt"].(map[string]any)
	deleted, _ := r["deleted"].(map[string]any)
	t.Logf("receipt: %v", r)
	if r["identities"] != 2.0 || deleted["events"].(float64) < 3 || deleted["recordings"] != 1.0 || deleted["feedback"] != 1.0 ||
		deleted["recording_blobs"] != 1.0 || r["rewritten"] != true {
		t.Errorf("receipt = %v", r)
	}
	if found := filesHolding(t, s.data, marker); len(found) > 0 {
		t.Errorf("after the deletion the marker is still in %v", found)
	}
	if deleted["alert_messages"] != 1.0 || deleted["alert_attempts"] != 1.0 {
		t.Errorf("the receipt counts alert messages %v and attempts %v, want 1 each", deleted["alert_messages"], deleted["alert_attempts"])
	}
	s.getJSON(t, "/alerts/deliveries", &deliveries)
	if len(deliveries.Deliveries) != 0 {
		t.Errorf("the delivery log still shows the deleted user's alert: %+v", deliveries.Deliveries)
	}
	if len(s.blobFiles(t)) != 0 || len(s.list(t, "")) != 0 {
		t.Errorf("the recording outlived its user: %v", s.blobFiles(t))
	}
	for _, path := range []string{"/users/doomed", "/users/anon-doomed?kind=anonymous"} {
		if code, _ := s.get(t, store.ScopeRead, path); code != 404 {
			t.Errorf("GET %s after the deletion: %d", path, code)
		}
	}
	var kept struct {
		Attributes map[string]any `json:"attributes"`
	}
	s.getJSON(t, "/users/kept", &kept)
	if fmt.Sprint(kept.Attributes["plan"]) == "" || !strings.Contains(fmt.Sprint(kept.Attributes), "pro") {
		t.Errorf("the other user = %+v", kept)
	}
	// The job is the deleting site's alone.
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+otherSite+"/deletions/"+job["id"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+otherToken)
	if code, out := do(t, req); code != 404 {
		t.Errorf("another site reads the job: %d %v", code, out)
	}
}

// TestDeleteAndSuppressThroughIngestion deletes a user with suppression:
// later messages naming any of their IDs are refused with the code
// "suppressed" and stored nowhere, while others' are kept.
func TestDeleteAndSuppressThroughIngestion(t *testing.T) {
	s := startServer(t, nil)
	if code, out := s.send(t, "/v1/batch", `{"batch":[
		{"type":"identify","anonymousId":"anon-gone","userId":"gone","traits":{"plan":"free"}},
		{"type":"identify","userId":"back","messageId":"back-signup-1","traits":{"plan":"free"}}]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	if code, _ := s.get(t, store.ScopeRead, "/users/gone"); code != 200 {
		t.Fatal("the user is not there")
	}
	if code, job := s.deleteUser(t, s.tokens[store.ScopeAdmin], s.site, "/users/gone?suppress=true"); code != 202 || job["status"] != "done" {
		t.Fatalf("deletion: %d %v", code, job)
	}
	if code, job := s.deleteUser(t, s.tokens[store.ScopeAdmin], s.site, "/users/back"); code != 202 || job["status"] != "done" {
		t.Fatalf("deletion without suppression: %d %v", code, job)
	}
	code, out := s.send(t, "/v1/batch", `{"batch":[
		{"type":"identify","userId":"gone","traits":{"plan":"pro"}},
		{"type":"track","anonymousId":"anon-gone","event":"came back"},
		{"type":"alias","userId":"new-id","previousId":"gone"},
		{"type":"identify","userId":"back","messageId":"back-signup-1","traits":{"plan":"pro"}}]}`)
	if code != 200 {
		t.Fatalf("batch after the deletion: %d %v", code, out)
	}
	b, _ := json.Marshal(out["rejected"])
	if n := strings.Count(string(b), `"suppressed"`); n != 3 {
		t.Errorf("rejected = %s, want the 3 messages naming a suppressed ID", b)
	}
	for _, path := range []string{"/users/gone", "/users/anon-gone?kind=anonymous", "/users/new-id"} {
		if code, _ := s.get(t, store.ScopeRead, path); code != 404 {
			t.Errorf("GET %s after suppression: %d", path, code)
		}
	}
	// The deletion dropped the user's message IDs from the dedupe window
	// (a client may have chosen them), so the same message ID is stored
	// again rather than dropped as a retry.
	if code, _ := s.get(t, store.ScopeRead, "/users/back"); code != 200 {
		t.Errorf("a user deleted without suppression cannot come back with a message ID they used before: %d", code)
	}
}
