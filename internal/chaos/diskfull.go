package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Figures of the disk-full scenario.
const (
	// fullWindow is how long answers are watched once the disk is full.
	fullWindow = 3 * time.Second
	// fillLimit bounds the load that fills the disk.
	fillLimit = 60 * time.Second
	// sustained is the probes that must all be acknowledged once writes
	// resumed.
	sustained = 20
)

// diskFull puts the data folder on a small tmpfs, fills it beside a filler
// file under batch load, and checks that writes are refused with 503
// storage_unavailable (no other 5xx, no hang, no 2xx for data not
// written); then deletes the filler and measures how long until a write
// is acknowledged again without a restart; then checks that nothing
// acknowledged was lost, before and after a restart.
func diskFull(ctx context.Context, e *env, row *Row) error {
	mnt := filepath.Join(e.dir, "data")
	if err := os.MkdirAll(mnt, 0o750); err != nil {
		return err
	}
	if err := mountTmpfs(mnt, e.cfg.DiskSize); err != nil {
		row.Verdict = Skip
		row.note("%v: run as root on Linux to measure a full disk", err)
		return nil
	}
	defer func() {
		if err := unmount(mnt); err != nil {
			e.log.Warn("unmount the tmpfs", "err", err)
		}
	}()
	s, err := e.createSite(ctx, mnt, "chaos disk")
	if err != nil {
		return err
	}
	srv, _, err := e.start(ctx, mnt)
	if err != nil {
		return err
	}
	defer func() {
		if srv != nil {
			srv.kill()
		}
	}()
	row.Rounds = 1
	filler := filepath.Join(mnt, "filler")
	size, err := fill(filler, e.cfg.DiskHeadroom)
	if err != nil {
		return err
	}
	row.note("a %d MiB tmpfs, %.1f MiB of it taken by a filler file, %d MiB left for the server",
		e.cfg.DiskSize>>20, float64(size)/(1<<20), e.cfg.DiskHeadroom>>20)

	client := newClient(e.cfg.Senders+1, e.cfg.Timeout)
	defer client.CloseIdleConnections()
	t := target{url: srv.url, site: s}
	nonce := fmt.Sprintf("%08x", e.rng.Uint32())
	l := newLoad(t, client, e.cfg, nonce+"-load", e.rng.Uint64())
	l.keep = true
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() { l.run(loadCtx, e.cfg.Senders); close(loadDone) }()
	stop := func() { stopLoad(); <-loadDone }
	defer stop()

	// Load until the disk is full and writes are refused, then watch.
	start := time.Now()
	var fullAt time.Time
	for fullAt.IsZero() || time.Since(fullAt) < fullWindow {
		if !sleepCtx(ctx, 50*time.Millisecond) {
			return ctx.Err()
		}
		if srv.exited() {
			row.fail("the server exited while the disk filled: %v (log: %s)", srv.err, tail(srv.logPath, 300))
			break
		}
		if free, err := freeBytes(mnt); fullAt.IsZero() && (err == nil && free < 2<<20 || l.refusals() > 0) {
			fullAt = time.Now()
			e.log.Info("disk full", "after", fullAt.Sub(start).Round(time.Millisecond), "free", free, "acked_batches", len(l.snapshot()))
		}
		if fullAt.IsZero() && time.Since(start) > fillLimit {
			row.fail("the disk did not fill within %v of load", fillLimit)
			break
		}
	}

	// Free the space, then probe until a write is acknowledged again.
	freedAt := time.Now()
	if err := os.Remove(filler); err != nil {
		return fmt.Errorf("delete the filler: %w", err)
	}
	probe := newLoad(t, client, Config{Batch: 10, Users: e.cfg.Users}, nonce+"-probe", e.rng.Uint64())
	prng := rand.New(rand.NewPCG(e.rng.Uint64(), 0))
	var probes, probesAcked []batch
	var recovered time.Duration = -1
	for n := 0; recovered < 0 && time.Since(freedAt) < e.cfg.DiskRecovery && !srv.exited(); n++ {
		b := probe.make(prng, 0, n)
		probes = append(probes, b)
		if a := deliverOnce(ctx, client, t.batchSender(b)); a.ok() {
			recovered = time.Since(freedAt)
			probesAcked = append(probesAcked, b)
			break
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
	// The load's own retries have been running too; stop them before they
	// fill the disk again.
	stop()
	row.Recovery = recovered
	if recovered < 0 {
		row.Recovery = -1
		row.fail("writes were not acknowledged again within %v of freeing space, without a restart", e.cfg.DiskRecovery)
	} else {
		refused := tally{}
		for n := range sustained {
			b := probe.make(prng, 1, n)
			probes = append(probes, b)
			a := deliverOnce(ctx, client, t.batchSender(b))
			if a.ok() {
				probesAcked = append(probesAcked, b)
			} else {
				refused[a.kind()]++
			}
		}
		if len(refused) > 0 {
			row.fail("after recovery, %d of %d writes were refused: %s", refused.count(func(string) bool { return true }), sustained, refused)
		}
	}

	// What the server answered while the disk was full.
	full, after := tally{}, tally{}
	var latencies []time.Duration
	for _, a := range l.answersCopy() {
		switch {
		case !fullAt.IsZero() && !a.at.Before(fullAt) && a.at.Before(freedAt):
			full[a.kind]++
			if !is2xx(a.kind) {
				latencies = append(latencies, a.latency)
			}
		case !a.at.Before(freedAt):
			after[a.kind]++
		}
	}
	row.P50, row.P99 = percentile(latencies, 50), percentile(latencies, 99)
	row.note("answers in the %v after the disk filled: %s (p50/p99 are of these refusals)", fullWindow, full)
	row.note("answers to the load's retries once space was freed: %s", after)
	if full["503 storage_unavailable"] == 0 {
		row.fail("no 503 storage_unavailable while the disk was full")
	}
	if bad := full.count(func(k string) bool {
		return !is2xx(k) && k != "503 storage_unavailable" && !strings.HasPrefix(k, "429 ")
	}); bad > 0 {
		row.fail("%d answers other than 2xx, 429 or 503 storage_unavailable while the disk was full", bad)
	}
	if l.hangs > 0 {
		row.fail("%d requests hung past %v", l.hangs, e.cfg.Timeout)
	}

	// Nothing acknowledged may be lost, before and after a restart.
	acked := slices.Concat(l.snapshot(), probesAcked)
	maybe := slices.Concat(l.unackedCopy(), probes)
	row.Acked = messageCount(acked)
	lost, dup := map[string]bool{}, map[string]bool{}
	check := func(when string) {
		st, err := readMessages(ctx, t, newClient(4, e.cfg.Timeout), e.cfg.Users)
		if err != nil {
			row.fail("read back %s: %v", when, err)
			return
		}
		v := compare(st, acked, maybe)
		for _, id := range v.lost {
			lost[id] = true
		}
		for _, id := range v.duplicated {
			dup[id] = true
		}
		if len(v.unknown) > 0 {
			row.fail("%s: %d stored message IDs were never sent", when, len(v.unknown))
		}
		e.log.Info("read back", "when", when, "stored", len(st.count), "acked", row.Acked, "lost", len(v.lost), "duplicated", len(v.duplicated))
	}
	if !srv.exited() {
		check("before the restart")
	}
	if err := srv.stop(30 * time.Second); err != nil {
		row.fail("stopping after the disk was full: %v", err)
	}
	if srv, _, err = e.start(ctx, mnt); err != nil {
		row.fail("restart after the disk was full: %v", err)
		return nil
	}
	t.url = srv.url
	check("after a restart")
	row.Lost, row.Duplicated = int64(len(lost)), int64(len(dup))
	if row.Lost > 0 {
		row.fail("%d acknowledged messages missing", row.Lost)
	}
	if row.Duplicated > 0 {
		row.fail("%d messages stored more than once", row.Duplicated)
	}
	d, other := repost(ctx, t, client, acked)
	row.Reposted, row.RepostedDup = int64(len(acked)), d
	if len(other) > 0 {
		row.fail("acknowledged batches sent again were answered %s", other)
	}
	if err := srv.stop(30 * time.Second); err != nil {
		row.fail("%v", err)
	}
	return nil
}

// fill writes zeros to path until headroom bytes are left free on its file
// system, and returns the file's size.
func fill(path string, headroom int64) (int64, error) {
	free, err := freeBytes(filepath.Dir(path))
	if err != nil {
		return 0, err
	}
	size := free - headroom
	if size <= 0 {
		return 0, fmt.Errorf("only %d bytes free: no room for a filler", free)
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("create the filler: %w", err)
	}
	_, err = io.CopyN(f, zeros{}, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("write the filler: %w", err)
	}
	return size, nil
}

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// refusals counts the answers other than 2xx and 429 (back-pressure,
// not a full disk) so far.
func (l *load) refusals() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.kinds.count(func(k string) bool { return !is2xx(k) && !strings.HasPrefix(k, "429 ") })
}

// snapshot returns the batches acknowledged so far.
func (l *load) snapshot() []batch {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.acked)
}

// unackedCopy returns the batches never acknowledged so far.
func (l *load) unackedCopy() []batch {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.unacked)
}

// answersCopy returns the answers kept so far.
func (l *load) answersCopy() []answerAt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.answers)
}
