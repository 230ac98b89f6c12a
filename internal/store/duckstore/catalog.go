package duckstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

// siteCache keeps every site in memory: write keys are checked on every
// ingestion request, and sites are few and change only through this process.
type siteCache struct {
	mu       sync.RWMutex
	byKey    map[string]store.Site // write key hash → site
	byPublic map[string]store.Site
	nextID   int64
}

func (c *siteCache) load(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "SELECT id, public_id, name, write_key_hash, origins, respect_dnt, coalesce(key_attributes, []::VARCHAR[]), coalesce(keep_params, []::VARCHAR[]), coalesce(scrub_params, []::VARCHAR[]), coalesce(time_zone, ''), created_at FROM sites")
	if err != nil {
		return fmt.Errorf("load sites: %w", err)
	}
	defer rows.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byKey = map[string]store.Site{}
	c.byPublic = map[string]store.Site{}
	c.nextID = 1
	for rows.Next() {
		var s store.Site
		var hash string
		var origins, keys, keep, scrub []any
		if err := rows.Scan(&s.ID, &s.PublicID, &s.Name, &hash, &origins, &s.RespectDNT, &keys, &keep, &scrub, &s.TimeZone, &s.CreatedAt); err != nil {
			return fmt.Errorf("load sites: %w", err)
		}
		s.Origins = make([]string, 0, len(origins))
		for _, o := range origins {
			s.Origins = append(s.Origins, fmt.Sprint(o))
		}
		for _, k := range keys {
			s.KeyAttributes = append(s.KeyAttributes, fmt.Sprint(k))
		}
		for _, k := range keep {
			s.KeepParams = append(s.KeepParams, fmt.Sprint(k))
		}
		for _, k := range scrub {
			s.ScrubParams = append(s.ScrubParams, fmt.Sprint(k))
		}
		if s.TimeZone == "" {
			s.TimeZone = store.DefaultTimeZone
		}
		c.byKey[hash] = s
		c.byPublic[s.PublicID] = s
		c.nextID = max(c.nextID, s.ID+1)
	}
	return rows.Err()
}

// CreateSite creates a site and returns it with its write key, which is not
// stored and cannot be shown again.
func (db *DB) CreateSite(ctx context.Context, name string, origins []string) (store.Site, string, error) {
	defer db.writing()()
	name, err := store.CheckSiteName(name)
	if err != nil {
		return store.Site{}, "", err
	}
	clean, err := store.NormalizeOrigins(origins)
	if err != nil {
		return store.Site{}, "", err
	}
	key := auth.NewSecret("wk_")
	db.sites.mu.Lock()
	defer db.sites.mu.Unlock()
	s := store.Site{
		ID:        db.sites.nextID,
		PublicID:  auth.NewID("s_"),
		Name:      name,
		Origins:   clean,
		TimeZone:  store.DefaultTimeZone,
		CreatedAt: db.opts.Now().UTC().Truncate(time.Microsecond),
	}
	if _, err := db.pool().ExecContext(ctx,
		`INSERT INTO sites (id, public_id, name, write_key_hash, write_key, origins, respect_dnt, created_at)
		VALUES (?, ?, ?, ?, ?, ?::VARCHAR[], false, ?)`,
		s.ID, s.PublicID, s.Name, auth.Hash(key), key, clean, s.CreatedAt); err != nil {
		return store.Site{}, "", fmt.Errorf("create site: %w", err)
	}
	db.sites.nextID++
	db.sites.byKey[auth.Hash(key)] = s
	db.sites.byPublic[s.PublicID] = s
	return s, key, nil
}

// UpdateSite changes a site's name, allowed origins or Do-Not-Track
// setting. The change takes effect at once for every request that looks
// the site up afterwards, the tracker's origin check included.
func (db *DB) UpdateSite(ctx context.Context, publicID string, u store.SiteUpdate) (store.Site, error) {
	defer db.writing()()
	db.sites.mu.Lock()
	defer db.sites.mu.Unlock()
	s, ok := db.sites.byPublic[publicID]
	if !ok {
		return store.Site{}, fmt.Errorf("site %q: %w", publicID, store.ErrNotFound)
	}
	if u.Name != nil {
		name, err := store.CheckSiteName(*u.Name)
		if err != nil {
			return store.Site{}, err
		}
		s.Name = name
	}
	if u.Origins != nil {
		clean, err := store.NormalizeOrigins(*u.Origins)
		if err != nil {
			return store.Site{}, err
		}
		s.Origins = clean
	}
	if u.RespectDNT != nil {
		s.RespectDNT = *u.RespectDNT
	}
	if u.TimeZone != nil {
		tz, err := store.CheckTimeZone(*u.TimeZone)
		if err != nil {
			return store.Site{}, err
		}
		s.TimeZone = tz
	}
	if u.KeyAttributes != nil {
		s.KeyAttributes = append([]string(nil), *u.KeyAttributes...)
	}
	if u.KeepParams != nil {
		s.KeepParams = append([]string(nil), *u.KeepParams...)
	}
	if u.ScrubParams != nil {
		s.ScrubParams = append([]string(nil), *u.ScrubParams...)
	}
	if _, err := db.pool().ExecContext(ctx, `UPDATE sites SET name = ?, origins = ?::VARCHAR[], respect_dnt = ?,
		key_attributes = ?::VARCHAR[], keep_params = ?::VARCHAR[], scrub_params = ?::VARCHAR[], time_zone = ? WHERE id = ?`,
		s.Name, s.Origins, s.RespectDNT, nonNil(s.KeyAttributes), nonNil(s.KeepParams), nonNil(s.ScrubParams), s.TimeZone, s.ID); err != nil {
		return store.Site{}, fmt.Errorf("update site: %w", err)
	}
	db.sites.byPublic[publicID] = s
	for hash, old := range db.sites.byKey {
		if old.ID == s.ID {
			db.sites.byKey[hash] = s
		}
	}
	return s, nil
}

// Site returns the site with the given public ID.
func (db *DB) Site(_ context.Context, publicID string) (store.Site, error) {
	db.sites.mu.RLock()
	defer db.sites.mu.RUnlock()
	s, ok := db.sites.byPublic[publicID]
	if !ok {
		return store.Site{}, fmt.Errorf("site %q: %w", publicID, store.ErrNotFound)
	}
	return s, nil
}

// Sites lists every site, oldest first.
func (db *DB) Sites(_ context.Context) []store.Site {
	db.sites.mu.RLock()
	defer db.sites.mu.RUnlock()
	out := make([]store.Site, 0, len(db.sites.byPublic))
	for _, s := range db.sites.byPublic {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b store.Site) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// SiteByWriteKey returns the site whose write key this is.
func (db *DB) SiteByWriteKey(_ context.Context, writeKey string) (store.Site, error) {
	db.sites.mu.RLock()
	defer db.sites.mu.RUnlock()
	s, ok := db.sites.byKey[auth.Hash(writeKey)]
	if !ok {
		return store.Site{}, fmt.Errorf("write key: %w", store.ErrNotFound)
	}
	return s, nil
}

// CreateToken creates an unnamed API token for a site and returns its
// secret, which is not stored and cannot be shown again.
func (db *DB) CreateToken(ctx context.Context, siteID int64, scope store.Scope) (store.Token, string, error) {
	return db.CreateNamedToken(ctx, siteID, scope, "")
}

// nonNil makes a nil list an empty one, which the driver binds as a list.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
