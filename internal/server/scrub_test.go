package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestScrubURLsAtIngest sends page URLs carrying secrets through the HTTP
// API (which the browser tracker's scrubbing does not cover) and a
// recording: the values of secret-looking parameters and of the site's
// scrub_params are dropped before anything is stored (no file of the data
// folder holds them, recordings' blobs included), parameters in
// keep_params stay, and the events, the heatmap's page list and the
// recording show the scrubbed URLs.
func TestScrubURLsAtIngest(t *testing.T) {
	s := startRecServer(t, nil)
	if code, out := s.call(t, store.ScopeAdmin, http.MethodPatch, "", `{"scrub_params":["voucher"],"keep_params":["session_keep"]}`); code != 200 ||
		fmt.Sprint(out["scrub_params"]) != "[voucher]" {
		t.Fatalf("set scrub_params: %d %v", code, out)
	}
	if code, out := s.call(t, store.ScopeAdmin, http.MethodPatch, "", `{"scrub_params":["a&b"]}`); code != 400 ||
		fmt.Sprint(out["error"]) == "" || !strings.Contains(fmt.Sprint(out), "invalid_scrub_param") || !strings.Contains(fmt.Sprint(out), "scrub_params[0]") {
		t.Errorf("a bad scrub_params: %d %v", code, out)
	}
	const secret = "QZX-secret-7731"
	page := fmt.Sprintf("https://app.example.com/checkout?q=shoes&password=%[1]s&voucher=%[1]s&session_keep=kept1&api_key=%[1]s", secret)
	if code, out := s.send(t, "/v1/batch", fmt.Sprintf(`{"batch":[
		{"type":"page","userId":"u1","properties":{"url":%[1]q,"path":"/checkout","search":"?email=%[2]s&q=shoes","referrer":"https://mail.example/?token=%[2]s"}},
		{"type":"track","userId":"u1","event":"$click","properties":{"selector":"#pay","viewport_width":1280},"context":{"page":{"url":%[1]q,"path":"/checkout"}}}]}`,
		page, secret)); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	ms := time.Now().UTC().Add(-time.Minute).UnixMilli()
	s.mustUpload(t, []byte(fmt.Sprintf(`{"recording":"rec-scrub","anonymousId":"a1","seq":0,"start":%d,"end":%d,
		"url":"%s/app?auth=%s","events":[{"type":4,"data":{"href":"%s/app?token=%s&tab=2","width":1280,"height":800},"timestamp":%d},
		{"type":5,"data":{"tag":"text","payload":{"text":"hello"}},"timestamp":%d}]}`,
		ms, ms+900, appOrigin, secret, appOrigin, secret, ms, ms+1)), false)

	_, ev := s.get(t, store.ScopeRead, "/users/u1/events")
	text := fmt.Sprint(ev)
	want := "https://app.example.com/checkout?q=shoes&password=&voucher=&session_keep=kept1&api_key="
	if strings.Contains(text, secret) || !strings.Contains(text, want) || !strings.Contains(text, "?email=&q=shoes") {
		t.Errorf("the events hold %s", text)
	}
	var pages struct {
		Pages []map[string]any `json:"pages"`
	}
	s.getJSON(t, "/heatmaps/pages", &pages)
	if len(pages.Pages) != 1 || pages.Pages[0]["clicks"] != 1.0 {
		t.Errorf("heatmap pages = %v", pages.Pages)
	}
	var m map[string]any
	s.getJSON(t, "/heatmaps?match=exact&page="+url.QueryEscape(want), &m)
	if m["total"] != 1.0 {
		t.Errorf("the click is not under its scrubbed URL: %v", m)
	}
	recs := s.list(t, "")
	if len(recs) != 1 || strings.Contains(fmt.Sprint(recs), secret) {
		t.Fatalf("recordings = %v", recs)
	}
	if blobs := s.storedBlobs(t); !bytes.Contains(blobs, []byte("/app?token=&tab=2")) || bytes.Contains(blobs, []byte(secret)) {
		t.Errorf("the recording's blob holds %s", blobs)
	}
	if found := filesHolding(t, s.data, secret); len(found) > 0 {
		t.Errorf("the secret is stored in %v", found)
	}
}
