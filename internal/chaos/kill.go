package chaos

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// killBatches is the kill -9 scenario of batches: Rounds times, Senders
// post batches to /v1/batch and /t/batch, the server is killed at a random
// moment and restarted on the same data folder. After each restart every
// message acknowledged so far must be stored exactly once, every batch
// acknowledged in the round must be answered as duplicates when sent
// again, and the batches never answered are retried as a client would.
func killBatches(ctx context.Context, e *env, row *Row) error {
	data := filepath.Join(e.dir, "data")
	s, err := e.createSite(ctx, data, "chaos batches")
	if err != nil {
		return err
	}
	srv, _, err := e.start(ctx, data)
	if err != nil {
		return err
	}
	defer func() {
		if srv != nil {
			srv.kill()
		}
	}()
	client := newClient(e.cfg.Senders, e.cfg.Timeout)
	defer client.CloseIdleConnections()
	nonce := fmt.Sprintf("%08x", e.rng.Uint32())

	var confirmed, maybe []batch // acknowledged at some point; sent but never acknowledged
	lost, dup := map[string]bool{}, map[string]bool{}
	hidden := int64(0) // events counted but not shown: copies at page boundaries
	var latencies []time.Duration
	kinds := tally{}
	row.Rounds, row.Acked, row.Duplicated, row.Reposted, row.RepostedDup, row.Recovery = e.cfg.Rounds, 0, 0, 0, 0, 0
	check := func(t target, when string, pending []batch) error {
		st, err := readMessages(ctx, t, client, e.cfg.Users)
		if err != nil {
			return fmt.Errorf("read back %s: %w", when, err)
		}
		v := compare(st, confirmed, slices.Concat(pending, maybe))
		for _, id := range v.lost {
			lost[id] = true
		}
		for _, id := range v.duplicated {
			dup[id] = true
		}
		if len(v.unknown) > 0 {
			row.fail("%s: %d stored message IDs were never sent (e.g. %s)", when, len(v.unknown), v.unknown[0])
		}
		if v.hidden > 0 {
			row.fail("%s: the users' summaries count %d events more than their pages show (stored twice?)", when, v.hidden)
			hidden = max(hidden, v.hidden)
		}
		e.log.Info("read back", "when", when, "stored", len(st.count), "acked", messageCount(confirmed),
			"lost", len(v.lost), "duplicated", len(v.duplicated))
		return nil
	}

	for round := 1; round <= e.cfg.Rounds; round++ {
		t := target{url: srv.url, site: s}
		l := newLoad(t, client, e.cfg, fmt.Sprintf("%s-r%d", nonce, round), e.rng.Uint64())
		loadCtx, stopLoad := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { l.run(loadCtx, e.cfg.Senders); close(done) }()
		killAt := e.cfg.KillMin + time.Duration(e.rng.Int64N(int64(e.cfg.KillMax-e.cfg.KillMin)+1))
		sleepCtx(ctx, killAt)
		srv.kill()
		stopLoad()
		<-done
		client.CloseIdleConnections()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		row.Acked += messageCount(l.acked)
		latencies = append(latencies, l.latencies...)
		kinds.add(l.kinds)
		if l.partial > 0 {
			row.fail("round %d: %d acknowledged batches did not accept every message as new", round, l.partial)
		}
		confirmed = append(confirmed, l.acked...)
		e.log.Info("killed", "round", round, "after", killAt.Round(time.Millisecond),
			"acked_batches", len(l.acked), "unacked_batches", len(l.unacked))

		var took time.Duration
		if srv, took, err = e.start(ctx, data); err != nil {
			return fmt.Errorf("restart after kill %d: %w", round, err)
		}
		row.Recovery = max(row.Recovery, took)
		t.url = srv.url
		if err := check(t, fmt.Sprintf("round %d", round), l.unacked); err != nil {
			return err
		}
		d, other := repost(ctx, t, client, l.acked)
		row.Reposted += int64(len(l.acked))
		row.RepostedDup += d
		if len(other) > 0 {
			row.fail("round %d: acknowledged batches sent again were answered %s", round, other)
		}
		ok, not := retryUnacked(ctx, t, client, l.unacked)
		confirmed = append(confirmed, ok...)
		maybe = append(maybe, not...)
		if len(not) > 0 {
			row.fail("round %d: %d unacknowledged batches were still refused when retried", round, len(not))
		}
		row.note("round %d: killed %.1fs into the load; %d batches acked, %d unacked (%d retried fine); back in %.2fs",
			round, killAt.Seconds(), len(l.acked), len(l.unacked), len(ok), took.Seconds())
	}
	if err := check(target{url: srv.url, site: s}, "after the retries", nil); err != nil {
		return err
	}
	row.Lost, row.Duplicated = int64(len(lost)), int64(len(dup))+hidden
	if row.Lost > 0 {
		row.fail("%d acknowledged messages missing after a kill", row.Lost)
	}
	if len(dup) > 0 {
		row.fail("%d messages stored more than once", len(dup))
	}
	if row.RepostedDup != row.Reposted {
		row.fail("%d of %d acknowledged batches sent again were not all duplicates", row.Reposted-row.RepostedDup, row.Reposted)
	}
	row.P50, row.P99 = percentile(latencies, 50), percentile(latencies, 99)
	row.note("answers during the load: %s", kinds)
	if err := srv.stop(30 * time.Second); err != nil {
		row.fail("%v", err)
	}
	return nil
}
