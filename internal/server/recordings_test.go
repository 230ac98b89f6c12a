package server_test

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
)

const appOrigin = "https://app.example.com"

// recServer is a test server that also knows its data folder.
type recServer struct {
	*testServer
	data string
}

func startRecServer(t *testing.T, tune func(*config.Config)) *recServer {
	t.Helper()
	var data string
	s := startServer(t, func(c *config.Config) {
		data = c.DataDir
		if tune != nil {
			tune(c)
		}
	})
	return &recServer{testServer: s, data: data}
}

// upload posts a recording chunk as the recorder does; zip gzips it and
// flags it with z=gzip.
func (s *recServer) upload(t *testing.T, key, origin string, body []byte, zip bool) (*http.Response, map[string]any) {
	t.Helper()
	target := s.base + "/t/rec?k=" + url.QueryEscape(key)
	if zip {
		body = gzipped(body)
		target += "&z=gzip"
	}
	req, _ := http.NewRequest("POST", target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	return resp, out
}

// mustUpload uploads a chunk that must be stored.
func (s *recServer) mustUpload(t *testing.T, body []byte, zip bool) {
	t.Helper()
	if resp, out := s.upload(t, s.writeKey, appOrigin, body, zip); resp.StatusCode != 200 {
		t.Fatalf("upload: %s %v", resp.Status, out)
	}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// chunk is a chunk's body: seq's events are a Meta event (on seq 0), a
// Custom event naming the seq, and a mouse move, at start + seq seconds.
func chunk(recording, anon string, seq int, start time.Time) []byte {
	ms := start.UnixMilli() + int64(seq)*1000
	var events []string
	if seq == 0 {
		events = append(events, fmt.Sprintf(`{"type":4,"data":{"href":"%s/dashboard","width":1280,"height":800},"timestamp":%d}`, appOrigin, ms))
	}
	events = append(events, fmt.Sprintf(`{"type":5,"data":{"tag":"seq","payload":{"seq":%d}},"timestamp":%d}`, seq, ms+1),
		fmt.Sprintf(`{"type":3,"data":{"source":1,"positions":[{"x":1,"y":2,"id":3,"timeOffset":0}]},"timestamp":%d}`, ms+900))
	return []byte(fmt.Sprintf(`{"recording":%q,"anonymousId":%q,"seq":%d,"start":%d,"end":%d,"url":"%s/settings","events":[%s]}`,
		recording, anon, seq, ms, ms+900, appOrigin, strings.Join(events, ",")))
}

// list reads the recordings list with a query and returns its rows.
func (s *recServer) list(t *testing.T, query string) []map[string]any {
	t.Helper()
	var out struct {
		Recordings []map[string]any `json:"recordings"`
	}
	s.getJSON(t, "/recordings?"+query, &out)
	return out.Recordings
}

func (s *recServer) blobFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(filepath.Join(s.data, "recordings"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

func TestRecordingUploadListAndReplay(t *testing.T) {
	s := startRecServer(t, nil)
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	ts := func(d time.Duration) string { return start.Add(d).Format(time.RFC3339Nano) }
	// What the tracker sent during the recording: a page view, a click and a rage click.
	code, body := s.send(t, "/v1/batch", fmt.Sprintf(`{"batch":[
		{"type":"page","anonymousId":"v1","timestamp":%q,"properties":{"url":"%s/dashboard","path":"/dashboard"},
			"context":{"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"}},
		{"type":"track","anonymousId":"v1","event":"$click","timestamp":%q,"properties":{"selector":"#export"}},
		{"type":"track","anonymousId":"v1","event":"$rage_click","timestamp":%q,"properties":{"selector":"#export","clicks":4}},
		{"type":"track","anonymousId":"v1","event":"export","timestamp":%q},
		{"type":"track","anonymousId":"v1","event":"$scroll","timestamp":%q}]}`,
		ts(0), appOrigin, ts(1500*time.Millisecond), ts(2*time.Second), ts(2500*time.Millisecond), ts(time.Second)))
	if code != 200 {
		t.Fatalf("tracker events: %d %v", code, body)
	}
	// Chunks out of order, one twice, one gzipped.
	for i, seq := range []int{2, 0, 1, 2, 3} {
		s.mustUpload(t, chunk("b1", "v1", seq, start), i%2 == 1)
	}
	rows := s.list(t, "")
	if len(rows) != 1 {
		t.Fatalf("recordings = %v", rows)
	}
	r := rows[0]
	id := r["id"].(string)
	sig := r["signals"].(map[string]any)
	if r["user"] != "v1" || r["user_id"] != "" || r["chunks"] != 4.0 || r["duration_seconds"] != 3.9 ||
		r["pages"] != 2.0 || r["first_url"] != appOrigin+"/dashboard" || r["device"] != "desktop" || r["browser"] != "Chrome" ||
		sig["clicks"] != 1.0 || sig["rage_clicks"] != 1.0 || r["frustration"] != 1.0 {
		t.Fatalf("recording = %v", r)
	}
	if n, m := len(s.list(t, "device=desktop")), len(s.list(t, "device=mobile")); n != 1 || m != 0 {
		t.Fatalf("device filter: %d desktop, %d mobile", n, m)
	}
	// The visitor identifies later: the recording is theirs.
	s.send(t, "/v1/identify", `{"userId":"u1","anonymousId":"v1","traits":{"plan":"pro"}}`)
	if rows = s.list(t, "attributes=plan"); len(rows) != 1 || rows[0]["user"] != "u1" ||
		fmt.Sprint(rows[0]["attributes"]) != "map[plan:map[changed_at:"+rows[0]["attributes"].(map[string]any)["plan"].(map[string]any)["changed_at"].(string)+" type:string value:pro]]" {
		t.Fatalf("after identify: %v", rows)
	}

	// The timeline has what the player marks, relative to the start.
	var detail struct {
		Recording map[string]any `json:"recording"`
		Timeline  []struct {
			OffsetMS int64  `json:"offset_ms"`
			Type     string `json:"type"`
			Name     string `json:"name"`
		} `json:"timeline"`
	}
	s.getJSON(t, "/recordings/"+id, &detail)
	var marks []string
	for _, m := range detail.Timeline {
		marks = append(marks, fmt.Sprintf("%s%s@%d", m.Type, m.Name, m.OffsetMS))
	}
	if got := strings.Join(marks, " "); got != "page@0 click@1500 rage_click@2000 eventexport@2500" {
		t.Fatalf("timeline = %s", got)
	}
	if detail.Recording["id"] != id || detail.Recording["user"] != "u1" {
		t.Fatalf("detail = %v", detail.Recording)
	}

	// The events come back in seq order, each once, gzipped when accepted.
	for _, zip := range []bool{true, false} {
		req, _ := http.NewRequest("GET", s.base+"/api/v1/sites/"+s.site+"/recordings/"+id+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
		req.Header.Set("Accept-Encoding", map[bool]string{true: "gzip", false: "identity"}[zip])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Content-Encoding") == "gzip"; resp.StatusCode != 200 || got != zip {
			t.Fatalf("events (gzip %v): %s, Content-Encoding %q", zip, resp.Status, resp.Header.Get("Content-Encoding"))
		}
		if zip {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ = io.ReadAll(zr)
		}
		var events []struct {
			Type int `json:"type"`
			Data struct {
				Payload struct{ Seq int } `json:"payload"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &events); err != nil {
			t.Fatalf("events: %v in %.200s", err, raw)
		}
		var seqs []int
		for _, e := range events {
			if e.Type == 5 {
				seqs = append(seqs, e.Data.Payload.Seq)
			}
		}
		if len(events) != 9 || fmt.Sprint(seqs) != "[0 1 2 3]" || events[0].Type != 4 {
			t.Fatalf("%d events, custom seqs %v", len(events), seqs)
		}
	}
}

func TestRecordingListFilters(t *testing.T) {
	s := startRecServer(t, nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	// u1 (pro) recorded twice, u2 (free) once with a dead click; v3 stays anonymous.
	s.send(t, "/v1/batch", fmt.Sprintf(`{"batch":[
		{"type":"identify","userId":"u1","anonymousId":"a1","traits":{"plan":"pro"}},
		{"type":"identify","userId":"u2","anonymousId":"a2","traits":{"plan":"free"}},
		{"type":"page","anonymousId":"a3","properties":{"path":"/"}},
		{"type":"track","userId":"u2","anonymousId":"a2","event":"$dead_click","timestamp":%q},
		{"type":"track","userId":"u1","event":"export","timestamp":%q}]}`,
		now.Add(-3*time.Minute+500*time.Millisecond).Format(time.RFC3339Nano),
		now.Add(-5*time.Minute+time.Second).Format(time.RFC3339Nano)))
	for _, c := range []struct {
		rec, anon string
		at        time.Time
		chunks    int
	}{{"r1", "a1", now.Add(-10 * time.Minute), 1}, {"r2", "a1", now.Add(-5 * time.Minute), 4}, {"r3", "a2", now.Add(-3 * time.Minute), 2}, {"r4", "a3", now.Add(-2 * time.Minute), 3}} {
		for seq := 0; seq < c.chunks; seq++ {
			s.mustUpload(t, chunk(c.rec, c.anon, seq, c.at), false)
		}
	}
	code, seg := s.call(t, store.ScopeWrite, "POST", "/segments", `{"name":"Pro","text":"plan = \"pro\""}`)
	if code != 201 && code != 200 {
		t.Fatalf("create segment: %d %v", code, seg)
	}
	users := func(rows []map[string]any) string {
		var u []string
		for _, r := range rows {
			u = append(u, fmt.Sprintf("%s:%.0f", r["user"], r["chunks"]))
		}
		return strings.Join(u, " ")
	}
	q := url.QueryEscape
	tests := []struct {
		name, query, want string
	}{
		{"all, newest first", "", "a3:3 u2:2 u1:4 u1:1"},
		{"saved segment with the user", "segment=" + seg["id"].(string), "u1:4 u1:1"},
		{"ad-hoc text segment", "text=" + q(`plan = "free"`), "u2:2"},
		{"ad-hoc segment nobody is in", "text=" + q(`plan = "team"`), ""},
		{"ad-hoc JSON segment", "definition=" + q(`{"type":"attribute","key":"plan","op":"=","value":"pro"}`), "u1:4 u1:1"},
		{"one user", "user=u1", "u1:4 u1:1"},
		{"an anonymous visitor", "user=a3&kind=anonymous", "a3:3"},
		{"longest first", "sort=duration", "u1:4 a3:3 u2:2 u1:1"},
		{"most frustrated first", "sort=frustration&limit=1", "u2:2"},
		{"with a dead click", "signal=dead_clicks", "u2:2"},
		{"with a rage click", "signal=rage_clicks", ""},
		{"at least 3 seconds", "min_duration=3", "u1:4"},
		{"at most 1 second", "max_duration=1", "u1:1"},
		{"since 6 minutes ago", "from=" + q(now.Add(-6*time.Minute).Format(time.RFC3339)), "a3:3 u2:2 u1:4"},
		{"until 4 minutes ago", "to=" + q(now.Add(-4*time.Minute).Format(time.RFC3339)), "u1:4 u1:1"},
		{"a page visited", "page=dashboard", "a3:3 u2:2 u1:4 u1:1"},
		{"a page nobody visited", "page=billing", ""},
		{"a custom event done during it", "event=export", "u1:4"},
		{"an event nobody did", "event=import", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := users(s.list(t, tt.query)); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	// Paging: three, then the rest, with nothing repeated.
	var page struct {
		Recordings []map[string]any `json:"recordings"`
		Next       string           `json:"next_after"`
	}
	s.getJSON(t, "/recordings?limit=3&sort=duration", &page)
	first := users(page.Recordings)
	s.getJSON(t, "/recordings?limit=3&sort=duration&after="+page.Next, &page)
	if first+" "+users(page.Recordings) != "u1:4 a3:3 u2:2 u1:1" || page.Next != "" {
		t.Fatalf("pages: %q then %q (next %q)", first, users(page.Recordings), page.Next)
	}
	bad := []struct{ query, field string }{
		{"sort=size", "sort"}, {"signal=clicks", "signal"}, {"min_duration=-1", "min_duration"}, {"from=yesterday", "from"},
		{"after=zzz", "after"}, {"segment=seg_x&user=u1", "segment"}, {"text=" + q("plan ="), "definition"},
		{"limit=0", "limit"},
	}
	for _, b := range bad {
		if code, body := s.get(t, store.ScopeRead, "/recordings?"+b.query); code != 400 || body["error"].(map[string]any)["field"] != b.field {
			t.Errorf("%s: %d %v, want 400 on %s", b.query, code, body, b.field)
		}
	}
	if code, body := s.get(t, store.ScopeRead, "/recordings?segment=seg_nope"); code != 404 {
		t.Errorf("unknown segment: %d %v", code, body)
	}
}

func TestRecordingUploadRefusals(t *testing.T) {
	s := startRecServer(t, nil)
	now := time.Now()
	valid := chunk("b1", "v1", 0, now.Add(-time.Second))
	bomb := gzipped(bytes.Repeat([]byte(" "), 20<<20)) // 20 MiB of spaces, about 20 KB gzipped
	noise := make([]byte, 2<<20)
	rand.Read(noise)
	tests := []struct {
		name, key, origin string
		body              []byte
		raw               bool // send the body as is, with z=gzip
		status            int
		code              string
	}{
		{"foreign origin", s.writeKey, "https://evil.example.org", valid, false, 403, "origin_not_allowed"},
		{"no origin", s.writeKey, "", valid, false, 403, "origin_not_allowed"},
		{"unknown key", "wk_nope", appOrigin, valid, false, 401, "unauthorized"},
		{"no key", "", appOrigin, valid, false, 401, "unauthorized"},
		{"garbage", s.writeKey, appOrigin, []byte("hello"), false, 400, "malformed_json"},
		{"flagged gzip but not", s.writeKey, appOrigin, valid, true, 400, "malformed_gzip"},
		{"decompression bomb", s.writeKey, appOrigin, bomb, true, 413, "chunk_too_large"},
		{"over 1 MiB gzipped", s.writeKey, appOrigin, gzipped(noise), true, 413, "chunk_too_large"},
		{"over 8 MiB plain", s.writeKey, appOrigin, bytes.Repeat([]byte(" "), 9<<20), false, 413, "chunk_too_large"},
		{"no events", s.writeKey, appOrigin, []byte(`{"recording":"b1","anonymousId":"v1","seq":0,"start":1700000000000,"end":1700000000000}`), false, 400, "missing_field"},
		{"seq too high", s.writeKey, appOrigin, bytes.Replace(valid, []byte(`"seq":0`), []byte(`"seq":100001`), 1), false, 400, "invalid_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := s.base + "/t/rec?k=" + url.QueryEscape(tt.key)
			if tt.raw {
				target += "&z=gzip"
			}
			req, _ := http.NewRequest("POST", target, bytes.NewReader(tt.body))
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			code, body := do(t, req)
			if code != tt.status || errorCode(body) != tt.code {
				t.Fatalf("got %d %v, want %d %s", code, body, tt.status, tt.code)
			}
		})
	}
	if rows := s.list(t, ""); len(rows) != 0 {
		t.Fatalf("refused chunks were stored: %v", rows)
	}
	if files := s.blobFiles(t); len(files) != 0 {
		t.Fatalf("refused chunks left files: %v", files)
	}
	// An allowed origin gets CORS headers, also on its preflight.
	resp, _ := s.upload(t, s.writeKey, appOrigin, valid, true)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != appOrigin {
		t.Fatalf("valid chunk: %s %v", resp.Status, resp.Header)
	}
	req, _ := http.NewRequest("OPTIONS", s.base+"/t/rec?k="+s.writeKey, nil)
	req.Header.Set("Origin", appOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	if code, _ := do(t, req); code != 204 {
		t.Fatalf("preflight: %d", code)
	}
	// The stored blob is zstd, not the JSON that was sent.
	files := s.blobFiles(t)
	if len(files) != 1 {
		t.Fatalf("files = %v", files)
	}
	b, _ := os.ReadFile(files[0])
	if !bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}) || bytes.Contains(b, []byte("anonymousId")) || bytes.Contains(b, []byte(`"type"`)) {
		t.Fatalf("stored bytes are not zstd: %.60q", b)
	}
}

func TestRecordingTenantIsolationAndDelete(t *testing.T) {
	forBackends(t, testRecordingTenantIsolationAndDelete)
}

func testRecordingTenantIsolationAndDelete(t *testing.T) {
	s := startRecServer(t, nil)
	other, err := s.admin.CreateSite(t.Context(), "Other", []string{appOrigin})
	if err != nil {
		t.Fatal(err)
	}
	otherTok, err := s.admin.CreateToken(t.Context(), other.ID, store.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute)
	s.mustUpload(t, chunk("b1", "v1", 0, start), false)
	// The other site's key posts the same browser session: a recording of its own.
	if resp, out := s.upload(t, other.WriteKey, appOrigin, chunk("b1", "v1", 1, start), false); resp.StatusCode != 200 {
		t.Fatalf("other site's upload: %s %v", resp.Status, out)
	}
	rows := s.list(t, "")
	if len(rows) != 1 || rows[0]["chunks"] != 1.0 {
		t.Fatalf("this site's recordings: %v", rows)
	}
	id := rows[0]["id"].(string)
	call := func(method, site, path, token string) (int, string) {
		req, _ := http.NewRequest(method, s.base+"/api/v1/sites/"+site+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		code, body := do(t, req)
		return code, errorCode(body)
	}
	tests := []struct {
		name, method, site, path, token string
		status                          int
		code                            string
	}{
		{"other site's token on this site's list", "GET", s.site, "/recordings", otherTok.Token, 404, "site_not_found"},
		{"other site's token on this recording", "GET", s.site, "/recordings/" + id, otherTok.Token, 404, "site_not_found"},
		{"this recording under the other site", "GET", other.ID, "/recordings/" + id, otherTok.Token, 404, "not_found"},
		{"its events under the other site", "GET", other.ID, "/recordings/" + id + "/events", otherTok.Token, 404, "not_found"},
		{"deleting it under the other site", "DELETE", other.ID, "/recordings/" + id, otherTok.Token, 404, "not_found"},
		{"no token", "GET", s.site, "/recordings", "", 401, "unauthorized"},
		{"read token may not delete", "DELETE", s.site, "/recordings/" + id, s.tokens[store.ScopeRead], 403, "forbidden"},
		{"write token deletes", "DELETE", s.site, "/recordings/" + id, s.tokens[store.ScopeWrite], 200, ""},
		{"gone", "GET", s.site, "/recordings/" + id, s.tokens[store.ScopeRead], 404, "not_found"},
		{"its events are gone", "GET", s.site, "/recordings/" + id + "/events", s.tokens[store.ScopeRead], 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, ec := call(tt.method, tt.site, tt.path, tt.token); code != tt.status || ec != tt.code {
				t.Fatalf("got %d %q, want %d %q", code, ec, tt.status, tt.code)
			}
		})
	}
	// Only the other site's blob is left on disk.
	if files := s.blobFiles(t); len(files) != 1 {
		t.Fatalf("files after delete: %v", files)
	}
}

func TestRecordingSettingsEndpoint(t *testing.T) { forBackends(t, testRecordingSettingsEndpoint) }

func testRecordingSettingsEndpoint(t *testing.T) {
	s := startRecServer(t, nil)
	var got store.RecordingSettings
	s.getJSON(t, "/recording-settings", &got)
	if !reflect.DeepEqual(got, store.DefaultRecordingSettings()) {
		t.Fatalf("defaults = %+v", got)
	}
	put := func(scope store.Scope, body string) (int, map[string]any) {
		return s.call(t, scope, "PUT", "/recording-settings", body)
	}
	if code, body := put(store.ScopeWrite, `{"enabled":false}`); code != 403 {
		t.Fatalf("write token changed settings: %d %v", code, body)
	}
	for _, b := range []struct{ body, code, field string }{
		{`{"sample_rate":2}`, "invalid_field", "sample_rate"},
		{`{"retention_days":0}`, "invalid_field", "retention_days"},
		{`{"daily_quota":-5}`, "invalid_field", "daily_quota"},
		{`{"enabled":"yes"}`, "malformed_json", ""},
		{`{"sampling":1}`, "malformed_json", ""},
	} {
		code, body := put(store.ScopeAdmin, b.body)
		if e, _ := body["error"].(map[string]any); code != 400 || e["code"] != b.code || (b.field != "" && e["field"] != b.field) {
			t.Errorf("%s: %d %v", b.body, code, body)
		}
	}
	start := time.Now().Add(-time.Minute)
	if code, body := put(store.ScopeAdmin, `{"enabled":false}`); code != 200 || body["enabled"] != false || body["retention_days"] != 30.0 {
		t.Fatalf("turn off: %d %v", code, body)
	}
	if resp, out := s.upload(t, s.writeKey, appOrigin, chunk("b1", "v1", 0, start), false); resp.StatusCode != 403 || errorCode(out) != "recording_disabled" {
		t.Fatalf("upload while off: %s %v", resp.Status, out)
	}
	if code, body := put(store.ScopeAdmin, `{"enabled":true,"daily_quota":1,"sample_rate":0.25}`); code != 200 || body["sample_rate"] != 0.25 {
		t.Fatalf("quota: %d %v", code, body)
	}
	s.mustUpload(t, chunk("b1", "v1", 0, start), false)
	if resp, out := s.upload(t, s.writeKey, appOrigin, chunk("b2", "v2", 0, start), false); resp.StatusCode != 429 || errorCode(out) != "quota_exceeded" {
		t.Fatalf("second recording of the day: %s %v", resp.Status, out)
	}
	s.mustUpload(t, chunk("b1", "v1", 1, start), true)
	s.getJSON(t, "/recording-settings", &got)
	if !got.Enabled || got.DailyQuota != 1 || got.SampleRate != 0.25 || got.RetentionDays != 30 {
		t.Fatalf("settings = %+v", got)
	}
}

// TestUserSessionsNameTheirRecordings checks the recordings a user's
// sessions name: each the recordings overlapping it most (of a session
// recorded in two tabs, both, oldest first), none for a session without,
// and nothing for a recording outside every session; an anonymous visitor's
// too.
func TestUserSessionsNameTheirRecordings(t *testing.T) {
	s := startRecServer(t, nil)
	tabs := recordedPeople(t, s, 2)
	// u-2 recorded a day before any session of theirs.
	s.mustUpload(t, snapshotChunk("lone-tab1", "anon-2", time.Now().Add(-20*time.Hour), "Alone"), false)
	// An anonymous visitor's session and recording.
	at := time.Now().UTC().Add(-3 * time.Hour)
	if code, out := s.send(t, "/v1/batch", fmt.Sprintf(`{"batch":[{"type":"page","anonymousId":"anon-x","timestamp":%q,
		"properties":{"url":"%s/app","path":"/app"}}]}`, at.Format(time.RFC3339), appOrigin)); code != 200 {
		t.Fatalf("anonymous page view: %d %v", code, out)
	}
	s.mustUpload(t, snapshotChunk("anon-tab1", "anon-x", at, "Anonymous"), false)
	ids := map[string][]string{} // user → recording IDs, newest first
	for _, r := range s.list(t, "limit=500") {
		ids[r["user"].(string)] = append(ids[r["user"].(string)], r["id"].(string))
	}
	sessions := func(path string) [][]string {
		t.Helper()
		var out struct {
			Sessions []struct {
				Recordings []string `json:"recordings"`
			} `json:"sessions"`
		}
		s.getJSON(t, path, &out)
		var got [][]string
		for _, x := range out.Sessions {
			got = append(got, x.Recordings)
		}
		return got
	}
	if len(ids["u-2"]) != 2 || len(ids["anon-x"]) != 1 {
		t.Fatalf("recordings by user: %v", ids)
	}
	tests := []struct {
		name, path string
		want       [][]string // newest session first
	}{
		{"a recent session, and one recorded in two tabs", "/users/u-1/sessions", [][]string{{ids["u-1"][0]}, tabs}},
		{"a recording outside every session", "/users/u-2/sessions", [][]string{{ids["u-2"][0]}}},
		{"an anonymous visitor", "/users/anon-x/sessions?kind=anonymous", [][]string{{ids["anon-x"][0]}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sessions(tt.path); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("recordings by session = %v, want %v", got, tt.want)
			}
		})
	}
}
