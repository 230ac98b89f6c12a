package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/store"
)

var (
	ingestDuration = flag.Duration("ingest.duration", 4*time.Second,
		"how long TestHostileIngestion generates requests (make fuzz sets minutes)")
	ingestSeed = flag.Uint64("ingest.seed", 0, "seed of TestHostileIngestion (0: a new one, logged)")
)

// TestHostileIngestion sends generated requests to every ingestion
// endpoint: valid messages with hostile values put in random fields (text
// that is not UTF-8, unpaired surrogates, numbers beyond float64, deep
// nesting, strings cut at a limit inside a character, odd timestamps and
// types), and bodies that are broken as a whole. It checks what the
// server promises for any input: every answer is 2xx or a 4xx (429 and
// 503 with Retry-After) with an error code, never another 5xx and never a
// hang; every acknowledged message is readable exactly once; reads answer
// within their bound; nothing lands in the quarantine (ingestion refused
// what the database would); and a restart replays to the same state.
func TestHostileIngestion(t *testing.T) {
	seed := *ingestSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -ingest.seed=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 7))
	data := t.TempDir()
	h := startHostile(t, data)
	g := &hostile{r: r, h: h, acked: map[string]bool{}, idents: map[string]bool{},
		sent: map[string][]byte{}}
	for _, id := range hostileIDs {
		g.idents[id] = true
	}
	g.setUp(t)
	deadline := time.Now().Add(*ingestDuration)
	for time.Now().Before(deadline) {
		g.one(t)
	}
	t.Logf("%d requests: %d answered 2xx, %d refused (4xx); %d messages acknowledged; codes %v",
		g.requests, g.ok, g.refused, len(g.acked), g.codes)
	if len(g.acked) == 0 || g.refused == 0 {
		t.Fatalf("the generator made no valid or no invalid request: %d acknowledged, %d refused", len(g.acked), g.refused)
	}
	before := g.state(t)
	g.checkAcked(t, before)
	if q := g.quarantined(t); q != 0 {
		t.Errorf("%d messages in the quarantine: ingestion let through what the database refuses", q)
	}
	h.stop(t)
	g.h = startHostile(t, data)
	after := g.state(t)
	if !stateEqual(before, after) {
		t.Errorf("the state after a restart differs: %d identities before, %d after", len(before), len(after))
	}
}

// hostileServer is a server on a data folder that survives restarts.
type hostileServer struct {
	*testServer
	cancel context.CancelFunc
	done   chan error
}

func startHostile(t *testing.T, data string) *hostileServer {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = data
	cfg.Addr = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	cfg.MetricsAddr = "127.0.0.1:0"
	ready := make(chan server.Addrs, 1)
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	var addr string
	select {
	case a := <-ready:
		addr = a.HTTP
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	}
	h := &hostileServer{testServer: &testServer{base: "http://" + addr}, cancel: cancel, done: done}
	t.Cleanup(func() { h.stop(t) })
	ac, err := admin.Dial(cfg.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	h.admin = ac
	return h
}

func (h *hostileServer) stop(t *testing.T) {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	if err := <-h.done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// hostile generates requests and keeps what the server acknowledged.
type hostile struct {
	r        *rand.Rand
	h        *hostileServer
	site     string
	key      string
	token    string
	survey   string
	n        int
	requests int
	ok       int
	refused  int
	codes    map[string]int
	acked    map[string]bool   // message IDs
	idents   map[string]bool   // every userId and anonymousId sent, to read them back
	sent     map[string][]byte // message ID → the message as sent, for reports
}

func (g *hostile) setUp(t *testing.T) {
	ctx := context.Background()
	site, err := g.h.admin.CreateSite(ctx, "Hostile", []string{pageOrigin})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := g.h.admin.CreateToken(ctx, site.ID, store.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	g.site, g.key, g.token, g.codes = site.ID, site.WriteKey, tok.Token, map[string]int{}
	s := g.h.testServer
	s.site, s.writeKey, s.tokens = site.ID, site.WriteKey, map[store.Scope]string{store.ScopeRead: tok.Token, store.ScopeWrite: tok.Token, store.ScopeAdmin: tok.Token}
	g.survey = s.createSurvey(t, npsSurvey(`{}`), true)
	if code, out := s.call(t, store.ScopeAdmin, "PUT", "/feedback-settings", `{"enabled":true}`); code != 200 {
		t.Fatalf("enable feedback: %d %v", code, out)
	}
}

// ids are the few users and visitors the messages are about, so that
// reads can find every acknowledged message.
var hostileIDs = []string{"u1", "u2", "u3", "a1", "a2", "a3"}

// hostileValues are raw JSON texts that some part of Sightline once
// mishandled, or that a broken or hostile client sends.
var hostileValues = []string{
	"\"\xc3\"", "\"a\xffb\"", "\"\xed\xa0\x80\"", `"\ud800"`, `"\udc00x"`, `"\ud83d"`, `"ok\ud83d\ude00"`,
	`1e400`, `-1e309`, `1e-400`, `123456789012345678901234567890`, `-0`, `null`, `true`, `[]`, `{}`,
	`"` + strings.Repeat("a", 34) + `é"`, `"` + strings.Repeat("a", 63) + `€"`, `"` + strings.Repeat("é", 200) + `"`,
	`"` + strings.Repeat("x", 5000) + `"`, `"\u0000\u0007"`, `"0000-01-01T00:00:00Z"`, `"0001-01-01T00:00:00Z"`,
	`"1900-01-01T00:00:00Z"`, `"9999-12-31T23:59:59Z"`, `"2026-13-45"`, `"not a date"`,
	strings.Repeat("[", 40) + strings.Repeat("]", 40), strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40),
	`{"nested":{"deeper":{"k":"v"}}}`, `["a",1,null]`, `12`, `"plain"`, `""`,
}

// hostileKeys are raw JSON object keys.
var hostileKeys = []string{"\"k\xc3\"", `"\ud800"`, `""`, `"` + strings.Repeat("k", 300) + `"`, `"a.b"`, `"$set"`, `"plan"`}

// message returns a valid message of a random kind as a map, and its ID.
func (g *hostile) message() (map[string]any, string) {
	g.n++
	id := fmt.Sprintf("hm-%d", g.n)
	who := hostileIDs[g.r.IntN(len(hostileIDs))]
	m := map[string]any{"messageId": id, "timestamp": time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano),
		"context": map[string]any{"locale": "en-US", "timezone": "Europe/Oslo", "userAgent": "Mozilla/5.0",
			"page":     map[string]any{"url": "https://app.example.com/p?utm_source=x", "title": "P"},
			"campaign": map[string]any{"name": "c", "source": "s"}}}
	if who[0] == 'u' {
		m["userId"] = who
	} else {
		m["anonymousId"] = who
	}
	switch g.r.IntN(6) {
	case 0:
		m["type"], m["traits"] = "identify", map[string]any{"plan": "pro", "ltv": 42, "address": map[string]any{"city": "Oslo"}}
	case 1:
		m["type"], m["groupId"], m["traits"] = "group", "g1", map[string]any{"industry": "retail"}
	case 2:
		m["type"], m["name"], m["properties"] = "page", "Home", map[string]any{"path": "/p"}
	case 3:
		m["type"], m["userId"], m["previousId"] = "alias", "u1", who
	default:
		m["type"], m["event"], m["properties"] = "track", "Export", map[string]any{"format": "csv", "n": 3}
	}
	return m, id
}

// spoil puts hostile values in random fields of m: a marker string is set
// and replaced in the JSON text by the raw value, so that bytes that are
// not UTF-8 reach the server as sent.
func (g *hostile) spoil(m map[string]any) (raws map[string]string) {
	raws = map[string]string{}
	for i := range 1 + g.r.IntN(3) {
		marker := fmt.Sprintf("@@v%d@@", i)
		raws[`"`+marker+`"`] = hostileValues[g.r.IntN(len(hostileValues))]
		target := m
		for _, k := range []string{"context", "properties", "traits"} {
			if sub, ok := m[k].(map[string]any); ok && g.r.IntN(3) == 0 {
				target = sub
				if p, ok := sub["page"].(map[string]any); ok && g.r.IntN(2) == 0 {
					target = p
				}
				break
			}
		}
		keys := make([]string, 0, len(target))
		for k := range target {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if g.r.IntN(4) == 0 || len(keys) == 0 {
			km := fmt.Sprintf("@@k%d@@", i)
			raws[`"`+km+`"`] = hostileKeys[g.r.IntN(len(hostileKeys))]
			target[km] = marker
		} else {
			target[keys[g.r.IntN(len(keys))]] = marker
		}
	}
	return raws
}

func render(v any, raws map[string]string) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	for marker, raw := range raws {
		b = bytes.ReplaceAll(b, []byte(marker), []byte(raw))
	}
	return b
}

// brokenBodies are whole bodies that are not what any endpoint takes.
var brokenBodies = []string{"", `{"`, `{"a`, `{"\u12`, "null", "{}", "[]", `{"batch":null}`, `{"batch":{}}`, `{"batch":[]}`, `{"batch":[null,1,"x"]}`,
	"\xff\xfe", `{"batch":[{"type":"track"`, strings.Repeat("[", 20000), `{"a":` + strings.Repeat("[", 20000),
	`{"batch":[` + strings.Repeat(`{"type":"nope"},`, 50) + `{}]}`, "\x1f\x8b\x08\x00garbage"}

// one sends one generated request and checks the answer.
func (g *hostile) one(t *testing.T) {
	var (
		path, method = "", http.MethodPost
		body         []byte
		ids          []string // message IDs, in batch order
		tracker      bool
	)
	spoilt := g.r.IntN(3) > 0
	msg := func() []byte {
		m, id := g.message()
		ids = append(ids, id)
		var raws map[string]string
		if spoilt && g.r.IntN(2) == 0 {
			raws = g.spoil(m)
		}
		b := render(m, raws)
		if !g.noteIdents(b, id) {
			ids[len(ids)-1] = "" // its messageId was spoilt: not tracked
		}
		g.sent[id] = b
		return b
	}
	switch g.r.IntN(10) {
	case 0, 1, 2:
		path = "/v1/" + []string{"batch", "import"}[g.r.IntN(2)]
		var parts [][]byte
		for range 1 + g.r.IntN(8) {
			parts = append(parts, msg())
		}
		body = []byte(`{"batch":[` + string(bytes.Join(parts, []byte(","))) + `],"sentAt":"` +
			time.Now().UTC().Format(time.RFC3339Nano) + `"}`)
	case 3, 4:
		one := msg()
		var m map[string]any
		_ = json.Unmarshal(one, &m)
		kind, _ := m["type"].(string)
		if kind == "" {
			kind = "track"
		}
		path, body = "/v1/"+url.PathEscape(kind), one
	case 5, 6:
		tracker = true
		path = "/t/batch"
		body = []byte(`{"batch":[` + string(msg()) + `,` + string(msg()) + `]}`)
	case 7:
		tracker, ids = true, nil
		path = "/t/rec"
		c := map[string]any{"recording": fmt.Sprintf("r%d", g.r.IntN(5)), "anonymousId": "a1", "seq": g.r.IntN(4),
			"start": time.Now().UnixMilli() - 2000, "end": time.Now().UnixMilli() - 1000, "url": "https://app.example.com/p",
			"events": []any{map[string]any{"type": 4, "timestamp": time.Now().UnixMilli() - 1500,
				"data": map[string]any{"href": "https://app.example.com/p", "width": 800, "height": 600}}}}
		var raws map[string]string
		if spoilt {
			raws = g.spoil(c)
		}
		body = render(c, raws)
	case 8:
		tracker, ids = true, nil
		path = "/t/survey"
		a := map[string]any{"survey": g.survey, "response": fmt.Sprintf("resp-%d", g.n), "anonymousId": "a2",
			"url": "https://app.example.com/p", "answers": map[string]any{"score": g.r.IntN(11)}, "completed": false}
		g.n++
		var raws map[string]string
		if spoilt {
			raws = g.spoil(a)
		}
		body = render(a, raws)
	default:
		tracker, ids = true, nil
		path = "/t/feedback"
		f := map[string]any{"anonymousId": "a3", "url": "https://app.example.com/p", "rating": 1 + g.r.IntN(5),
			"comment": "fine", "selector": "#x"}
		var raws map[string]string
		if spoilt {
			raws = g.spoil(f)
		}
		body = render(f, raws)
	}
	if g.r.IntN(12) == 0 {
		body, ids = []byte(brokenBodies[g.r.IntN(len(brokenBodies))]), nil
	}
	u := g.h.base + path
	if tracker {
		u += "?" + url.Values{"k": {g.key}}.Encode()
	}
	gz := g.r.IntN(6) == 0
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
		if path == "/t/rec" {
			u += "&z=gzip"
		}
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("make request %s %s: %v", method, u, err)
	}
	if gz && path != "/t/rec" {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if tracker {
		req.Header.Set("Origin", pageOrigin)
		req.Header.Set("Content-Type", "text/plain")
	} else {
		req.SetBasicAuth(g.key, "")
	}
	g.requests++
	code, out := g.send(t, req)
	switch {
	case code >= 200 && code < 300:
		g.ok++
		g.ack(ids, out)
	case code >= 400 && code < 500 || code == 503:
		g.refused++
		errCode := errorCode(out)
		g.codes[errCode]++
		if errCode == "" {
			t.Fatalf("POST %s answered %d without an error code: %v\nbody: %q", path, code, out, trim(body))
		}
		if code == 503 {
			t.Fatalf("POST %s answered 503 %s on an idle server: %v", path, errCode, out)
		}
	default:
		t.Fatalf("POST %s answered %d: %v\nbody: %q", path, code, out, trim(body))
	}
}

func trim(b []byte) []byte {
	if len(b) > 600 {
		return b[:600]
	}
	return b
}

// send does req with a deadline: a hang is a failure.
func (g *hostile) send(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	if out == nil {
		out = map[string]any{"text": string(b)}
	}
	return resp.StatusCode, out
}

// noteIdents remembers the identities a message names, as the server will
// read them, when a spoilt value has replaced one, and reports whether the
// message still has its ID.
func (g *hostile) noteIdents(msg []byte, id string) bool {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return true // refused whole
	}
	for _, k := range []string{"userId", "anonymousId"} {
		switch v := m[k].(type) {
		case string:
			if v = strings.TrimSpace(v); v != "" && !strings.ContainsAny(v, "/?#") {
				g.idents[v] = true
			}
		case json.Number:
			g.idents[v.String()] = true
		}
	}
	return m["messageId"] == id
}

// ack records the messages of ids that an ingestion answer accepted.
func (g *hostile) ack(ids []string, out map[string]any) {
	if len(ids) == 0 {
		return
	}
	rejected := map[int]bool{}
	rs, _ := out["rejected"].([]any)
	for _, x := range rs {
		if m, ok := x.(map[string]any); ok {
			i, _ := m["index"].(float64)
			rejected[int(i)] = true
		}
	}
	for i, id := range ids {
		if !rejected[i] && id != "" {
			g.acked[id] = true
		}
	}
}

// state reads every event of every known identity through the API, with
// each read timed: message IDs by identity, sorted.
func (g *hostile) state(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for ident := range g.idents {
		for _, kind := range []string{"user", "anonymous"} {
			id := kind + ":" + ident
			out[id] = g.events(t, kind, ident)
		}
	}
	return out
}

// events reads the message IDs of an identity's events, sorted.
func (g *hostile) events(t *testing.T, kind, ident string) []string {
	t.Helper()
	var out []string
	{
		var before string
		for {
			q := "/users/" + url.PathEscape(ident) + "/events?limit=1000&kind=" + kind
			if before != "" {
				q += "&before=" + url.QueryEscape(before)
			}
			req, _ := http.NewRequest(http.MethodGet, g.h.base+"/api/v1/sites/"+g.site+q, nil)
			req.Header.Set("Authorization", "Bearer "+g.token)
			start := time.Now()
			code, body := g.send(t, req)
			if took := time.Since(start); took > 6*time.Second {
				t.Errorf("GET %s took %s", q, took)
			}
			if code == 404 {
				break
			}
			if code != 200 {
				t.Fatalf("GET %s: %d %v", q, code, body)
			}
			evs, _ := body["events"].([]any)
			for _, e := range evs {
				m, _ := e.(map[string]any)
				mid, _ := m["message_id"].(string)
				out = append(out, mid)
			}
			next, _ := body["next_before"].(string)
			if next == "" || len(evs) == 0 {
				break
			}
			before = next
		}
	}
	slices.Sort(out)
	return out
}

// checkAcked wants every acknowledged message in the state, once per
// identity that reads it.
func (g *hostile) checkAcked(t *testing.T, state map[string][]string) {
	t.Helper()
	seen := map[string]bool{}
	for id, mids := range state {
		for i, mid := range mids {
			if i > 0 && mids[i-1] == mid {
				t.Errorf("message %s appears twice in the events of %s", mid, id)
			}
			seen[mid] = true
		}
	}
	lost := 0
	for mid := range g.acked {
		if !seen[mid] {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged message %s is not readable: %q", mid, trim(g.sent[mid]))
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged messages lost", lost, len(g.acked))
	}
}

func (g *hostile) quarantined(t *testing.T) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.h.base+"/api/v1/sites/"+g.site+"/quarantine", nil)
	req.Header.Set("Authorization", "Bearer "+g.token)
	code, out := g.send(t, req)
	if code != 200 {
		t.Fatalf("GET /quarantine: %d %v", code, out)
	}
	ms, _ := out["messages"].([]any)
	return len(ms)
}

func stateEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
