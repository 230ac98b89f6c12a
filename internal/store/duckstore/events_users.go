package duckstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Distinct users per event are counted when asked, not kept: keeping them
// exactly would need a row per user and event, moved by every merge.
// Counting reads the user_key, kind and name columns of the site's events
// (about 1 s for 10M events on two cores), so an answer is kept for
// usersKeepFactor times what it cost, and at least Options.EventUsersKeep:
// under constant asking, counting takes at most a twentieth of the time.
// An answer past its time is still given while a fresh one is counted in
// the background.
const (
	usersKeepFactor = 20
	// usersExactBelow is the number of a site's events below which users
	// are counted exactly; above it, approx_count_distinct (HyperLogLog)
	// counts about twice as fast.
	usersExactBelow = 1_000_000
)

type userCounts struct {
	mu     sync.Mutex
	sites  map[int64]*siteUsers
	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type siteUsers struct {
	val     store.EventUsers
	ok      bool // val holds a count
	keep    time.Duration
	fresh   time.Time     // when val stops being fresh (monotonic)
	running chan struct{} // closed when the count under way ends
	err     error         // the last count's failure
}

func (c *userCounts) init() {
	c.sites = map[int64]*siteUsers{}
	c.ctx, c.cancel = context.WithCancel(context.Background())
}

// stop ends the counts under way and waits for them.
func (c *userCounts) stop() {
	c.cancel()
	c.wg.Wait()
}

// EventUsers implements store.EventCatalog.
func (db *DB) EventUsers(ctx context.Context, site int64) (store.EventUsers, error) {
	c := &db.users
	c.mu.Lock()
	s := c.sites[site]
	if s == nil {
		s = &siteUsers{}
		c.sites[site] = s
	}
	if s.ok && time.Now().Before(s.fresh) {
		defer c.mu.Unlock()
		return s.val, nil
	}
	if s.running == nil {
		done := make(chan struct{})
		s.running = done
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			db.countUsers(site, s, done)
		}()
	}
	running := s.running
	if s.ok {
		defer c.mu.Unlock()
		return s.val, nil // stale, while the count runs
	}
	c.mu.Unlock()
	select {
	case <-running:
	case <-ctx.Done():
		return store.EventUsers{}, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !s.ok {
		return store.EventUsers{}, s.err
	}
	return s.val, nil
}

// countUsers counts a site's users per event into s and closes done.
func (db *DB) countUsers(site int64, s *siteUsers, done chan struct{}) {
	c := &db.users
	start := time.Now()
	val, err := db.queryEventUsers(c.ctx, site)
	took := time.Since(start)
	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(done)
	s.running = nil
	s.err = err
	if err != nil {
		db.log.Warn("count users per event", "site", site, "err", err)
		return
	}
	s.val, s.ok = val, true
	s.fresh = time.Now().Add(max(db.opts.EventUsersKeep, usersKeepFactor*took))
}

// queryEventUsers counts the distinct users of each of a site's events.
func (db *DB) queryEventUsers(ctx context.Context, site int64) (store.EventUsers, error) {
	if err := db.Sync(ctx); err != nil {
		return store.EventUsers{}, err
	}
	at := db.opts.Now().UTC()
	var total int64
	if err := db.pool().QueryRowContext(ctx, "SELECT coalesce(sum(events), 0) FROM event_catalog WHERE site_id = ?",
		site).Scan(&total); err != nil {
		return store.EventUsers{}, fmt.Errorf("count users per event: %w", err)
	}
	out := store.EventUsers{Users: map[store.EventName]int64{}, At: at, Approximate: total >= usersExactBelow}
	agg := "count(DISTINCT user_key)"
	if out.Approximate {
		agg = "approx_count_distinct(user_key)"
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT kind, name, `+agg+` FROM events
		WHERE site_id = ? AND kind IN (?, ?, ?) GROUP BY ALL`,
		site, int(store.KindTrack), int(store.KindPage), int(store.KindScreen))
	if err != nil {
		return store.EventUsers{}, fmt.Errorf("count users per event: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n store.EventName
		var users int64
		if err := rows.Scan(&n.Kind, &n.Name, &users); err != nil {
			return store.EventUsers{}, fmt.Errorf("count users per event: %w", err)
		}
		out.Users[n] = users
	}
	return out, rows.Err()
}
