package loadgen

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// workerStats is what one worker counted in the measured window. Each
// worker owns its own, so counting takes no lock.
type workerStats struct {
	requests    int64
	acked       int64
	events      int64
	unconfirmed int64
	throttled   int64
	retries     int64
	bytes       int64
	backoff     time.Duration
	errors      map[string]int64
	latencies   []time.Duration
	warmup      int64 // requests that ended during the warmup
	late        int64 // requests that ended after the window
	allEvents   int64 // events acknowledged at any time, warmup included
}

// Result is the report of a run. Only requests that ended inside the
// measured window count; only 2xx answers count as acknowledged.
type Result struct {
	URL         string  `json:"url"`
	Concurrency int     `json:"concurrency"`
	Batch       int     `json:"batch"`
	Users       int     `json:"users"`
	Warmup      float64 `json:"warmup_s"`
	// Measured is the length of the measured window in seconds: Duration,
	// or less if the run was interrupted or hit MaxRequests.
	Measured    float64 `json:"measured_s"`
	Interrupted bool    `json:"interrupted"`

	EventsAcked       int64   `json:"events_acked"`
	EventsPerSecond   float64 `json:"events_per_s"`
	Requests          int64   `json:"requests"`
	RequestsAcked     int64   `json:"requests_acked"`
	RequestsPerSecond float64 `json:"requests_per_s"`
	// Unconfirmed counts 2xx answers whose body did not say
	// "success":true. They are counted as acknowledged all the same.
	Unconfirmed int64 `json:"unconfirmed"`
	// Errors counts refused requests by HTTP status, and broken ones as
	// "transport".
	Errors map[string]int64 `json:"errors"`
	// Throttled counts 429 and 503 answers; Retries counts requests that
	// sent a batch again; Backoff is the seconds workers spent waiting
	// before retrying, added up over workers.
	Throttled int64   `json:"throttled"`
	Retries   int64   `json:"retries"`
	Backoff   float64 `json:"backoff_s"`

	// Latency is the time from sending a request to reading the whole
	// answer, over acknowledged requests.
	Latency LatencySummary `json:"latency_ms"`

	BytesSent      int64 `json:"bytes_sent"`
	MeanBodyBytes  int   `json:"mean_body_bytes"`
	Connections    int64 `json:"connections"`
	WarmupRequests int64 `json:"warmup_requests"`
	LateRequests   int64 `json:"late_requests"`
	// AllEventsAcked counts events acknowledged at any time in the run,
	// warmup and late answers included: what the server should have stored.
	AllEventsAcked int64   `json:"all_events_acked"`
	PregenSeconds  float64 `json:"pregen_s"`
	// CPU is what the load generator itself used in the measured window;
	// CPUTotal covers the whole run, rendering included.
	CPU      CPUUsage `json:"loadgen_cpu"`
	CPUTotal CPUUsage `json:"loadgen_cpu_total"`
}

// LatencySummary holds latency quantiles in milliseconds.
type LatencySummary struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// CPUUsage is the CPU time a process used over a span of wall time.
type CPUUsage struct {
	Known  bool    `json:"known"`
	User   float64 `json:"user_s"`
	System float64 `json:"system_s"`
	// Cores is CPU time over wall time: 1 is one core kept busy.
	Cores float64 `json:"cores"`
	// MicrosPerEvent is CPU time per acknowledged event, in microseconds.
	MicrosPerEvent float64 `json:"us_per_event,omitempty"`
}

// cpuUsage is the difference of two samples over wall time.
func cpuUsage(a, b cpuSample, wall time.Duration, events int64) CPUUsage {
	if !a.ok || !b.ok {
		return CPUUsage{}
	}
	u := CPUUsage{Known: true, User: (b.user - a.user).Seconds(), System: (b.system - a.system).Seconds()}
	if wall > 0 {
		u.Cores = (u.User + u.System) / wall.Seconds()
	}
	if events > 0 {
		u.MicrosPerEvent = (u.User + u.System) * 1e6 / float64(events)
	}
	return u
}

// summarize adds up the workers' counts over a window of length window.
func summarize(cfg Config, endpoint string, stats []workerStats, window time.Duration) *Result {
	res := &Result{
		URL:         endpoint,
		Concurrency: cfg.Concurrency,
		Batch:       cfg.Mix.Batch,
		Users:       cfg.Mix.Users,
		Warmup:      cfg.Warmup.Seconds(),
		Measured:    window.Seconds(),
		Errors:      map[string]int64{},
	}
	var lat []time.Duration
	var backoff time.Duration
	for _, s := range stats {
		res.Requests += s.requests
		res.RequestsAcked += s.acked
		res.EventsAcked += s.events
		res.Unconfirmed += s.unconfirmed
		res.Throttled += s.throttled
		res.Retries += s.retries
		res.BytesSent += s.bytes
		res.WarmupRequests += s.warmup
		res.LateRequests += s.late
		res.AllEventsAcked += s.allEvents
		backoff += s.backoff
		for k, v := range s.errors {
			res.Errors[k] += v
		}
		lat = append(lat, s.latencies...)
	}
	res.Backoff = backoff.Seconds()
	if window > 0 {
		res.EventsPerSecond = float64(res.EventsAcked) / window.Seconds()
		res.RequestsPerSecond = float64(res.RequestsAcked) / window.Seconds()
	}
	res.Latency = summarizeLatency(lat)
	return res
}

// summarizeLatency sorts lat and returns its quantiles by nearest rank.
func summarizeLatency(lat []time.Duration) LatencySummary {
	if len(lat) == 0 {
		return LatencySummary{}
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return LatencySummary{
		P50:  ms(quantile(lat, 0.50)),
		P90:  ms(quantile(lat, 0.90)),
		P99:  ms(quantile(lat, 0.99)),
		Max:  ms(lat[len(lat)-1]),
		Mean: ms(sum / time.Duration(len(lat))),
	}
}

// quantile returns the q-quantile of sorted by nearest rank: the smallest
// value with at least q of the values at or below it.
func quantile(sorted []time.Duration, q float64) time.Duration {
	// The epsilon keeps 0.99*100 from rounding up to rank 100.
	rank := int(math.Ceil(q*float64(len(sorted)) - 1e-9))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// WriteText writes the report for a person to read.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "target        %s  (%d connections, %d messages/request, %d users)\n", r.URL, r.Concurrency, r.Batch, r.Users)
	window := fmt.Sprintf("%.2fs after %.0fs warmup", r.Measured, r.Warmup)
	if r.Interrupted {
		window += " (interrupted)"
	}
	fmt.Fprintf(&b, "acknowledged  %.0f events/s  (%d events in %s)\n", r.EventsPerSecond, r.EventsAcked, window)
	fmt.Fprintf(&b, "requests      %d sent, %d acknowledged (%.1f/s), %d throttled, %d retries, %.1fs backoff over all workers\n",
		r.Requests, r.RequestsAcked, r.RequestsPerSecond, r.Throttled, r.Retries, r.Backoff)
	fmt.Fprintf(&b, "latency       p50 %.1fms  p90 %.1fms  p99 %.1fms  max %.1fms  (mean %.1fms)\n",
		r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.Latency.Mean)
	fmt.Fprintf(&b, "errors        %s\n", formatErrors(r.Errors))
	if r.Unconfirmed > 0 {
		fmt.Fprintf(&b, "warning       %d acknowledged answers did not say \"success\":true\n", r.Unconfirmed)
	}
	mbps := 0.0
	if r.Measured > 0 {
		mbps = float64(r.BytesSent) / r.Measured / 1e6
	}
	fmt.Fprintf(&b, "traffic       %.1f MB/s sent, %d B mean body, %d connections opened\n", mbps, r.MeanBodyBytes, r.Connections)
	if r.CPU.Known {
		fmt.Fprintf(&b, "loadgen cpu   %.2f cores in the window (%.1fs user, %.1fs system; %.2f µs/event); rendering took %.2fs\n",
			r.CPU.Cores, r.CPU.User, r.CPU.System, r.CPU.MicrosPerEvent, r.PregenSeconds)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatErrors writes counts by status in a stable order.
func formatErrors(errs map[string]int64) string {
	if len(errs) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, errs[k]))
	}
	return strings.Join(parts, ", ")
}
