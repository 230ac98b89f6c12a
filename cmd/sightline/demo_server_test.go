package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/server"
)

// TestDemoPopulatesTheDashboard fills a small demo, serves it, and asks
// the dashboard's main endpoints for both sites as the dashboard does:
// users, a segment preview, recordings, survey results and feedback all
// have data, and one site's token reads nothing of the other.
func TestDemoPopulatesTheDashboard(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run([]string{"demo", "--data", dir, "--users", "800"}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s", err, errOut.String())
	}
	t.Logf("demo printed:\n%s%s", errOut.String(), out.String())
	for _, want := range []string{"Demo Shop site", "sign in as", "surveys with", "recordings in"} {
		if !strings.Contains(out.String()+errOut.String(), want) {
			t.Errorf("the demo's report lacks %q", want)
		}
	}
	var c demoCredentials
	b, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil || json.Unmarshal(b, &c) != nil || c.ShopSite == "" || c.ShopReadToken == "" {
		t.Fatalf("credentials %s: %v", b, err)
	}
	base := serveDemo(t, dir)

	get := func(token, path, body string) map[string]any {
		t.Helper()
		method := http.MethodGet
		if body != "" {
			method = http.MethodPost
		}
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return v
	}
	list := func(v map[string]any, key string) []any {
		l, _ := v[key].([]any)
		return l
	}
	sites := []struct {
		name, site, token, segment string
		saved                      int
		rage                       string // the saved segment of rage-clickers
	}{
		{"Ledgerly", c.Site, c.ReadToken, `nps_group() = "detractor" and onboarding_completed = false`, 10, "Rage-clickers"},
		{"Fernhill", c.ShopSite, c.ShopReadToken, `lifetime_value > 100 and did("Order Completed", 90d)`, 6,
			"Rage-clickers at checkout"},
	}
	saved := map[string]string{} // name → ID
	for _, s := range sites {
		p := "/api/v1/sites/" + s.site
		// The segments list, with sizes, as the dashboard asks for it.
		segs := list(get(s.token, p+"/segments?size=true", ""), "segments")
		if len(segs) != s.saved {
			t.Errorf("%s: %d saved segments, want %d", s.name, len(segs), s.saved)
		}
		var members float64
		for _, seg := range segs {
			m := seg.(map[string]any)
			saved[m["name"].(string)], _ = m["id"].(string)
			size, _ := m["size"].(float64)
			members += size
			if m["author"] != "Demo Owner" || m["description"] == "" || m["text"] == "" {
				t.Errorf("%s: segment %v", s.name, m)
			}
		}
		if members == 0 {
			t.Errorf("%s: the saved segments are empty", s.name)
		}
		// The recordings' segment filter.
		if n := len(list(get(s.token, p+"/recordings?segment="+saved[s.rage], ""), "recordings")); n == 0 {
			t.Errorf("%s: no recordings of %s", s.name, s.rage)
		}
		checks := []struct{ what, path, body, key string }{
			{"users", p + "/users?limit=20", "", "users"},
			{"a segment preview", p + "/segments/preview", `{"text": ` + quote(s.segment) + `}`, "members"},
			{"recordings", p + "/recordings?limit=20", "", "recordings"},
			{"rage-click recordings", p + "/recordings?signal=rage_clicks", "", "recordings"},
			{"feedback", p + "/feedback?limit=20", "", "feedback"},
		}
		for _, ch := range checks {
			if n := len(list(get(s.token, ch.path, ch.body), ch.key)); n == 0 {
				t.Errorf("%s: no %s", s.name, ch.what)
			}
		}
	}

	// The live NPS survey has results, with an NPS and text answers.
	surveys := list(get(c.ReadToken, "/api/v1/sites/"+c.Site+"/surveys", ""), "surveys")
	var live string
	for _, s := range surveys {
		if m := s.(map[string]any); m["status"] == "live" {
			live, _ = m["id"].(string)
		}
	}
	if len(surveys) != 2 || live == "" {
		t.Fatalf("surveys: %v", surveys)
	}
	res := get(c.ReadToken, "/api/v1/sites/"+c.Site+"/surveys/"+live+"/results", "")["results"].(map[string]any)
	nps, _ := res["nps"].(map[string]any)
	if res["responses"].(float64) == 0 || nps == nil || nps["score"] == nil || len(list(res, "trend")) < 10 {
		t.Errorf("survey results: %v", res)
	}
	if n := len(list(get(c.ReadToken, "/api/v1/sites/"+c.Site+"/surveys/"+live+"/responses", ""), "responses")); n == 0 {
		t.Error("no survey responses listed")
	}
	// NPS by segment: the detractors' NPS is -100, the A/B variants have
	// respondents.
	res = get(c.ReadToken, "/api/v1/sites/"+c.Site+"/surveys/"+live+"/results?segments="+saved["NPS detractors"]+","+
		saved["Onboarding test: variant A"]+","+saved["Onboarding test: variant B"], "")["results"].(map[string]any)
	if bySegment := list(res, "segments"); len(bySegment) != 3 {
		t.Errorf("NPS by segment: %v", res["segments"])
	} else {
		for i, seg := range bySegment {
			m := seg.(map[string]any)
			score, _ := m["nps"].(map[string]any)["score"].(float64)
			if m["respondents"].(float64) == 0 || i == 0 && score != -100 {
				t.Errorf("NPS of segment %v: %v", m["name"], m)
			}
		}
	}

	// The demo owner signs in and sees both sites.
	resp0, err := http.Post(base+"/api/v1/session", "application/json",
		strings.NewReader(`{"email": `+quote(c.Email)+`, "password": `+quote(c.Password)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		Sites []struct {
			ID string `json:"id"`
		} `json:"sites"`
	}
	err = json.NewDecoder(resp0.Body).Decode(&me)
	resp0.Body.Close()
	if err != nil || resp0.StatusCode != http.StatusOK || len(me.Sites) != 2 ||
		!(me.Sites[0].ID == c.Site && me.Sites[1].ID == c.ShopSite) {
		t.Errorf("the demo owner signs in with %d and sees %+v (%v)", resp0.StatusCode, me.Sites, err)
	}

	// Tenant isolation: the shop's token reads nothing of the app's site.
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/sites/"+c.Site+"/users", nil)
	req.Header.Set("Authorization", "Bearer "+c.ShopReadToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("the shop's token read the app's users: %d", resp.StatusCode)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// serveDemo serves the data folder dir on a random port until the test
// ends, and returns its base URL.
func serveDemo(t *testing.T, dir string) string {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Addr = "127.0.0.1:0"
	cfg.MetricsAddr = "off"
	cfg.ShutdownTimeout = 10 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan server.Addrs, 1)
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
	var addr string
	select {
	case a := <-ready:
		addr = a.HTTP
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return "http://" + addr
}
