package pgstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
)

var _ store.Changes = (*DB)(nil)

// The change counters of store.Versions live in PostgreSQL so that every
// node reads the same ones: a change committed through node A moves the
// counter node B's membership cache compares against. Users share
// userBuckets counters of each kind (a change of one user moves about
// one in 4,096 others' counters too, which costs them a cache entry); row
// -1 holds the counters of everyone (site, surveys).
const userBuckets = 1 << 12

const everyone = -1

// bucket picks the counter of a user key (Fibonacci hashing spreads
// consecutive keys).
func bucket(user int64) int32 {
	return int32((uint64(user) * 0x9e3779b97f4a7c15) >> (64 - 12))
}

// versionsTimeout bounds a read of the counters: Versions has no context.
const versionsTimeout = 2 * time.Second

// versionErrors numbers the reads of the counters that failed.
type versionErrors struct{ n atomic.Uint64 }

// Versions implements store.Changes with one indexed read. Versions has
// no error to return: when the read fails it returns counters no read
// ever returned before (the top bit set, and a number of its own), so
// that no answer kept under real counters is used, and none kept under
// these is used again.
func (db *DB) Versions(site, user int64) store.Versions {
	ctx, cancel := context.WithTimeout(context.Background(), versionsTimeout)
	defer cancel()
	var v store.Versions
	err := db.pool.QueryRow(ctx, `SELECT
			coalesce(max(profile) FILTER (WHERE bucket = $1), 0), coalesce(max(activity) FILTER (WHERE bucket = $1), 0),
			coalesce(max(site) FILTER (WHERE bucket = -1), 0), coalesce(max(surveys) FILTER (WHERE bucket = -1), 0)
		FROM change_counters WHERE bucket IN ($1, -1)`, bucket(user)).Scan(&v.Profile, &v.Activity, &v.Site, &v.Surveys)
	if err != nil {
		n := 1<<63 | db.vers.n.Add(1)
		db.log.Warn("read change counters", "err", err)
		return store.Versions{Profile: n, Activity: n, Site: n, Surveys: n}
	}
	return v
}

// Touch is a change to count: the users whose profile or activity
// changed, and whether something that may move anyone (Site) or survey
// answers (Surveys) did.
type Touch struct {
	Profile, Activity []int64
	Site, Surveys     bool
}

// TouchVersions moves the counters of t in one statement. The writer of
// the analytical backend calls it after it committed a change and before
// it lets readers see it (store.Versions' promise); this store's own
// writes (saved segments, deleted surveys) move theirs in the same
// transaction.
func (db *DB) TouchVersions(ctx context.Context, t Touch) error {
	return touch(ctx, db.pool, t)
}

func touch(ctx context.Context, x execer, t Touch) error {
	if len(t.Profile) == 0 && len(t.Activity) == 0 && !t.Site && !t.Surveys {
		return nil
	}
	var buckets []int32
	var profile, activity []int64
	add := func(keys []int64, p, a int64) {
		for _, k := range keys {
			buckets, profile, activity = append(buckets, bucket(k)), append(profile, p), append(activity, a)
		}
	}
	add(t.Profile, 1, 0)
	add(t.Activity, 0, 1)
	var site, surveys int64
	if t.Site {
		site = 1
	}
	if t.Surveys {
		surveys = 1
	}
	if site+surveys > 0 {
		buckets, profile, activity = append(buckets, everyone), append(profile, 0), append(activity, 0)
	}
	// Rows in bucket order, so that two nodes touching the same buckets
	// lock them in the same order and never deadlock.
	_, err := x.Exec(ctx, `INSERT INTO change_counters AS c (bucket, profile, activity, site, surveys)
		SELECT b, sum(p), sum(a), CASE WHEN b = -1 THEN $4::BIGINT ELSE 0 END, CASE WHEN b = -1 THEN $5::BIGINT ELSE 0 END
		FROM unnest($1::INTEGER[], $2::BIGINT[], $3::BIGINT[]) AS t (b, p, a)
		GROUP BY b ORDER BY b
		ON CONFLICT (bucket) DO UPDATE SET profile = c.profile + excluded.profile, activity = c.activity + excluded.activity,
			site = c.site + excluded.site, surveys = c.surveys + excluded.surveys`,
		buckets, profile, activity, site, surveys)
	if err != nil {
		return fmt.Errorf("move change counters: %w", err)
	}
	return nil
}

func bumpSite(ctx context.Context, tx pgx.Tx) error    { return touch(ctx, tx, Touch{Site: true}) }
func bumpSurveys(ctx context.Context, tx pgx.Tx) error { return touch(ctx, tx, Touch{Surveys: true}) }

// TouchVersionsIn is TouchVersions inside the caller's transaction: the
// scaled analytics store moves the counters in the transaction that
// commits its change, so that no reader sees the change with the old
// counters.
func TouchVersionsIn(ctx context.Context, tx pgx.Tx, t Touch) error { return touch(ctx, tx, t) }
