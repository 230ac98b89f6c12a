package server_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// readAPI reads a path of the site's API with a read token, raw.
func (s *testServer) readAPI(t *testing.T, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+s.site+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", path, resp.Status, b)
	}
	return b
}

// sameJSON fails unless a and b hold the same JSON value.
func sameJSON(t *testing.T, what string, a, b []byte) {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v in %.200s", what, err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v in %.200s", what, err, b)
	}
	if !reflect.DeepEqual(x, y) {
		t.Errorf("%s: the export differs from the read API:\nexport: %.400s\napi:    %.400s", what, a, b)
	}
}

// TestExportUserMatchesReadAPI exports a user with more events than one
// page and a recording, and compares every file with what the read API
// shows about the user.
func TestExportUserMatchesReadAPI(t *testing.T) { forBackends(t, testExportUserMatchesReadAPI) }

func testExportUserMatchesReadAPI(t *testing.T) {
	s := startRecServer(t, nil)
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	ts := func(i int) string { return start.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano) }
	var batch []string
	batch = append(batch, fmt.Sprintf(`{"type":"identify","anonymousId":"anon-ann","userId":"ann","traits":{"plan":"free","email":"ann@example.com"},"timestamp":%q}`, ts(0)),
		fmt.Sprintf(`{"type":"identify","userId":"ann","traits":{"plan":"pro"},"timestamp":%q}`, ts(1)),
		`{"type":"identify","userId":"bob","traits":{"plan":"free"}}`)
	for i := range 1234 {
		batch = append(batch, fmt.Sprintf(`{"type":"track","userId":"ann","event":"step","properties":{"i":%d},"timestamp":%q}`, i, ts(2+i)))
	}
	for len(batch) > 0 {
		n := min(len(batch), 400)
		if code, out := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch[:n], ",")+`]}`); code != 200 {
			t.Fatalf("batch: %d %v", code, out)
		}
		batch = batch[n:]
	}
	s.mustUpload(t, chunk("rec-ann", "anon-ann", 0, start), false)
	if code, out := s.call(t, store.ScopeAdmin, "PUT", "/feedback-settings", `{"enabled":true}`); code != 200 {
		t.Fatalf("feedback settings: %d %v", code, out)
	}
	if code, out := s.tracker(t, s.writeKey, "POST", "/t/feedback", nil, `{"anonymousId":"anon-ann","userId":"ann",
		"url":"https://app.example.com/","rating":4,"comment":"nice export"}`); code != 200 {
		t.Fatalf("feedback: %d %v", code, out)
	}

	get := func(scope store.Scope) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+s.site+"/users/ann/export", nil)
		req.Header.Set("Authorization", "Bearer "+s.tokens[scope])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := get(store.ScopeRead); resp.StatusCode != http.StatusForbidden {
		t.Errorf("export with a read token: %s", resp.Status)
	}
	_, otherToken := s.otherSite(t)
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+s.site+"/users/ann/export", nil)
	req.Header.Set("Authorization", "Bearer "+otherToken)
	if code, _ := do(t, req); code != http.StatusNotFound {
		t.Errorf("export with another site's token: %d", code)
	}
	if code, out := s.get(t, store.ScopeAdmin, "/users/nobody/export"); code != 404 {
		t.Errorf("export of an unknown user: %d %v", code, out)
	}
	resp := get(store.ScopeAdmin)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %s %v", resp.Status, resp.Header)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	t.Logf("export: %d bytes, files %d", len(body), len(files))

	sameJSON(t, "user.json", files["user.json"], s.readAPI(t, "/users/ann"))
	sameJSON(t, "attribute_history.json", files["attribute_history.json"], s.readAPI(t, "/users/ann/history"))
	sameJSON(t, "sessions.json", files["sessions.json"], s.readAPI(t, "/users/ann/sessions?limit=1000"))
	// Every page of events, one a line.
	var apiEvents []json.RawMessage
	for before := ""; ; {
		var page struct {
			Events     []json.RawMessage `json:"events"`
			NextBefore string            `json:"next_before"`
		}
		json.Unmarshal(s.readAPI(t, "/users/ann/events?limit=1000&before="+before), &page)
		apiEvents = append(apiEvents, page.Events...)
		if page.NextBefore == "" {
			break
		}
		before = page.NextBefore
	}
	var exported []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(files["events.jsonl"]))
	for sc.Scan() {
		exported = append(exported, append(json.RawMessage{}, sc.Bytes()...))
	}
	if len(exported) != len(apiEvents) || len(exported) < 1236 {
		t.Errorf("events.jsonl has %d events; the API pages %d", len(exported), len(apiEvents))
	} else {
		for i := range exported {
			sameJSON(t, fmt.Sprintf("event %d", i), exported[i], apiEvents[i])
		}
	}
	var recs struct {
		Recordings []map[string]any `json:"recordings"`
	}
	json.Unmarshal(files["recordings.json"], &recs)
	listed := s.list(t, "user=ann")
	if len(recs.Recordings) != 1 || len(listed) != 1 || recs.Recordings[0]["id"] != listed[0]["id"] {
		t.Errorf("recordings.json = %v; the list shows %v", recs.Recordings, listed)
	} else {
		id := listed[0]["id"].(string)
		sameJSON(t, "the recording's events", files["recordings/"+id+".json"], s.readAPI(t, "/recordings/"+id+"/events"))
	}
	if !strings.Contains(string(files["feedback.json"]), "nice export") || !strings.Contains(string(files["survey_responses.json"]), "[]") {
		t.Errorf("feedback.json = %s, survey_responses.json = %s", files["feedback.json"], files["survey_responses.json"])
	}
	for name, b := range files {
		if strings.Contains(string(b), `"bob"`) {
			t.Errorf("%s holds another user", name)
		}
	}
}
