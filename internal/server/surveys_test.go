package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
)

const pageOrigin = "https://app.example.com"

// clock is a settable clock for the server's survey frequency windows.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startSurveyServer starts a server whose survey clock the test moves.
func startSurveyServer(t *testing.T) (*testServer, *clock) {
	t.Helper()
	c := &clock{t: time.Now().UTC()}
	s := startServer(t, func(cfg *config.Config) { cfg.Now = c.now })
	return s, c
}

// tracker calls a tracker endpoint as a page on the site's origin would,
// with the given write key.
func (s *testServer) tracker(t *testing.T, key, method, path string, query url.Values, body string) (int, any) {
	t.Helper()
	if query == nil {
		query = url.Values{}
	}
	query.Set("k", key)
	req, _ := http.NewRequest(method, s.base+path+"?"+query.Encode(), strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", pageOrigin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if acao := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode < 400 && acao != pageOrigin {
		t.Fatalf("%s %s: Access-Control-Allow-Origin %q", method, path, acao)
	}
	b, _ := io.ReadAll(resp.Body)
	var out any
	if json.Unmarshal(b, &out) != nil {
		out = string(b)
	}
	return resp.StatusCode, out
}

// offered returns the IDs of the surveys a visitor is offered on a page.
func (s *testServer) offered(t *testing.T, anon, user, page string) []string {
	t.Helper()
	code, body := s.tracker(t, s.writeKey, "GET", "/t/surveys", url.Values{"a": {anon}, "u": {user}, "url": {page}, "device": {"desktop"}}, "")
	list, ok := body.([]any)
	if code != 200 || !ok {
		t.Fatalf("offers: %d %v", code, body)
	}
	ids := []string{}
	for _, o := range list {
		m := o.(map[string]any)
		if _, leaked := m["targeting"]; leaked {
			t.Fatalf("an offer shows its targeting: %v", m)
		}
		ids = append(ids, m["id"].(string))
	}
	return ids
}

// answer posts a response and returns the status and error code.
func (s *testServer) answer(t *testing.T, key, body string) (int, string) {
	t.Helper()
	code, out := s.tracker(t, key, "POST", "/t/survey", nil, body)
	m, _ := out.(map[string]any)
	return code, errorCode(m)
}

// createSurvey creates a survey with a write token and makes it live.
func (s *testServer) createSurvey(t *testing.T, def string, live bool) string {
	t.Helper()
	code, body := s.call(t, store.ScopeWrite, "POST", "/surveys", def)
	if code != 201 {
		t.Fatalf("create survey: %d %v", code, body)
	}
	id := body["id"].(string)
	if live {
		if code, body := s.call(t, store.ScopeWrite, "POST", "/surveys/"+id+"/status", `{"status":"live"}`); code != 200 {
			t.Fatalf("make live: %d %v", code, body)
		}
	}
	return id
}

// npsSurvey is an NPS survey asking detractors why.
func npsSurvey(targeting string) string {
	return `{"name": "NPS", "questions": [
		{"id": "score", "type": "nps", "prompt": "How likely are you to recommend us?", "required": true,
		 "branching": [{"if": {"question": "score", "op": "gte", "value": 7}, "goto": "end"}]},
		{"id": "why", "type": "single_choice", "prompt": "What went wrong?", "options": ["Speed", "Price", "Bugs"], "required": true},
		{"id": "more", "type": "text", "prompt": "Anything else?"}],
		"targeting": ` + targeting + `}`
}

// behaviour stores users: exporters did "export" three times, the others
// only signed up.
func (s *testServer) behaviour(t *testing.T, exporters, others []string) {
	t.Helper()
	var batch []string
	for _, u := range append(append([]string{}, exporters...), others...) {
		batch = append(batch, fmt.Sprintf(`{"type":"identify","userId":%q,"anonymousId":"anon-%s","traits":{"plan":"pro"}}`, u, u))
	}
	for _, u := range exporters {
		for range 3 {
			batch = append(batch, fmt.Sprintf(`{"type":"track","userId":%q,"event":"export"}`, u))
		}
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
}

// saveSegment saves a segment and returns its ID.
func (s *testServer) saveSegment(t *testing.T, name, text string) string {
	t.Helper()
	code, body := s.call(t, store.ScopeWrite, "POST", "/segments", fmt.Sprintf(`{"name":%q,"text":%q}`, name, text))
	if code != 201 {
		t.Fatalf("save segment: %d %v", code, body)
	}
	return body["id"].(string)
}

func TestSurveyTargetingAndDismissal(t *testing.T) { forBackends(t, testSurveyTargetingAndDismissal) }

func testSurveyTargetingAndDismissal(t *testing.T) {
	s, clk := startSurveyServer(t)
	s.behaviour(t, []string{"ann"}, []string{"bob"})
	seg := s.saveSegment(t, "exporters", `did("export", 30d) >= 2`)
	id := s.createSurvey(t, npsSurvey(`{"segment": {"id": "`+seg+`"},
		"urls": [{"match": "starts_with", "value": "https://app.example.com/app"}],
		"devices": ["desktop"], "frequency": {"once": true, "dismiss_days": 7}}`), false)
	const page = "https://app.example.com/app/reports"

	if got := s.offered(t, "anon-ann", "ann", page); len(got) != 0 {
		t.Fatalf("a draft is offered: %v", got)
	}
	if code, body := s.call(t, store.ScopeWrite, "POST", "/surveys/"+id+"/status", `{"status":"live"}`); code != 200 {
		t.Fatalf("make live: %d %v", code, body)
	}
	if got := s.offered(t, "anon-ann", "ann", page); fmt.Sprint(got) != "["+id+"]" {
		t.Fatalf("the exporter is not offered the survey: %v", got)
	}
	// By anonymous ID alone, the same user.
	if got := s.offered(t, "anon-ann", "", page); len(got) != 1 {
		t.Fatalf("the exporter's browser before identify: %v", got)
	}
	for _, tt := range []struct{ name, anon, user, page string }{
		{"outside the segment", "anon-bob", "bob", page},
		{"an unknown visitor", "anon-new", "", page},
		{"another page", "anon-ann", "ann", "https://app.example.com/blog"},
	} {
		if got := s.offered(t, tt.anon, tt.user, tt.page); len(got) != 0 {
			t.Errorf("%s: offered %v", tt.name, got)
		}
	}
	code, body := s.tracker(t, s.writeKey, "GET", "/t/surveys", url.Values{"a": {"anon-ann"}, "u": {"ann"}, "url": {page}, "device": {"mobile"}}, "")
	if list, _ := body.([]any); code != 200 || len(list) != 0 {
		t.Fatalf("on a phone: %d %v", code, body)
	}
	// Behaviour is live: bob exports twice and is in.
	s.send(t, "/v1/batch", `{"batch":[{"type":"track","userId":"bob","event":"export"},{"type":"track","userId":"bob","event":"export"}]}`)
	if got := s.offered(t, "anon-bob", "bob", page); len(got) != 1 {
		t.Fatalf("bob after exporting: %v", got)
	}

	// A dismissal hides the survey for 7 days, on every device of the user.
	code, body = s.tracker(t, s.writeKey, "POST", "/t/survey/dismiss", nil, `{"survey":"`+id+`","anonymousId":"anon-ann","userId":"ann"}`)
	if code != 200 {
		t.Fatalf("dismiss: %d %v", code, body)
	}
	if got := s.offered(t, "anon-ann", "ann", page); len(got) != 0 {
		t.Fatalf("offered right after a dismissal: %v", got)
	}
	if got := s.offered(t, "phone-of-ann", "ann", page); len(got) != 0 {
		t.Fatalf("offered on the user's other device: %v", got)
	}
	clk.advance(6*24*time.Hour + 23*time.Hour)
	if got := s.offered(t, "anon-ann", "ann", page); len(got) != 0 {
		t.Fatalf("offered within the window: %v", got)
	}
	clk.advance(2 * time.Hour)
	if got := s.offered(t, "anon-ann", "ann", page); len(got) != 1 {
		t.Fatalf("not offered after the window: %v", got)
	}
	// Once completed, never again.
	if code, e := s.answer(t, s.writeKey, `{"survey":"`+id+`","response":"resp-ann-1","anonymousId":"anon-ann","userId":"ann",
		"url":"`+page+`","answers":{"score":9},"completed":true}`); code != 200 {
		t.Fatalf("answer: %d %s", code, e)
	}
	clk.advance(400 * 24 * time.Hour)
	if got := s.offered(t, "anon-ann", "ann", page); len(got) != 0 {
		t.Fatalf("offered after completing: %v", got)
	}
	// Pausing stops offers at once.
	s.call(t, store.ScopeWrite, "POST", "/surveys/"+id+"/status", `{"status":"paused"}`)
	if got := s.offered(t, "anon-bob", "bob", page); len(got) != 0 {
		t.Fatalf("a paused survey is offered: %v", got)
	}
}

func TestSurveySamplingAndQuota(t *testing.T) {
	s, _ := startSurveyServer(t)
	half := s.createSurvey(t, npsSurvey(`{"sample_percent": 50}`), true)
	offered := 0
	for i := range 40 {
		anon := fmt.Sprintf("visitor-%d", i)
		got := s.offered(t, anon, "", "https://app.example.com/")
		if again := s.offered(t, anon, "", "https://app.example.com/"); len(again) != len(got) {
			t.Fatalf("sampling changed between two requests for %s", anon)
		}
		offered += len(got)
	}
	if offered < 10 || offered > 30 {
		t.Fatalf("a 50%% sample offered the survey to %d of 40", offered)
	}
	s.call(t, store.ScopeWrite, "POST", "/surveys/"+half+"/status", `{"status":"ended"}`)

	quota := s.createSurvey(t, npsSurvey(`{"quota": 1}`), true)
	if got := s.offered(t, "v-a", "", "https://app.example.com/"); len(got) != 1 {
		t.Fatalf("before the quota: %v", got)
	}
	// A partial response does not count toward the quota; a completed one does.
	s.answer(t, s.writeKey, `{"survey":"`+quota+`","response":"resp-partial","anonymousId":"v-b","answers":{"score":2}}`)
	if got := s.offered(t, "v-a", "", "https://app.example.com/"); len(got) != 1 {
		t.Fatalf("after a partial response: %v", got)
	}
	s.answer(t, s.writeKey, `{"survey":"`+quota+`","response":"resp-done","anonymousId":"v-c","answers":{"score":10},"completed":true}`)
	if got := s.offered(t, "v-a", "", "https://app.example.com/"); len(got) != 0 {
		t.Fatalf("offered past the quota: %v", got)
	}
}
