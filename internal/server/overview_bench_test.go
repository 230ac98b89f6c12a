package server_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/server"
)

// TestOverviewTimes is the benchmark of the overview (make bench-overview,
// scripts/bench-overview.sh), not part of make test: on a data folder
// filled by `sightline demo`, it times GET /overview and the page in
// Chromium, from navigation start to every card filled, and prints
// medians. The first answer after the start is timed apart: it counts
// the segments, which later answers take from what the overview keeps.
var (
	overviewData = flag.String("overview.data", "", "a data folder filled by sightline demo; empty skips TestOverviewTimes")
	overviewRuns = flag.Int("overview.runs", 15, "timed runs of each measure")
)

func TestOverviewTimes(t *testing.T) {
	if *overviewData == "" {
		t.Skip("a benchmark: give -overview.data=DIR (make bench-overview)")
	}
	var creds struct {
		Site      string `json:"site"`
		ReadToken string `json:"read_token"`
		Email     string `json:"email"`
		Password  string `json:"password"`
	}
	b, err := os.ReadFile(filepath.Join(*overviewData, "demo.json"))
	if err != nil || json.Unmarshal(b, &creds) != nil {
		t.Fatalf("read the demo's credentials: %v", err)
	}
	cfg := config.Default()
	cfg.DataDir, cfg.Addr, cfg.MetricsAddr = *overviewData, "127.0.0.1:0", ""
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan server.Addrs, 1)
	done := make(chan error, 1)
	opened := time.Now()
	go func() { done <- server.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	var addrs server.Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("server: %v", err)
	}
	defer func() {
		cancel()
		<-done
	}()
	base := "http://" + addrs.HTTP
	fmt.Printf("server ready in %s on %s\n", time.Since(opened).Round(time.Millisecond), *overviewData)
	fmt.Printf("machine: %d cores (GOMAXPROCS %d), load average %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), loadAverage())

	get := func(days int) (time.Duration, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/sites/%s/overview?days=%d", base, creds.Site, days), nil)
		req.Header.Set("Authorization", "Bearer "+creds.ReadToken)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("overview: %d %v", resp.StatusCode, err)
		}
		return time.Since(start), out
	}
	computing := func(out map[string]any) int {
		n := len(out["pending"].([]any))
		for _, s := range out["segments"].([]any) {
			if s.(map[string]any)["counting"] == true {
				n++
			}
		}
		return n
	}
	// Cold: the first answers after the start compute every part; later
	// ones take them from what the overview keeps, and compute them again
	// in the background once stale.
	for _, days := range []int{7, 30} {
		firstAt := time.Now()
		first, out := get(days)
		fmt.Printf("first GET /overview?days=%d after the start: %s, pending %v and %d segments counting\n",
			days, first.Round(time.Millisecond), out["pending"], computing(out)-len(out["pending"].([]any)))
		for computing(out) > 0 {
			time.Sleep(200 * time.Millisecond)
			_, out = get(days)
		}
		fmt.Printf("  every part computed %s after it; what computing each took (ms): %v\n",
			time.Since(firstAt).Round(time.Millisecond), out["timings_ms"])
	}
	for _, days := range []int{7, 30} {
		var times []time.Duration
		parts := map[string][]float64{}
		for range *overviewRuns {
			d, out := get(days)
			times = append(times, d)
			for k, v := range out["timings_ms"].(map[string]any) {
				parts[k] = append(parts[k], v.(float64))
			}
		}
		fmt.Printf("GET /overview?days=%d, kept parts: median %s, p90 %s, min %s (%d runs); parts' medians (ms):", days,
			median(times).Round(time.Millisecond), pct(times, 0.9).Round(time.Millisecond), slices.Min(times).Round(time.Millisecond), len(times))
		keys := make([]string, 0, len(parts))
		for k := range parts {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			slices.Sort(parts[k])
			fmt.Printf(" %s %.0f", k, parts[k][len(parts[k])/2])
		}
		fmt.Println()
	}

	// The page: signed in as the demo's owner, loaded afresh each run.
	d := newDashboard(t, base)
	d.do("open the dashboard", chromedp.Navigate(base+"/signin"))
	d.fill("Email", creds.Email)
	d.fill("Password", creds.Password)
	d.do("sign in", chromedp.SendKeys(chromedp.CSS(d.control("Password", 0)), "\r"))
	d.waitPath("/s/")
	for _, days := range []int{7, 30} {
		var times []time.Duration
		for range *overviewRuns {
			d.do("load the overview", chromedp.Navigate(fmt.Sprintf("%s/s/%s/overview?days=%d", base, creds.Site, days)))
			d.waitFor("every card", fmt.Sprintf(`document.querySelector('section.overview[data-ready="%d"]') && performance.getEntriesByName('sl-overview-ready').length > 0`, days))
			var ms float64
			d.eval(`performance.getEntriesByName('sl-overview-ready')[0].startTime`, &ms)
			times = append(times, time.Duration(ms*float64(time.Millisecond)))
		}
		fmt.Printf("the page, %d days, navigation start to every card filled: median %s, p90 %s, min %s (%d loads)\n", days,
			median(times).Round(time.Millisecond), pct(times, 0.9).Round(time.Millisecond), slices.Min(times).Round(time.Millisecond), len(times))
	}
	d.clean()
	fmt.Printf("load average after: %s\n", loadAverage())
}

func median(ds []time.Duration) time.Duration { return pct(ds, 0.5) }

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
