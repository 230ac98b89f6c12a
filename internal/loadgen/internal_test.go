package loadgen

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{" 12 ", 12 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"999999999", 0, false},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.header, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSummarizeLatency(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- { // out of order on purpose
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	got := summarizeLatency(lat)
	want := LatencySummary{P50: 50, P90: 90, P99: 99, Max: 100, Mean: 50.5}
	if got != want {
		t.Errorf("summarizeLatency(1..100ms) = %+v, want %+v", got, want)
	}
	if got := summarizeLatency([]time.Duration{7 * time.Millisecond}); got.P50 != 7 || got.P99 != 7 || got.Max != 7 {
		t.Errorf("one value: %+v", got)
	}
	if got := summarizeLatency(nil); got != (LatencySummary{}) {
		t.Errorf("no values: %+v", got)
	}
}

func TestSummarizeAddsUpWorkers(t *testing.T) {
	cfg := DefaultConfig()
	stats := []workerStats{
		{requests: 3, acked: 2, events: 200, throttled: 1, retries: 1, errors: map[string]int64{"429": 1}, latencies: []time.Duration{time.Millisecond, 3 * time.Millisecond}},
		{requests: 2, acked: 1, events: 100, errors: map[string]int64{"transport": 1}, latencies: []time.Duration{2 * time.Millisecond}, backoff: time.Second},
	}
	res := summarize(cfg, "http://127.0.0.1:1/v1/batch", stats, 2*time.Second)
	if res.Requests != 5 || res.RequestsAcked != 3 || res.EventsAcked != 300 || res.EventsPerSecond != 150 || res.RequestsPerSecond != 1.5 {
		t.Errorf("sums: %+v", res)
	}
	if res.Errors["429"] != 1 || res.Errors["transport"] != 1 || res.Throttled != 1 || res.Retries != 1 || res.Backoff != 1 {
		t.Errorf("errors: %+v", res)
	}
	if res.Latency.P50 != 2 || res.Latency.Max != 3 {
		t.Errorf("latency: %+v", res.Latency)
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/batch"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/batch"},
		{"http://localhost:8080/v1/batch", "http://localhost:8080/v1/batch"},
		{"http://[::1]:9/prefix", "http://[::1]:9/prefix/v1/batch"},
		{"https://127.8.9.10", "https://127.8.9.10/v1/batch"},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		cfg.URL, cfg.WriteKey = tt.in, "wk"
		got, err := cfg.endpoint()
		if err != nil || got != tt.want {
			t.Errorf("endpoint(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
