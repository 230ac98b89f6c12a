package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Figures of the disk-full scenario.
const (
	// squeezeAfter is the load before the squeezer starts.
	squeezeAfter = 2 * time.Second
	// fillLimit bounds the wait for the first refusal.
	fillLimit = 60 * time.Second
	// fullWindow is how long answers are watched once writes are refused:
	// longer than the Retry-After of storage_unavailable (5s), so that the
	// load's senders come back while the disk is still full.
	fullWindow = 6 * time.Second
	// readWaitBound is the longest a read may take while the disk is
	// full: the server's --read-wait (5s by default), then 503
	// store_lagging, and some slack.
	readWaitBound = 7 * time.Second
	// readyQuiet is how long /readyz may take to answer 200 once space is
	// freed, with no write coming: the applier retries every 2s at most.
	readyQuiet = 10 * time.Second
	// sustained is the writes that must all be acknowledged once writes
	// resumed.
	sustained = 20
)

// diskFull puts the data folder on a small tmpfs and leaves the server
// DiskHeadroom beside a filler file. After squeezeAfter of batch load, a
// second filler (the squeezer) takes every byte the file system frees,
// until writes are refused. For fullWindow it then watches the answers to
// the load, to probe batches, to reads and to /readyz: writes may only be
// acknowledged (and then durable) or refused with 503 storage_unavailable
// or busy or 429; reads answer within the server's read wait; /readyz
// reports not ready; nothing hangs. Then it stops writing and deletes both
// fillers: /readyz must answer 200 by itself, and the time until a probe
// is acknowledged again, without a restart, is the recovery. Last,
// nothing acknowledged may be lost or quarantined, before and after a
// restart, and the server must exit 0 at SIGTERM.
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
	d := &diskEpisode{e: e, row: row, mnt: mnt, srv: srv, t: target{url: srv.url, site: s},
		client: newClient(e.cfg.Senders+1, e.cfg.Timeout), nonce: fmt.Sprintf("%08x", e.rng.Uint32())}
	defer func() { d.srv.kill() }()
	defer d.client.CloseIdleConnections()
	defer d.stop()
	row.Rounds = 1
	filled, err := d.fill(ctx)
	if err != nil || !filled {
		return err
	}
	if err := d.free(ctx); err != nil {
		return err
	}
	d.judge()
	d.kept(ctx)
	return nil
}

// diskEpisode is one disk-full scenario under way.
type diskEpisode struct {
	e      *env
	row    *Row
	mnt    string
	srv    *server
	t      target
	client *http.Client
	nonce  string

	load    *load
	gen     *load   // makes the probes' batches
	full    *probes // while the disk fills and is full
	after   *probes // once space is freed
	ready   *readyLog
	squeeze *squeezer
	filler  string

	fullAt, freedAt, readyAt, recoveredAt time.Time
	sustained, sustainedNot               []batch
}

// stop stops whatever still runs in the background.
func (d *diskEpisode) stop() {
	if d.full != nil {
		d.full.Stop()
	}
	if d.after != nil {
		d.after.Stop()
	}
	if d.ready != nil {
		d.ready.Stop()
	}
	if d.squeeze != nil {
		if err := d.squeeze.Stop(); err != nil {
			d.e.log.Warn("stop the squeezer", "err", err)
		}
	}
}

// died records that the server exited.
func (d *diskEpisode) died(when string) {
	d.row.fail("the server exited %s: %v (log %s: %s)", when, d.srv.err, d.srv.logPath, tail(d.srv.logPath, 300))
}

// fill loads the server, squeezes the disk until writes are refused and
// watches the answers for fullWindow. It reports false when the scenario
// cannot go on.
func (d *diskEpisode) fill(ctx context.Context) (bool, error) {
	e := d.e
	d.filler = filepath.Join(d.mnt, "filler")
	size, err := fill(d.filler, e.cfg.DiskHeadroom)
	if err != nil {
		return false, err
	}
	d.load = newLoad(d.t, d.client, e.cfg, d.nonce+"-load", e.rng.Uint64())
	d.load.keep = true
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() { d.load.run(loadCtx, e.cfg.Senders); close(loadDone) }()
	defer func() { stopLoad(); <-loadDone }()

	// The server works before the disk fills.
	warm := time.Now()
	if !waitUntil(ctx, fillLimit, func() bool {
		return len(d.load.snapshot()) > 0 && time.Since(warm) >= squeezeAfter || d.srv.exited()
	}) || d.srv.exited() {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if d.srv.exited() {
			d.died("under load before the disk filled")
		} else {
			d.row.fail("no write was acknowledged within %v, before the disk filled", fillLimit)
		}
		return false, nil
	}

	// Squeeze until writes are refused.
	d.ready = watchReady(ctx, d.srv.url, e.cfg.Timeout)
	if d.squeeze, err = startSqueezer(ctx, filepath.Join(d.mnt, "squeezer")); err != nil {
		d.ready.Stop()
		return false, err
	}
	squeezedAt := time.Now()
	d.gen = newLoad(d.t, d.client, Config{Batch: 10, Users: e.cfg.Users}, d.nonce+"-probe", e.rng.Uint64())
	d.full = startProbes(ctx, d.t, newClient(1, e.cfg.Timeout), d.gen, 0, rand.New(rand.NewPCG(e.rng.Uint64(), 0)))
	waitUntil(ctx, fillLimit, func() bool {
		d.fullAt = firstTime(d.load.firstAnswer("503 storage_unavailable"), d.full.firstAnswer("503 storage_unavailable"))
		return !d.fullAt.IsZero() || d.srv.exited()
	})
	if err := ctx.Err(); err != nil {
		return false, err
	}
	free, _ := freeBytes(d.mnt)
	when := "never"
	switch {
	case d.fullAt.IsZero():
	case d.fullAt.Before(squeezedAt):
		when = fmt.Sprintf("%ss into the load, before the squeezer started", seconds(since(warm, d.fullAt)))
	default:
		when = fmt.Sprintf("%ss into the load, %ss after the squeezer started", seconds(since(warm, d.fullAt)),
			seconds(since(squeezedAt, d.fullAt)))
	}
	d.row.note("a %d MiB tmpfs: a %.1f MiB filler left the server %d MiB; after %v of load a squeezer took every "+
		"byte freed (%.1f MiB); writes were first refused %s (%s free then)", e.cfg.DiskSize>>20,
		float64(size)/(1<<20), e.cfg.DiskHeadroom>>20, squeezeAfter, float64(d.squeeze.size.Load())/(1<<20), when,
		kib(free))
	switch {
	case d.srv.exited():
		d.died("while the disk filled")
	case d.fullAt.IsZero():
		d.row.fail("no 503 storage_unavailable within %v of taking every free byte of the disk", fillLimit)
	default:
		e.log.Info("disk full", "after", d.fullAt.Sub(squeezedAt).Round(time.Millisecond),
			"acked_batches", len(d.load.snapshot()), "free", free)
		d.readWhileFull(ctx)
	}
	return true, nil
}

// readWhileFull reads until fullWindow has passed since the disk filled:
// every read must answer within the server's read wait.
func (d *diskEpisode) readWhileFull(ctx context.Context) {
	reader := newClient(1, d.e.cfg.Timeout)
	defer reader.CloseIdleConnections()
	rd := startReads(ctx, d.t, reader)
	waitUntil(ctx, time.Until(d.fullAt.Add(fullWindow)), d.srv.exited)
	rd.Stop()
	d.row.note("reads while full: %s, slowest %s", rd.kinds, millis(rd.slowest))
	if bad := rd.kinds.count(func(k string) bool {
		return k != "200" && k != "404 not_found" && k != "503 store_lagging"
	}); bad > 0 {
		d.row.fail("%d reads answered other than 200, 404 or 503 store_lagging while the disk was full", bad)
	}
	if rd.slowest > readWaitBound {
		d.row.fail("a read took %s while the disk was full; the bound is %s", millis(rd.slowest), millis(readWaitBound))
	}
	if d.srv.exited() {
		d.died("while the disk was full")
	}
}

// free stops every write and frees the space: /readyz must turn 200 by
// itself, or a load balancer that follows it would never send the writes
// that clear it. Then it probes until a write is acknowledged, and sends
// sustained more writes.
func (d *diskEpisode) free(ctx context.Context) error {
	e, row := d.e, d.row
	d.full.Stop() // the load stopped with fill
	if err := d.squeeze.Stop(); err != nil {
		return fmt.Errorf("free the space: %w", err)
	}
	if err := os.Remove(d.filler); err != nil {
		return fmt.Errorf("free the space: %w", err)
	}
	d.freedAt = time.Now()
	readyAfter := func() bool {
		d.readyAt, _ = d.ready.readyAfter(d.freedAt)
		return !d.readyAt.IsZero() || d.srv.exited()
	}
	waitUntil(ctx, readyQuiet, readyAfter)
	if d.readyAt.IsZero() && !d.srv.exited() {
		quiet, reasons := d.ready.between(d.freedAt, time.Now())
		row.fail("/readyz did not answer 200 within %v of freeing space while no write came: %s (reasons: %s)",
			readyQuiet, quiet, reasons)
	}

	d.after = startProbes(ctx, d.t, newClient(1, e.cfg.Timeout), d.gen, 1, rand.New(rand.NewPCG(e.rng.Uint64(), 1)))
	waitUntil(ctx, e.cfg.DiskRecovery-time.Since(d.freedAt), func() bool {
		d.recoveredAt, _ = d.after.firstAckAfter(d.freedAt)
		return !d.recoveredAt.IsZero() || d.srv.exited()
	})
	d.after.Stop()
	row.Recovery = since(d.freedAt, d.recoveredAt)
	switch {
	case d.srv.exited():
		d.died("after the space was freed")
	case d.recoveredAt.IsZero():
		row.fail("writes were not acknowledged again within %v of freeing space, without a restart", e.cfg.DiskRecovery)
	default:
		rng := rand.New(rand.NewPCG(e.rng.Uint64(), 2))
		refused := tally{}
		for n := range sustained {
			b := d.gen.make(rng, 2, n)
			if a := deliverOnce(ctx, d.client, d.t.batchSender(b)); a.ok() {
				d.sustained = append(d.sustained, b)
			} else {
				d.sustainedNot = append(d.sustainedNot, b)
				refused[a.kind()]++
			}
		}
		if len(refused) > 0 {
			row.fail("after recovery, %d of %d writes were refused: %s", len(d.sustainedNot), sustained, refused)
		}
	}
	if d.readyAt.IsZero() {
		waitUntil(ctx, readyQuiet, readyAfter)
	}
	d.ready.Stop()
	return nil
}

// judge checks what the server answered while the disk was full, and
// after.
func (d *diskEpisode) judge() {
	row := d.row
	full := tally{}
	var refusals []time.Duration
	if !d.fullAt.IsZero() {
		full, refusals = d.full.between(d.fullAt, d.freedAt)
		for _, a := range d.load.answersCopy() {
			if !a.at.Before(d.fullAt) && a.at.Before(d.freedAt) {
				full[a.kind]++
				if !is2xx(a.kind) {
					refusals = append(refusals, a.latency)
				}
			}
		}
	}
	after, _ := d.after.between(d.freedAt, time.Now())
	row.P50, row.P99 = percentile(refusals, 50), percentile(refusals, 99)
	row.note("writes in the %v after they were first refused (load and probes): %s (p50/p99 are of the refusals)",
		fullWindow, full)
	row.note("probes once space was freed and /readyz answered 200, until one was acknowledged: %s", after)
	if bad := full.count(func(k string) bool { return !writeRefusalOK(k) }); bad > 0 {
		row.fail("%d write answers other than 2xx, 429 or 503 storage_unavailable/busy while the disk was full", bad)
	}
	if bad := after.count(func(k string) bool { return !writeRefusalOK(k) }); bad > 0 {
		row.fail("%d write answers other than 2xx, 429 or 503 storage_unavailable/busy once space was freed", bad)
	}
	if d.load.hangs > 0 {
		row.fail("%d requests hung past %v", d.load.hangs, d.e.cfg.Timeout)
	}

	readyFull, reasons := d.ready.between(firstTime(d.fullAt, d.freedAt), d.freedAt)
	readyAfter, _ := d.ready.between(d.freedAt, time.Now())
	row.note("/readyz while full: %s (reasons: %s); once space was freed: %s, 200 after %ss",
		readyFull, reasons, readyAfter, seconds(since(d.freedAt, d.readyAt)))
	if !d.fullAt.IsZero() && readyFull["503 not_ready"] == 0 {
		row.fail("/readyz never answered 503 not_ready while the disk was full")
	}
	notReadiness := func(k string) bool { return k != "200 ready" && k != "503 not_ready" }
	if bad := readyFull.count(notReadiness) + readyAfter.count(notReadiness); bad > 0 {
		row.fail("%d /readyz answers other than 200 ready or 503 not_ready", bad)
	}
	if d.readyAt.IsZero() && !d.srv.exited() {
		row.fail("/readyz did not answer 200 once writes were acknowledged again")
	}
}

// kept checks that nothing acknowledged was lost or set aside, before and
// after a restart, and that the server exits 0 at SIGTERM.
func (d *diskEpisode) kept(ctx context.Context) {
	e, row := d.e, d.row
	fullAcked, fullNot := d.full.split()
	afterAcked, afterNot := d.after.split()
	acked := slices.Concat(d.load.snapshot(), fullAcked, afterAcked, d.sustained)
	maybe := slices.Concat(d.load.unackedCopy(), fullNot, afterNot, d.sustainedNot)
	row.Acked = messageCount(acked)
	lost, dup := map[string]bool{}, map[string]bool{}
	check := func(when string) {
		reader := newClient(4, e.cfg.Timeout)
		defer reader.CloseIdleConnections()
		st, err := readMessages(ctx, d.t, reader, e.cfg.Users)
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
		q, err := quarantined(ctx, d.t, reader)
		if err != nil {
			row.fail("list the quarantine %s: %v", when, err)
		} else if len(q) > 0 {
			row.fail("%s: %d messages quarantined, e.g. %s", when, len(q), q[0])
		}
		e.log.Info("read back", "when", when, "stored", len(st.count), "acked", row.Acked, "lost", len(v.lost),
			"duplicated", len(v.duplicated), "quarantined", len(q))
	}
	if !d.srv.exited() {
		check("before the restart")
	}
	if err := d.srv.stop(30 * time.Second); err != nil {
		row.fail("stopping after the disk was full: %v", err)
	}
	srv, _, err := e.start(ctx, d.mnt)
	if err != nil {
		row.fail("restart after the disk was full: %v", err)
		return
	}
	d.srv, d.t.url = srv, srv.url
	check("after a restart")
	row.Lost, row.Duplicated = int64(len(lost)), int64(len(dup))
	if row.Lost > 0 {
		row.fail("%d acknowledged messages missing", row.Lost)
	}
	if row.Duplicated > 0 {
		row.fail("%d messages stored more than once", row.Duplicated)
	}
	n, other := repost(ctx, d.t, d.client, acked)
	row.Reposted, row.RepostedDup = int64(len(acked)), n
	if len(other) > 0 {
		row.fail("acknowledged batches sent again were answered %s", other)
	}
	if err := d.srv.stop(30 * time.Second); err != nil {
		row.fail("%v", err)
	}
}

// quarantined lists the site's quarantined messages as "ID: reason".
func quarantined(ctx context.Context, t target, client *http.Client) ([]string, error) {
	var q struct {
		Messages []struct {
			MessageID string `json:"message_id"`
			Reason    string `json:"reason"`
		} `json:"messages"`
	}
	if _, err := t.get(ctx, client, "/quarantine?limit=1000", &q); err != nil {
		return nil, err
	}
	var out []string
	for _, m := range q.Messages {
		out = append(out, m.MessageID+": "+m.Reason)
	}
	return out, nil
}

// waitUntil polls cond until it holds, limit has passed or ctx ends, and
// reports whether it held.
func waitUntil(ctx context.Context, limit time.Duration, cond func() bool) bool {
	end := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(end) || !sleepCtx(ctx, 20*time.Millisecond) {
			return false
		}
	}
}

// since returns to-from, or -1 when either is unknown.
func since(from, to time.Time) time.Duration {
	if from.IsZero() || to.IsZero() {
		return -1
	}
	return to.Sub(from)
}

// firstTime returns the earliest of the times that are set, or zero.
func firstTime(ts ...time.Time) time.Time {
	var first time.Time
	for _, t := range ts {
		if !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	return first
}

// kib renders a byte count, or "?" when unknown.
func kib(n int64) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// firstAnswer returns when the load first got an answer of kind.
func (l *load) firstAnswer(kind string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.answers {
		if a.kind == kind {
			return a.at
		}
	}
	return time.Time{}
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
