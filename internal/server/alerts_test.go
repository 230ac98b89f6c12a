package server_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
)

// receiver is a local webhook endpoint that keeps what it is sent and
// fails the first `fail` requests with a 500.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []received
	fail int
}

type received struct {
	header http.Header
	body   []byte
	at     time.Time
	status int
}

func newReceiver(t *testing.T, fail int) *receiver {
	t.Helper()
	r := &receiver{fail: fail}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		status := http.StatusOK
		if r.fail > 0 {
			r.fail--
			status = http.StatusInternalServerError
		}
		r.got = append(r.got, received{header: req.Header.Clone(), body: body, at: time.Now(), status: status})
		r.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"status":%d}`, status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// verifyStandardWebhook checks a request as the Standard Webhooks 1.0
// specification says a receiver must, written here from the specification
// and sharing no code with the sender: the signed content is
// "{webhook-id}.{webhook-timestamp}.{body}", the key is the base64 after
// "whsec_", webhook-signature is a space-separated list of
// "v1,{base64 HMAC-SHA256}" of which one must match, and the timestamp
// must be within five minutes of now.
func verifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not integer seconds", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("webhook-timestamp %s is %s away from now", ts, d)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		return errors.New("secret lacks the whsec_ prefix")
	}
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := mac.Sum(nil)
	for _, part := range strings.Split(sigs, " ") {
		version, sig, ok := strings.Cut(part, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature of %q matches", sigs)
}

// callJSON sends a JSON request to a site's API path with a token of scope.
func (s *testServer) callJSON(t *testing.T, scope store.Scope, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+"/api/v1/sites/"+s.site+path, r)
	req.Header.Set("Authorization", "Bearer "+s.tokens[scope])
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, req)
}

// must wants a status from call.
func (s *testServer) must(t *testing.T, want int, scope store.Scope, method, path string, body any) map[string]any {
	t.Helper()
	status, out := s.callJSON(t, scope, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d %v, want %d", method, path, status, out, want)
	}
	return out
}

// alertServer is a server whose alerts may reach local receivers and
// retry after 50 ms.
func alertServer(t *testing.T, tune func(*config.Config)) *testServer {
	return startServer(t, func(c *config.Config) {
		c.Alerts = config.AlertsConfig{AllowHTTP: true, AllowPrivate: true, RetryBase: 50 * time.Millisecond, Poll: 100 * time.Millisecond}
		if tune != nil {
			tune(c)
		}
	})
}

// identify sends an identify call and wants it acknowledged.
func (s *testServer) identify(t *testing.T, user string, traits string) time.Time {
	t.Helper()
	status, out := s.send(t, "/v1/identify", fmt.Sprintf(`{"userId":%q,"traits":%s}`, user, traits))
	if status != 200 {
		t.Fatalf("identify %s: %d %v", user, status, out)
	}
	return time.Now()
}

// webhookRule creates a webhook destination to rcv and a segment.entered
// rule for segment text, and returns the destination's ID and secret.
func (s *testServer) webhookRule(t *testing.T, rcv *receiver, segText string, limit int) (string, string) {
	t.Helper()
	s.identify(t, "seed", `{"plan":"free"}`) // the catalog needs the attribute
	seg := s.must(t, http.StatusCreated, store.ScopeWrite, "POST", "/segments", map[string]any{"name": "Pro users", "text": segText})
	dst := s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/destinations",
		map[string]any{"name": "Receiver", "kind": "webhook", "url": rcv.srv.URL + "/hook"})
	secret, _ := dst["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("created destination shows no whsec_ secret: %v", dst)
	}
	s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/rules", map[string]any{
		"name": "Pro entered", "trigger": "segment.entered", "segment_id": seg["id"], "destination_id": dst["id"],
		"hourly_limit": limit, "enabled": true})
	return dst["id"].(string), secret
}

func waitRequests(t *testing.T, rcv *receiver, n int) []received {
	t.Helper()
	eventually(t, fmt.Sprintf("the receiver got %d requests", n), func() bool { return len(rcv.requests()) >= n })
	return rcv.requests()
}

// TestAlertWebhookRetriedWithOneID: a user entering a segment is announced
// to a webhook that fails three times and then succeeds: it gets the
// alert four times with one webhook-id and valid signatures, and once
// delivered, never again; a user already in the segment when the rule was
// made, and a member changing again, announce nothing.
func TestAlertWebhookRetriedWithOneID(t *testing.T) { forBackends(t, testAlertWebhookRetriedWithOneID) }

func testAlertWebhookRetriedWithOneID(t *testing.T) {
	s := alertServer(t, nil)
	s.identify(t, "before", `{"plan":"pro"}`)
	rcv := newReceiver(t, 3)
	dst, secret := s.webhookRule(t, rcv, `plan = "pro"`, 20)

	s.identify(t, "before", `{"plan":"pro","seats":3}`) // a member already: no alert
	s.identify(t, "free", `{"plan":"free"}`)            // not a member: no alert
	s.identify(t, "u1", `{"plan":"pro","name":"Ada"}`)
	got := waitRequests(t, rcv, 4)
	time.Sleep(700 * time.Millisecond) // retries would come within this
	got = rcv.requests()
	if len(got) != 4 {
		t.Fatalf("the receiver got %d requests, want 4 (3 failures, 1 success)", len(got))
	}
	id := got[0].header.Get("webhook-id")
	for i, r := range got {
		if r.header.Get("webhook-id") != id {
			t.Errorf("request %d has webhook-id %q, want %q on every attempt", i, r.header.Get("webhook-id"), id)
		}
		if err := verifyStandardWebhook(secret, r.header, r.body, time.Now()); err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	var ev struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			Segment struct{ Name string } `json:"segment"`
			User    struct {
				ID         string         `json:"id"`
				Attributes map[string]any `json:"attributes"`
				URL        string         `json:"url"`
			} `json:"user"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[3].body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "segment.entered" || ev.Data.User.ID != "u1" || ev.Data.Segment.Name != "Pro users" ||
		ev.Data.User.Attributes["plan"] != "pro" || !strings.Contains(ev.Data.User.URL, "/users/u1") || ev.Timestamp.IsZero() {
		t.Errorf("event %s", got[3].body)
	}
	// Tampering breaks the signature: the verifier is not a rubber stamp.
	if err := verifyStandardWebhook(secret, got[3].header, append(got[3].body, ' '), time.Now()); err == nil {
		t.Error("a changed body still verifies")
	}

	var log struct {
		Deliveries []struct {
			MessageID string  `json:"message_id"`
			Status    int     `json:"status"`
			OK        bool    `json:"ok"`
			Attempt   int     `json:"attempt"`
			LatencyMS float64 `json:"latency_ms"`
			Response  string  `json:"response"`
		} `json:"deliveries"`
	}
	s.getJSON(t, "/alerts/deliveries?destination="+dst, &log)
	if len(log.Deliveries) != 4 || !log.Deliveries[0].OK || log.Deliveries[0].Attempt != 4 || log.Deliveries[1].Status != 500 ||
		log.Deliveries[0].MessageID != id || !strings.Contains(log.Deliveries[1].Response, "500") {
		t.Errorf("delivery log %+v", log.Deliveries)
	}
	var dsts struct {
		Destinations []map[string]any `json:"destinations"`
	}
	s.getJSON(t, "/alerts/destinations", &dsts)
	if len(dsts.Destinations) != 1 || dsts.Destinations[0]["enabled"] != true || dsts.Destinations[0]["secret"] != nil {
		t.Errorf("destinations %v", dsts.Destinations)
	}
	if b, _ := json.Marshal(dsts); strings.Contains(string(b), secret[6:20]) {
		t.Error("the destination list shows the secret")
	}
}

// TestAlertLatency measures, for users entering a segment one after the
// other, the time from the identify call's acknowledgement to the
// delivery attempt reaching the receiver.
func TestAlertLatency(t *testing.T) {
	s := startServer(t, func(c *config.Config) {
		c.Alerts = config.AlertsConfig{AllowHTTP: true, AllowPrivate: true} // the default poll
	})
	rcv := newReceiver(t, 0)
	s.webhookRule(t, rcv, `plan = "pro"`, 1000)
	const n = 40
	acked := map[string]time.Time{}
	for i := range n {
		u := fmt.Sprintf("lat%d", i)
		acked[u] = s.identify(t, u, `{"plan":"pro"}`)
		time.Sleep(50 * time.Millisecond)
	}
	got := waitRequests(t, rcv, n)
	var lat []time.Duration
	for _, r := range got {
		var ev struct {
			Data struct{ User struct{ ID string } }
		}
		json.Unmarshal(r.body, &ev)
		if at, ok := acked[ev.Data.User.ID]; ok {
			lat = append(lat, r.at.Sub(at))
		}
	}
	if len(lat) != n {
		t.Fatalf("%d alerts for %d users", len(lat), n)
	}
	slices.Sort(lat)
	p50, p95, max := lat[n/2], lat[n*95/100], lat[n-1]
	t.Logf("acknowledgement → delivery attempt over %d alerts: p50 %s, p95 %s, max %s", n, p50, p95, max)
	if p95 > 5*time.Second {
		t.Errorf("p95 %s, want under 5 s", p95)
	}
}

// TestAlertHourlyLimitDigest: past its hourly limit a rule holds its
// alerts, and after the hour sends one digest listing them.
func TestAlertHourlyLimitDigest(t *testing.T) {
	var mu sync.Mutex
	offset := time.Duration(0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	s := alertServer(t, func(c *config.Config) { c.Now = clock })
	rcv := newReceiver(t, 0)
	s.webhookRule(t, rcv, `plan = "pro"`, 2)
	for i := range 5 {
		s.identify(t, fmt.Sprintf("d%d", i), `{"plan":"pro"}`)
	}
	waitRequests(t, rcv, 2)
	time.Sleep(time.Second)
	if n := len(rcv.requests()); n != 2 {
		t.Fatalf("%d alerts within the hour, want the limit, 2", n)
	}
	mu.Lock()
	offset = time.Hour
	mu.Unlock()
	got := waitRequests(t, rcv, 3)
	var ev struct {
		Type string
		Data struct {
			Digest struct {
				Count int
				Items []string
			}
		}
	}
	json.Unmarshal(got[2].body, &ev)
	if ev.Type != "alert.digest" || ev.Data.Digest.Count != 3 || len(ev.Data.Digest.Items) != 3 ||
		!strings.Contains(ev.Data.Digest.Items[0], "entered the segment") {
		t.Errorf("digest %s", got[2].body)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(rcv.requests()); n != 3 {
		t.Errorf("%d requests, want 2 alerts and 1 digest", n)
	}
}

// TestAlertSlackBlockKit: a new recording of a segment's user reaches a
// Slack-shaped receiver as a Block Kit message with who, what, and
// buttons to the recording and the profile.
func TestAlertSlackBlockKit(t *testing.T) {
	s := startRecServer(t, func(c *config.Config) {
		c.Alerts = config.AlertsConfig{AllowHTTP: true, AllowPrivate: true, RetryBase: 50 * time.Millisecond}
		c.PublicURL = "https://sightline.example.com"
	})
	rcv := newReceiver(t, 0)
	s.identify(t, "u_other", `{"plan":"free"}`)
	seg := s.must(t, http.StatusCreated, store.ScopeWrite, "POST", "/segments", map[string]any{"name": "Rage clickers", "text": `plan = "pro"`})
	dst := s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/destinations",
		map[string]any{"name": "#product", "kind": "slack", "url": rcv.srv.URL + "/services/T000/B000/XXXX"})
	if dst["secret"] != nil || strings.Contains(fmt.Sprint(dst["url"]), "XXXX") {
		t.Errorf("a Slack destination shows its URL: %v", dst)
	}
	s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/rules", map[string]any{
		"name": "Rage recordings", "trigger": "recording.new", "segment_id": seg["id"], "destination_id": dst["id"], "enabled": true})
	status, _ := s.send(t, "/v1/identify", `{"userId":"u_slack","anonymousId":"anon-s","traits":{"plan":"pro","email":"ada@example.com"}}`)
	if status != 200 {
		t.Fatal(status)
	}
	start := time.Now().Add(-time.Minute)
	s.mustUpload(t, chunk("r-other", "anon-o", 0, start), false) // an unknown visitor: not in the segment
	s.mustUpload(t, chunk("r-slack", "anon-s", 0, start), false)
	s.mustUpload(t, chunk("r-slack", "anon-s", 1, start), false) // a second chunk announces nothing more
	got := waitRequests(t, rcv, 1)
	time.Sleep(700 * time.Millisecond)
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("%d Slack messages, want 1", n)
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
			Fields []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"fields"`
			Elements []map[string]any `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(got[0].body, &msg); err != nil {
		t.Fatalf("%v: %s", err, got[0].body)
	}
	if got[0].header.Get("webhook-signature") != "" {
		t.Error("a Slack message carries a webhook signature")
	}
	types := []string{}
	var buttons []map[string]any
	var text strings.Builder
	for _, b := range msg.Blocks {
		types = append(types, b.Type)
		if b.Text != nil {
			text.WriteString(b.Text.Text + "\n")
		}
		for _, f := range b.Fields {
			if f.Type != "mrkdwn" {
				t.Errorf("field of type %q", f.Type)
			}
			text.WriteString(f.Text + "\n")
		}
		if b.Type == "actions" {
			buttons = b.Elements
		}
	}
	all := text.String()
	if types[0] != "header" || !slices.Contains(types, "actions") || !slices.Contains(types, "context") ||
		!strings.Contains(msg.Text, "New recording of u_slack") || !strings.Contains(all, "Rage clickers") ||
		!strings.Contains(all, "*plan*\npro") || !strings.Contains(all, "ada@example.com") {
		t.Errorf("Block Kit message %s", got[0].body)
	}
	var urls []string
	for _, b := range buttons {
		if b["type"] != "button" {
			t.Errorf("action %v", b)
		}
		urls = append(urls, fmt.Sprint(b["url"]))
	}
	if len(urls) != 2 || !strings.HasPrefix(urls[0], "https://sightline.example.com/s/"+s.site+"/recordings/rec_") ||
		urls[1] != "https://sightline.example.com/s/"+s.site+"/users/u_slack" {
		t.Errorf("buttons %v", urls)
	}

	// A visitor who enters the segment during the recording (the guide's
	// rage click) is announced with the next chunk, once.
	if status, _ := s.send(t, "/v1/identify", `{"userId":"u_later","anonymousId":"anon-l","traits":{"plan":"free"}}`); status != 200 {
		t.Fatal(status)
	}
	s.mustUpload(t, chunk("r-later", "anon-l", 0, start), false)
	time.Sleep(700 * time.Millisecond)
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("%d Slack messages before u_later is in the segment, want 1", n)
	}
	s.identify(t, "u_later", `{"plan":"pro"}`)
	s.mustUpload(t, chunk("r-later", "anon-l", 1, start), false)
	s.mustUpload(t, chunk("r-later", "anon-l", 2, start), false)
	got = waitRequests(t, rcv, 2)
	time.Sleep(700 * time.Millisecond)
	if got = rcv.requests(); len(got) != 2 || !strings.Contains(string(got[1].body), "New recording of u_later") {
		t.Errorf("%d Slack messages; the last %s", len(got), got[len(got)-1].body)
	}
}

// TestAlertDestinationSafety: URLs must be https and public unless the
// administrator allows otherwise, and a name that resolves to a loopback
// address is refused when connecting.
func TestAlertDestinationSafety(t *testing.T) {
	s := startServer(t, nil)
	rcv := newReceiver(t, 0)
	for _, tc := range []struct{ url, want string }{
		{rcv.srv.URL + "/hook", "must be https"},
		{"https://127.0.0.1/hook", "loopback, private or link-local"},
		{"https://169.254.169.254/latest/meta-data", "loopback, private or link-local"},
		{"https://[::1]/hook", "loopback, private or link-local"},
		{"https://user:pw@example.com/hook", "user name"},
		{"ftp://example.com/", "https"},
	} {
		status, out := s.callJSON(t, store.ScopeAdmin, "POST", "/alerts/destinations", map[string]any{"name": "x", "kind": "webhook", "url": tc.url})
		e, _ := out["error"].(map[string]any)
		if status != 400 || e["code"] != "invalid_url" || e["field"] != "url" || !strings.Contains(fmt.Sprint(e["message"]), tc.want) {
			t.Errorf("%s: %d %v", tc.url, status, out)
		}
	}
	if status, out := s.callJSON(t, store.ScopeAdmin, "POST", "/alerts/destinations",
		map[string]any{"name": "x", "kind": "slack", "url": "https://example.com/services/x"}); status != 400 {
		t.Errorf("a Slack destination off hooks.slack.com: %d %v", status, out)
	}
	if status, _ := s.callJSON(t, store.ScopeRead, "POST", "/alerts/destinations",
		map[string]any{"name": "x", "kind": "webhook", "url": "https://example.com/"}); status != http.StatusForbidden {
		t.Errorf("a read token creates a destination: %d", status)
	}
	// "localhost" passes the URL check (it is a name) and is refused when
	// dialled: the check is on the resolved address.
	port := rcv.srv.URL[strings.LastIndex(rcv.srv.URL, ":")+1:]
	dst := s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/destinations",
		map[string]any{"name": "local", "kind": "webhook", "url": "https://localhost:" + port + "/hook"})
	res := s.must(t, http.StatusOK, store.ScopeAdmin, "POST", "/alerts/destinations/"+dst["id"].(string)+"/test", nil)
	if res["ok"] != false || !strings.Contains(fmt.Sprint(res["error"]), "not allowed") {
		t.Errorf("test send to localhost: %v", res)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("the loopback receiver got %d requests", n)
	}
}

// TestAlertTestSendRotationAndReenable: test-send reaches the receiver
// signed; after a rotation both secrets verify during the overlap; a
// destination failing in a row is disabled, and re-enabling it sends what
// waited.
func TestAlertTestSendRotationAndReenable(t *testing.T) {
	s := alertServer(t, nil)
	rcv := newReceiver(t, 0)
	dst, secret := s.webhookRule(t, rcv, `plan = "pro"`, 100)
	res := s.must(t, http.StatusOK, store.ScopeAdmin, "POST", "/alerts/destinations/"+dst+"/test", nil)
	if res["ok"] != true || res["status"] != float64(200) {
		t.Fatalf("test send: %v", res)
	}
	got := rcv.requests()
	if len(got) != 1 || verifyStandardWebhook(secret, got[0].header, got[0].body, time.Now()) != nil ||
		!strings.Contains(string(got[0].body), `"type":"alert.test"`) {
		t.Fatalf("test message %v", got)
	}
	rot := s.must(t, http.StatusOK, store.ScopeAdmin, "POST", "/alerts/destinations/"+dst+"/rotate-secret", map[string]any{"overlap_hours": 1})
	next, _ := rot["secret"].(string)
	if next == "" || next == secret {
		t.Fatalf("rotation: %v", rot)
	}
	s.must(t, http.StatusOK, store.ScopeAdmin, "POST", "/alerts/destinations/"+dst+"/test", nil)
	got = rcv.requests()
	last := got[len(got)-1]
	if n := len(strings.Fields(last.header.Get("webhook-signature"))); n != 2 {
		t.Errorf("%d signatures during the overlap, want 2", n)
	}
	for _, sec := range []string{secret, next} {
		if err := verifyStandardWebhook(sec, last.header, last.body, time.Now()); err != nil {
			t.Errorf("during the overlap: %v", err)
		}
	}

	// Ten failures in a row disable the destination.
	rcv.mu.Lock()
	rcv.fail = 1000
	rcv.mu.Unlock()
	for i := range 3 {
		s.identify(t, fmt.Sprintf("f%d", i), `{"plan":"pro"}`)
	}
	eventually(t, "the destination is disabled", func() bool {
		var out struct{ Destinations []map[string]any }
		s.getJSON(t, "/alerts/destinations", &out)
		return out.Destinations[0]["enabled"] == false && out.Destinations[0]["disabled"] != nil
	})
	before := len(rcv.requests())
	time.Sleep(time.Second)
	if n := len(rcv.requests()); n != before {
		t.Errorf("a disabled destination got %d more requests", n-before)
	}
	rcv.mu.Lock()
	rcv.fail = 0
	rcv.mu.Unlock()
	s.must(t, http.StatusOK, store.ScopeAdmin, "POST", "/alerts/destinations/"+dst+"/enable", nil)
	eventually(t, "the three alerts delivered after re-enabling", func() bool {
		users := map[string]bool{}
		for _, r := range rcv.requests() {
			if r.status == 200 && strings.Contains(string(r.body), "segment.entered") {
				var ev struct {
					Data struct{ User struct{ ID string } }
				}
				json.Unmarshal(r.body, &ev)
				users[ev.Data.User.ID] = true
			}
		}
		return len(users) == 3
	})
}

// TestAlertSurveyAndFeedbackTriggers: a completed detractor response with
// a given answer, and feedback rated at or below the rule's maximum, are
// announced; partial responses, promoters and good ratings are not.
func TestAlertSurveyAndFeedbackTriggers(t *testing.T) {
	forBackends(t, testAlertSurveyAndFeedbackTriggers)
}

func testAlertSurveyAndFeedbackTriggers(t *testing.T) {
	s := alertServer(t, nil)
	rcv := newReceiver(t, 0)
	dst := s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/destinations",
		map[string]any{"name": "Receiver", "kind": "webhook", "url": rcv.srv.URL})
	sv := s.createSurvey(t, npsSurvey(`{}`), true)
	s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/rules", map[string]any{
		"name": "Detractors on price", "trigger": "survey.response", "destination_id": dst["id"], "enabled": true,
		"survey": map[string]any{"survey_id": sv, "nps": "detractor", "question_id": "why", "answer": "Price"}})
	s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/rules", map[string]any{
		"name": "Bad feedback", "trigger": "feedback.new", "destination_id": dst["id"], "enabled": true, "max_rating": 2})
	if status, out := s.callJSON(t, store.ScopeAdmin, "POST", "/alerts/rules", map[string]any{
		"name": "x", "trigger": "feedback.new", "destination_id": dst["id"], "max_rating": 9}); status != 400 || errorCode(out) != "invalid_max_rating" {
		t.Errorf("max_rating 9: %d %v", status, out)
	}
	s.must(t, http.StatusOK, store.ScopeAdmin, "PUT", "/feedback-settings", map[string]any{"enabled": true})

	answer := func(resp, user string, answers string, completed bool) {
		t.Helper()
		if code, e := s.answer(t, s.writeKey, fmt.Sprintf(`{"survey":%q,"response":%q,"anonymousId":"anon-%s","userId":%q,
			"url":"https://app.example.com/","answers":%s,"completed":%v}`, sv, resp, user, user, answers, completed)); code != 200 {
			t.Fatalf("answer: %d %s", code, e)
		}
	}
	answer("response-r1", "ann", `{"score":3}`, false)              // partial: not yet
	answer("response-r2", "bob", `{"score":9}`, true)               // a promoter
	answer("response-r3", "cy", `{"score":2,"why":"Speed"}`, true)  // another answer
	answer("response-r1", "ann", `{"score":3,"why":"Price"}`, true) // completed: announced
	for _, f := range []struct {
		user   string
		rating int
	}{{"dee", 4}, {"eve", 1}} {
		body := fmt.Sprintf(`{"anonymousId":"anon-%s","userId":%q,"sessionId":"s","url":"https://app.example.com/pricing","rating":%d,"comment":"too <b>dear</b>"}`,
			f.user, f.user, f.rating)
		if code, out := s.tracker(t, s.writeKey, "POST", "/t/feedback", nil, body); code != 200 {
			t.Fatalf("feedback: %d %v", code, out)
		}
	}
	got := waitRequests(t, rcv, 2)
	time.Sleep(time.Second)
	got = rcv.requests()
	types := map[string]string{}
	for _, r := range got {
		var ev struct {
			Type string
			Data struct {
				User     struct{ ID string }
				Response *struct {
					NPS     int            `json:"nps"`
					Answers map[string]any `json:"answers"`
				}
				Feedback *struct{ Rating int }
			}
		}
		json.Unmarshal(r.body, &ev)
		types[ev.Type] = ev.Data.User.ID
		switch ev.Type {
		case "survey.response":
			if ev.Data.Response == nil || ev.Data.Response.NPS != 3 || ev.Data.Response.Answers["why"] != "Price" {
				t.Errorf("response event %s", r.body)
			}
		case "feedback.new":
			if ev.Data.Feedback == nil || ev.Data.Feedback.Rating != 1 {
				t.Errorf("feedback event %s", r.body)
			}
		}
	}
	if len(got) != 2 || types["survey.response"] != "ann" || types["feedback.new"] != "eve" {
		t.Errorf("alerts %v (%d requests)", types, len(got))
	}
}
