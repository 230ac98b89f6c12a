package pgstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

var _ store.Catalog = (*DB)(nil)

// Sites are read from the database on every lookup, not cached: a node
// that cached them would keep a rotated write key, or an origin an admin
// removed on another node, working. A lookup is one indexed row.

const siteColumns = "id, public_id, name, origins, respect_dnt, coalesce(key_attributes, '{}'), coalesce(keep_params, '{}'), coalesce(scrub_params, '{}'), coalesce(time_zone, 'UTC'), created_at"

func scanSite(row pgx.Row) (store.Site, error) {
	var s store.Site
	if err := row.Scan(&s.ID, &s.PublicID, &s.Name, &s.Origins, &s.RespectDNT, &s.KeyAttributes, &s.KeepParams, &s.ScrubParams, &s.TimeZone, &s.CreatedAt); err != nil {
		return store.Site{}, err
	}
	// Empty lists read as nil, as duckstore gives them.
	if len(s.KeyAttributes) == 0 {
		s.KeyAttributes = nil
	}
	if len(s.KeepParams) == 0 {
		s.KeepParams = nil
	}
	if len(s.ScrubParams) == 0 {
		s.ScrubParams = nil
	}
	if len(s.Origins) == 0 {
		s.Origins = nil
	}
	return s, nil
}

// CreateSite creates a site and returns it with its write key.
func (db *DB) CreateSite(ctx context.Context, name string, origins []string) (store.Site, string, error) {
	name, err := store.CheckSiteName(name)
	if err != nil {
		return store.Site{}, "", err
	}
	clean, err := store.NormalizeOrigins(origins)
	if err != nil {
		return store.Site{}, "", err
	}
	key := auth.NewSecret("wk_")
	s, err := scanSite(db.pool.QueryRow(ctx, `INSERT INTO sites (public_id, name, write_key_hash, write_key, origins, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+siteColumns,
		auth.NewID("s_"), name, auth.Hash(key), key, clean, db.now()))
	if err != nil {
		return store.Site{}, "", fmt.Errorf("create site: %w", err)
	}
	return s, key, nil
}

// UpdateSite changes what u names of a site, in one statement: a
// concurrent update of another field is not lost.
func (db *DB) UpdateSite(ctx context.Context, publicID string, u store.SiteUpdate) (store.Site, error) {
	var name *string
	if u.Name != nil {
		n, err := store.CheckSiteName(*u.Name)
		if err != nil {
			return store.Site{}, err
		}
		name = &n
	}
	var origins []string
	if u.Origins != nil {
		clean, err := store.NormalizeOrigins(*u.Origins)
		if err != nil {
			return store.Site{}, err
		}
		origins = clean
	}
	var tz *string
	if u.TimeZone != nil {
		z, err := store.CheckTimeZone(*u.TimeZone)
		if err != nil {
			return store.Site{}, err
		}
		tz = &z
	}
	list := func(p *[]string) []string {
		if p == nil {
			return nil
		}
		return append([]string{}, *p...)
	}
	s, err := scanSite(db.pool.QueryRow(ctx, `UPDATE sites SET
			name = coalesce($2, name),
			origins = CASE WHEN $3 THEN $4::TEXT[] ELSE origins END,
			respect_dnt = coalesce($5, respect_dnt),
			key_attributes = CASE WHEN $6 THEN $7::TEXT[] ELSE key_attributes END,
			keep_params = CASE WHEN $8 THEN $9::TEXT[] ELSE keep_params END,
			scrub_params = CASE WHEN $10 THEN $11::TEXT[] ELSE scrub_params END,
			time_zone = coalesce($12, time_zone)
		WHERE public_id = $1 RETURNING `+siteColumns,
		publicID, name, u.Origins != nil, origins, u.RespectDNT,
		u.KeyAttributes != nil, list(u.KeyAttributes), u.KeepParams != nil, list(u.KeepParams),
		u.ScrubParams != nil, list(u.ScrubParams), tz))
	if err != nil {
		return store.Site{}, notFound(err, fmt.Sprintf("site %q", publicID))
	}
	return s, nil
}

// Site returns the site with the given public ID.
func (db *DB) Site(ctx context.Context, publicID string) (store.Site, error) {
	s, err := scanSite(db.pool.QueryRow(ctx, "SELECT "+siteColumns+" FROM sites WHERE public_id = $1", publicID))
	if err != nil {
		return store.Site{}, notFound(err, fmt.Sprintf("site %q", publicID))
	}
	return s, nil
}

// Sites lists every site, oldest first. It has no error to return: a
// failed read is logged and lists none.
func (db *DB) Sites(ctx context.Context) []store.Site {
	rows, err := db.pool.Query(ctx, "SELECT "+siteColumns+" FROM sites ORDER BY id")
	if err == nil {
		var sites []store.Site
		sites, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Site, error) { return scanSite(r) })
		if err == nil {
			return sites
		}
	}
	db.log.Error("list sites", "err", err)
	return nil
}

// SiteByWriteKey returns the site whose write key this is.
func (db *DB) SiteByWriteKey(ctx context.Context, writeKey string) (store.Site, error) {
	s, err := scanSite(db.pool.QueryRow(ctx, "SELECT "+siteColumns+" FROM sites WHERE write_key_hash = $1", auth.Hash(writeKey)))
	if err != nil {
		return store.Site{}, notFound(err, "write key")
	}
	return s, nil
}

// WriteKey returns a site's write key, "" for a site whose key was never
// kept in clear.
func (db *DB) WriteKey(ctx context.Context, siteID int64) (string, error) {
	var key *string
	if err := db.pool.QueryRow(ctx, "SELECT write_key FROM sites WHERE id = $1", siteID).Scan(&key); err != nil {
		return "", notFound(err, fmt.Sprintf("site %d", siteID))
	}
	if key == nil {
		return "", nil
	}
	return *key, nil
}

// RotateWriteKey gives a site a new write key; the old one stops working
// on every node at once.
func (db *DB) RotateWriteKey(ctx context.Context, siteID int64) (string, error) {
	key := auth.NewSecret("wk_")
	tag, err := db.pool.Exec(ctx, "UPDATE sites SET write_key_hash = $2, write_key = $3 WHERE id = $1", siteID, auth.Hash(key), key)
	if err := affectedOne(tag, err, "rotate write key"); err != nil {
		return "", err
	}
	return key, nil
}

// tokenUseInterval is how often a token's last use is written, per node:
// each API call would otherwise write a row.
const tokenUseInterval = time.Minute

// tokenUse remembers when this node last wrote each token's last use.
type tokenUse struct {
	mu      sync.Mutex
	written map[string]time.Time
}

func (u *tokenUse) due(id string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.written == nil {
		u.written = map[string]time.Time{}
	}
	if now.Sub(u.written[id]) < tokenUseInterval {
		return false
	}
	u.written[id] = now
	return true
}

const tokenColumns = "id, site_id, scope, name, created_at, last_used_at, revoked_at"

func scanToken(row pgx.Row) (store.Token, error) {
	var tok store.Token
	var scope string
	if err := row.Scan(&tok.ID, &tok.SiteID, &scope, &tok.Name, &tok.CreatedAt, &tok.LastUsedAt, &tok.RevokedAt); err != nil {
		return store.Token{}, err
	}
	tok.Scope = store.Scope(scope)
	return tok, nil
}

// CreateToken creates an unnamed API token for a site.
func (db *DB) CreateToken(ctx context.Context, siteID int64, scope store.Scope) (store.Token, string, error) {
	return db.CreateNamedToken(ctx, siteID, scope, "")
}

// CreateNamedToken creates an API token for a site and returns its secret,
// which is stored only as a hash.
func (db *DB) CreateNamedToken(ctx context.Context, siteID int64, scope store.Scope, name string) (store.Token, string, error) {
	if !scope.Allows(store.ScopeRead) {
		return store.Token{}, "", fmt.Errorf("unknown scope %q (want read, write or admin)", scope)
	}
	secret := auth.NewSecret("sl_")
	tok := store.Token{ID: auth.NewID("tok_"), SiteID: siteID, Scope: scope, Name: strings.TrimSpace(name), CreatedAt: db.now()}
	if _, err := db.pool.Exec(ctx, "INSERT INTO tokens (id, site_id, scope, secret_hash, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
		tok.ID, tok.SiteID, string(tok.Scope), auth.Hash(secret), tok.Name, tok.CreatedAt); err != nil {
		return store.Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return tok, secret, nil
}

// TokenBySecret returns the live token with this secret. Nothing is
// cached: a revocation holds on every node from the next call.
func (db *DB) TokenBySecret(ctx context.Context, secret string) (store.Token, error) {
	tok, err := scanToken(db.pool.QueryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE secret_hash = $1 AND revoked_at IS NULL",
		auth.Hash(secret)))
	if err != nil {
		return store.Token{}, notFound(err, "token")
	}
	if now := db.now(); db.tokenUse.due(tok.ID, now) {
		// GREATEST: another node may have written a later use.
		if _, err := db.pool.Exec(ctx, "UPDATE tokens SET last_used_at = GREATEST(last_used_at, $2) WHERE id = $1", tok.ID, now); err != nil {
			db.log.Warn("record token use", "token", tok.ID, "err", err)
		}
		tok.LastUsedAt = &now
	}
	return tok, nil
}

// TokenByID returns a token, revoked or not.
func (db *DB) TokenByID(ctx context.Context, id string) (store.Token, error) {
	tok, err := scanToken(db.pool.QueryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE id = $1", id))
	if err != nil {
		return store.Token{}, notFound(err, "token "+id)
	}
	return tok, nil
}

// Tokens lists a site's tokens, revoked ones included, oldest first.
func (db *DB) Tokens(ctx context.Context, siteID int64) ([]store.Token, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE site_id = $1 ORDER BY created_at, id", siteID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Token, error) { return scanToken(r) })
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return list, nil
}

// RevokeToken revokes a token for good; revoking it again keeps the first
// time.
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, "UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1", id, db.now())
	return affectedOne(tag, err, "revoke token "+id)
}
