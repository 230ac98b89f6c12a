// Package chaos runs Sightline's failure scenarios against a real
// `sightline serve` process, each on a fresh data folder and a random
// loopback port, and reports what survived: kill -9 under concurrent batch
// load and under recording-chunk uploads, a full disk and its recovery,
// slow-body starvation, and reads while ingestion is hammered.
//
// It is what `make chaos` runs (cmd/sightline-chaos); it is not part of
// `make test`. It only ever connects to loopback addresses.
package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Config is what a run does. Start from DefaultConfig and set Bin.
type Config struct {
	// Bin is the sightline binary to run.
	Bin string
	// WorkDir holds each scenario's data folder and server logs; empty
	// means a new temporary folder, removed at the end unless Keep.
	WorkDir string
	Keep    bool
	// Scenarios names the scenarios to run, in order; empty means all.
	Scenarios []string
	// Seed drives every random choice (kill moments, users, attackers).
	Seed uint64

	// Rounds is the number of kill -9 rounds of the two kill scenarios.
	Rounds int
	// Senders post concurrently in the load scenarios; Batch is the
	// messages in one batch and Users the users they are spread over.
	Senders int
	Batch   int
	Users   int
	// KillMin and KillMax bound the random moment of the kill after the
	// load starts.
	KillMin, KillMax time.Duration

	// DiskSize is the tmpfs of the disk-full scenario; DiskHeadroom is the
	// space left free beside the filler file when the load starts (a
	// second filler takes the rest once the load runs);
	// DiskRecovery bounds the wait for ingestion to resume once space is
	// freed.
	DiskSize, DiskHeadroom int64
	DiskRecovery           time.Duration

	// SlowConns slow connections come from SlowIPs loopback addresses
	// (127.0.0.2 on) during SlowWindow; the normal client measures
	// SlowWindow without them first. SlowP99 is the most the normal
	// client's p99 may reach under attack.
	SlowConns  int
	SlowIPs    int
	SlowWindow time.Duration
	SlowP99    time.Duration

	// ReadWindow is how long reads are measured under write load;
	// ReadBound is the most their p99 may reach.
	ReadWindow time.Duration
	ReadBound  time.Duration

	// Timeout bounds one HTTP request: longer is a hang.
	Timeout time.Duration
	Log     *slog.Logger
}

// DefaultConfig returns the settings of `make chaos`.
func DefaultConfig() Config {
	return Config{
		Seed:         1,
		Rounds:       3,
		Senders:      8,
		Batch:        100,
		Users:        64,
		KillMin:      1500 * time.Millisecond,
		KillMax:      4 * time.Second,
		DiskSize:     64 << 20,
		DiskHeadroom: 12 << 20,
		DiskRecovery: 30 * time.Second,
		SlowConns:    200,
		SlowIPs:      10,
		SlowWindow:   8 * time.Second,
		SlowP99:      time.Second,
		ReadWindow:   10 * time.Second,
		ReadBound:    5 * time.Second,
		Timeout:      20 * time.Second,
		Log:          slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
}

// check refuses settings no scenario can run with.
func (c Config) check() error {
	switch {
	case c.Rounds < 1 || c.Senders < 1 || c.Batch < 1 || c.Users < 1:
		return fmt.Errorf("rounds, senders, batch and users must be at least 1")
	case c.KillMin <= 0 || c.KillMax < c.KillMin:
		return fmt.Errorf("want 0 < kill-min <= kill-max")
	case c.DiskHeadroom <= 0 || c.DiskSize <= c.DiskHeadroom:
		return fmt.Errorf("want 0 < disk headroom < disk size")
	case c.SlowConns < 0 || c.SlowIPs < 1 || c.SlowIPs > 250:
		return fmt.Errorf("want slow-conns >= 0 and 1 <= slow-ips <= 250")
	case c.SlowWindow <= 0 || c.ReadWindow <= 0 || c.Timeout <= 0 || c.DiskRecovery <= 0:
		return fmt.Errorf("windows, timeouts and the disk recovery limit must be positive")
	}
	return nil
}

// Verdicts of a scenario.
const (
	Pass = "PASS"
	Fail = "FAIL"
	Skip = "SKIP"
)

// Row is one scenario's figures. Counts are messages (chunks for the
// recording scenario); a figure that does not apply is -1.
type Row struct {
	Scenario string
	Rounds   int
	// Acked is how many were acknowledged; Lost and Duplicated are how
	// many of them were found missing or stored more than once.
	Acked, Lost, Duplicated int64
	// Reposted acknowledged batches (or chunks) were sent again;
	// RepostedDup of them were answered as duplicates only.
	Reposted, RepostedDup int64
	// Recovery is the longest time back to accepting writes: the restart
	// after a kill, or the wait after disk space came back.
	Recovery time.Duration
	// P50 and P99 are the request latencies the scenario measures.
	P50, P99 time.Duration
	Verdict  string
	// Notes explain the figures and every failure.
	Notes    []string
	failures int
}

func newRow(name string) *Row {
	return &Row{Scenario: name, Acked: -1, Lost: -1, Duplicated: -1, Reposted: -1, RepostedDup: -1,
		Recovery: -1, P50: -1, P99: -1}
}

// note adds an explanation.
func (r *Row) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// fail records a failure and its reason.
func (r *Row) fail(format string, args ...any) {
	r.failures++
	r.Notes = append(r.Notes, "FAIL: "+fmt.Sprintf(format, args...))
}

// finish sets the verdict from the failures recorded.
func (r *Row) finish() {
	if r.Verdict != "" {
		return
	}
	r.Verdict = Pass
	if r.failures > 0 {
		r.Verdict = Fail
	}
}

// scenario is one failure scenario.
type scenario struct {
	name string
	run  func(ctx context.Context, e *env, row *Row) error
}

// scenarios lists every scenario in the order they run.
func scenarios() []scenario {
	return []scenario{
		{"kill-batch", killBatches},
		{"kill-recording", killRecordings},
		{"disk-full", diskFull},
		{"slow-body", slowBody},
		{"read-wait", readWait},
	}
}

// ScenarioNames returns the names Config.Scenarios accepts.
func ScenarioNames() []string {
	var out []string
	for _, s := range scenarios() {
		out = append(out, s.name)
	}
	return out
}

// env is what a scenario runs with: the configuration, a folder of its own
// and a random source.
type env struct {
	cfg  Config
	dir  string
	rng  *rand.Rand
	log  *slog.Logger
	runs int // servers started, to name their logs
}

// Run runs the configured scenarios one after the other and returns a row
// for each. An error is returned only when the run itself could not go
// on; a scenario's own failure is its row's verdict.
func Run(ctx context.Context, cfg Config) ([]*Row, error) {
	if cfg.Bin == "" {
		return nil, fmt.Errorf("no sightline binary")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	for _, name := range cfg.Scenarios {
		if !slices.Contains(ScenarioNames(), name) {
			return nil, fmt.Errorf("unknown scenario %q; known: %s", name, strings.Join(ScenarioNames(), ", "))
		}
	}
	bin, err := filepath.Abs(cfg.Bin)
	if err != nil {
		return nil, fmt.Errorf("find the binary: %w", err)
	}
	cfg.Bin = bin
	work := cfg.WorkDir
	if work == "" {
		if work, err = os.MkdirTemp("", "sightline-chaos."); err != nil {
			return nil, fmt.Errorf("make the work folder: %w", err)
		}
		if !cfg.Keep {
			defer os.RemoveAll(work)
		}
	}
	cfg.Log.Info("chaos run", "seed", cfg.Seed, "work", work)
	var rows []*Row
	for i, s := range scenarios() {
		if len(cfg.Scenarios) > 0 && !slices.Contains(cfg.Scenarios, s.name) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		dir := filepath.Join(work, s.name)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return rows, fmt.Errorf("make the folder of %s: %w", s.name, err)
		}
		e := &env{cfg: cfg, dir: dir, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
			log: cfg.Log.With("scenario", s.name)}
		row := newRow(s.name)
		start := time.Now()
		e.log.Info("scenario starts")
		if err := s.run(ctx, e, row); err != nil {
			row.fail("%v", err)
		}
		row.finish()
		e.log.Info("scenario done", "verdict", row.Verdict, "took", time.Since(start).Round(time.Millisecond))
		rows = append(rows, row)
	}
	return rows, ctx.Err()
}
