// Package migrate moves an embedded data folder into the scaled backends
// (issue 19, docs/scale-out.md): the analytics tables into ClickHouse
// (chstore.CopyWith), the recordings' chunks into S3 (any blob.Store),
// then compares, site by site, what the source and the target hold. It
// is the engine of `sightline migrate`; the command opens the stores,
// draws the progress and prints the comparison.
//
// Control data (sites, accounts, tokens, saved segments, surveys,
// settings) belongs in PostgreSQL in the scaled design; that store is not
// built yet, so this package does not move it.
package migrate

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/chstore"
)

// Options says what to move where. Nothing may write to the source
// meanwhile (the server stopped).
type Options struct {
	// Source is the embedded database (duckstore's SQL()), read only.
	Source *sql.DB
	// Sites are the source's sites, to name them in the comparison.
	Sites []store.Site
	// SourceBlobs holds the recordings' chunks in the data folder.
	SourceBlobs blob.Store
	// ClickHouse receives the analytics tables; nil moves none.
	ClickHouse *chstore.DB
	// S3 receives the recordings' chunks; nil moves none.
	S3 blob.Store
	// Resume goes on with a migration that stopped: complete tables and
	// blobs already in S3 are kept. Without it, a target that holds
	// anything is refused before anything is copied.
	Resume bool
	// Workers is the number of blobs copied at once (default 8).
	Workers int
	// Progress, when set, is told how each step goes. Calls do not
	// overlap.
	Progress func(Progress)
}

// Progress is how far one step is: a table, or the recordings' chunks.
type Progress struct {
	Step string
	// Unit is what Done and Total count: "rows" or "blobs".
	Unit        string
	Done, Total int64
	// Finished is set on a step's last call; Skipped when a resumed
	// migration found the step complete.
	Finished, Skipped bool
}

// ChunksStep is the name of the step that copies the recordings' chunks.
const ChunksStep = "recording chunks"

// Result is what a migration did and found.
type Result struct {
	// Rows copied by table in this run.
	Rows map[string]int64
	// Blobs and Bytes copied in this run; BlobsKept were in S3 already.
	Blobs, Bytes, BlobsKept int64
	// Missing are chunks indexed in the source whose blob is not in the
	// data folder (the comparison then differs); Unindexed are blobs in
	// the data folder that no chunk row names — left by a crash between
	// a blob and its row, or by a deletion not finished — not copied.
	Missing, Unindexed []string
	// Counts compares the source and the target, site by site.
	Counts []Count
}

// Count is one figure of one site in the source and in the target.
type Count struct {
	SiteID int64
	// Site names the site: its public ID and name, or its number when
	// the source does not have it.
	Site           string
	What           string
	Source, Target int64
}

// OK reports whether the target holds what the source does.
func (c Count) OK() bool { return c.Source == c.Target }

// ErrMismatch means the target does not hold what the source does.
var ErrMismatch = errors.New("the target's counts differ from the source's")

// The figures compared, in order.
const (
	whatEvents     = "events"
	whatSessions   = "sessions"
	whatUsers      = "users"
	whatRecordings = "recordings"
	whatChunks     = "recording chunks"
)

// Run migrates, then compares (see Compare). It returns ErrMismatch, with
// the Result, when the counts differ.
func Run(ctx context.Context, o Options) (Result, error) {
	res := Result{Rows: map[string]int64{}}
	if o.ClickHouse == nil && o.S3 == nil {
		return res, errors.New("migrate: no target: give ClickHouse, S3 or both")
	}
	var sourceKeys []string
	if o.S3 != nil {
		// The blobs' target is checked first, so that a refusal comes
		// before the tables are copied.
		var err error
		if sourceKeys, err = indexedChunks(ctx, o.Source); err != nil {
			return res, fmt.Errorf("migrate: the recordings' index: %w", err)
		}
		indexed := map[string]bool{}
		for _, k := range sourceKeys {
			indexed[k] = true
		}
		if err := o.SourceBlobs.List(ctx, "", func(k string) error {
			if !indexed[k] {
				res.Unindexed = append(res.Unindexed, k)
			}
			return nil
		}); err != nil {
			return res, fmt.Errorf("migrate: the data folder's recordings: %w", err)
		}
		if !o.Resume {
			if first, err := firstKey(ctx, o.S3); err != nil {
				return res, fmt.Errorf("migrate: S3: %w", err)
			} else if first != "" {
				return res, fmt.Errorf("migrate: S3 already holds blobs (%s, …): migrate into an empty bucket or prefix, or resume a migration that stopped (--resume)", first)
			}
		}
	}
	if o.ClickHouse != nil {
		rows, err := o.ClickHouse.CopyWith(ctx, o.Source, chstore.CopyOptions{Resume: o.Resume,
			Progress: func(p chstore.CopyProgress) {
				o.report(Progress{Step: p.Table, Unit: "rows", Done: p.Done, Total: p.Total, Finished: p.Finished, Skipped: p.Skipped})
			}})
		maps.Copy(res.Rows, rows)
		if err != nil {
			return res, fmt.Errorf("migrate: ClickHouse: %w", err)
		}
	}
	if o.S3 != nil {
		if err := o.copyBlobs(ctx, sourceKeys, &res); err != nil {
			return res, fmt.Errorf("migrate: S3: %w", err)
		}
	}
	counts, err := Compare(ctx, o)
	res.Counts = counts
	return res, err
}

func (o Options) report(p Progress) {
	if o.Progress != nil {
		o.Progress(p)
	}
}

// indexedChunks returns the blob keys of the chunks the source's
// recordings' index holds, in key order.
func indexedChunks(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT r.site_id, c.recording_id, c.seq
		FROM recording_chunks c JOIN recordings r ON r.id = c.recording_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ks []string
	for rows.Next() {
		var site int64
		var id string
		var seq int
		if err := rows.Scan(&site, &id, &seq); err != nil {
			return nil, err
		}
		ks = append(ks, recording.BlobKey(site, id, seq))
	}
	slices.Sort(ks)
	return ks, rows.Err()
}

var errStop = errors.New("stop")

// firstKey returns s's first key, "" when s is empty.
func firstKey(ctx context.Context, s blob.Store) (string, error) {
	var first string
	err := s.List(ctx, "", func(k string) error { first = k; return errStop })
	if errors.Is(err, errStop) {
		err = nil
	}
	return first, err
}

// copyBlobs copies the source's blobs into S3, several at once; resuming,
// it keeps those S3 has (a Put is atomic: a key there is whole).
func (o Options) copyBlobs(ctx context.Context, all []string, res *Result) error {
	todo := all
	if o.Resume {
		there := map[string]bool{}
		if err := o.S3.List(ctx, "", func(k string) error { there[k] = true; return nil }); err != nil {
			return err
		}
		todo = slices.DeleteFunc(slices.Clone(all), func(k string) bool { return there[k] })
		res.BlobsKept = int64(len(all) - len(todo))
	}
	total := int64(len(all))
	if len(todo) == 0 {
		o.report(Progress{Step: ChunksStep, Unit: "blobs", Done: total, Total: total, Finished: true, Skipped: o.Resume && total > 0})
		return nil
	}
	o.report(Progress{Step: ChunksStep, Unit: "blobs", Done: res.BlobsKept, Total: total})
	var mu sync.Mutex
	done := res.BlobsKept
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(o.Workers, 8))
	for _, key := range todo {
		g.Go(func() error {
			n, err := copyBlob(gctx, o.SourceBlobs, o.S3, key)
			missing := errors.Is(err, blob.ErrNotFound)
			if err != nil && !missing {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			done++
			if missing {
				res.Missing = append(res.Missing, key)
			} else {
				res.Blobs++
				res.Bytes += n
			}
			o.report(Progress{Step: ChunksStep, Unit: "blobs", Done: done, Total: total})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	slices.Sort(res.Missing)
	o.report(Progress{Step: ChunksStep, Unit: "blobs", Done: total, Total: total, Finished: true})
	return nil
}

func copyBlob(ctx context.Context, from, to blob.Store, key string) (int64, error) {
	rc, err := from.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return 0, fmt.Errorf("read blob %s: %w", key, err)
	}
	if err := to.Put(ctx, key, data); err != nil {
		return 0, err
	}
	return int64(len(data)), nil
}

// Compare counts, site by site, the events, sessions, users (identified
// and anonymous people) and recordings in the source and in ClickHouse,
// and the recordings' chunks in the source's index and their blobs in S3
// — for the targets o names. Every site of either side is listed, so a target that
// holds another site's data shows too. It returns ErrMismatch when any
// count differs.
func Compare(ctx context.Context, o Options) ([]Count, error) {
	type key struct {
		site int64
		what string
	}
	source, target := map[key]int64{}, map[key]int64{}
	sites := map[int64]bool{}
	add := func(into map[key]int64, what string, bySite map[int64]int64) {
		for site, n := range bySite {
			into[key{site, what}] = n
			sites[site] = true
		}
	}
	var compared []string
	if o.ClickHouse != nil {
		for _, q := range countQueries {
			src, err := countBySite(ctx, o.Source, q.duck)
			if err != nil {
				return nil, fmt.Errorf("count %s in the source: %w", q.what, err)
			}
			dst, err := countBySite(ctx, o.ClickHouse.SQL(), q.clickhouse)
			if err != nil {
				return nil, fmt.Errorf("count %s in ClickHouse: %w", q.what, err)
			}
			add(source, q.what, src)
			add(target, q.what, dst)
			compared = append(compared, q.what)
		}
	}
	if o.S3 != nil {
		src, err := countBySite(ctx, o.Source, `SELECT r.site_id, CAST(count(*) AS BIGINT)
			FROM recording_chunks c JOIN recordings r ON r.id = c.recording_id GROUP BY r.site_id`)
		if err != nil {
			return nil, fmt.Errorf("count the recording chunks in the source: %w", err)
		}
		dst, err := blobsBySite(ctx, o.S3)
		if err != nil {
			return nil, fmt.Errorf("count the recording chunks in S3: %w", err)
		}
		add(source, whatChunks, src)
		add(target, whatChunks, dst)
		compared = append(compared, whatChunks)
	}
	for _, s := range o.Sites {
		sites[s.ID] = true
	}
	names := map[int64]string{}
	for _, s := range o.Sites {
		names[s.ID] = s.PublicID + " (" + s.Name + ")"
	}
	var out []Count
	bad := 0
	for _, site := range slices.Sorted(maps.Keys(sites)) {
		name, ok := names[site]
		if !ok {
			name = "site " + strconv.FormatInt(site, 10) + " (not in the source)"
		}
		for _, what := range compared {
			c := Count{SiteID: site, Site: name, What: what, Source: source[key{site, what}], Target: target[key{site, what}]}
			if !c.OK() {
				bad++
			}
			out = append(out, c)
		}
	}
	if bad > 0 {
		return out, fmt.Errorf("%w: %d of %d counts", ErrMismatch, bad, len(out))
	}
	return out, nil
}

// countQueries count each figure per site on each side; both dialects
// accept the same SQL but for the tables' names (duckstore's view of all
// sessions; ClickHouse's replacing tables read with FINAL).
var countQueries = []struct {
	what, duck, clickhouse string
}{
	{whatEvents, "SELECT site_id, CAST(count(*) AS BIGINT) FROM events GROUP BY site_id",
		"SELECT site_id, CAST(count(*) AS BIGINT) FROM events GROUP BY site_id"},
	{whatSessions, "SELECT site_id, CAST(count(*) AS BIGINT) FROM all_sessions GROUP BY site_id",
		"SELECT site_id, CAST(count(*) AS BIGINT) FROM sessions FINAL GROUP BY site_id"},
	// A person is an entity with a user ID or an anonymous ID (kinds 1
	// and 2); merges have already joined their identities.
	{whatUsers, "SELECT site_id, CAST(count(DISTINCT entity_key) AS BIGINT) FROM identities WHERE kind IN (1, 2) GROUP BY site_id",
		"SELECT site_id, CAST(count(DISTINCT entity_key) AS BIGINT) FROM identities FINAL WHERE kind IN (1, 2) GROUP BY site_id"},
	{whatRecordings, "SELECT site_id, CAST(count(*) AS BIGINT) FROM recordings GROUP BY site_id",
		"SELECT site_id, CAST(count(*) AS BIGINT) FROM recordings FINAL GROUP BY site_id"},
}

func countBySite(ctx context.Context, db *sql.DB, query string) (map[int64]int64, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var site, n int64
		if err := rows.Scan(&site, &n); err != nil {
			return nil, err
		}
		out[site] = n
	}
	return out, rows.Err()
}

// blobsBySite counts blobs by their key's first segment, the site's
// number (recording.blobKey). Keys of another form are counted under 0.
func blobsBySite(ctx context.Context, s blob.Store) (map[int64]int64, error) {
	out := map[int64]int64{}
	err := s.List(ctx, "", func(k string) error {
		first, _, _ := strings.Cut(k, "/")
		site, _ := strconv.ParseInt(first, 10, 64)
		out[site]++
		return nil
	})
	return out, err
}
