package duckstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

// tokenUseInterval is how often a token's last use is written: each API
// call would otherwise write to the database.
const tokenUseInterval = time.Minute

// tokenUse remembers when each token's last use was written.
type tokenUse struct {
	mu      sync.Mutex
	written map[string]time.Time
}

// due reports whether the use of token id at now should be written, and
// if so records it.
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

const tokenColumns = "id, site_id, scope, coalesce(name, ''), created_at, last_used_at, revoked_at"

func scanToken(row scanner) (store.Token, error) {
	var tok store.Token
	var scope string
	var used, revoked sql.NullTime
	if err := row.Scan(&tok.ID, &tok.SiteID, &scope, &tok.Name, &tok.CreatedAt, &used, &revoked); err != nil {
		return store.Token{}, err
	}
	tok.Scope = store.Scope(scope)
	if used.Valid {
		tok.LastUsedAt = &used.Time
	}
	if revoked.Valid {
		tok.RevokedAt = &revoked.Time
	}
	return tok, nil
}

// CreateNamedToken creates an API token for a site and returns its secret,
// which is not stored and cannot be shown again. The name says what the
// token is for.
func (db *DB) CreateNamedToken(ctx context.Context, siteID int64, scope store.Scope, name string) (store.Token, string, error) {
	defer db.writing()()
	if !scope.Allows(store.ScopeRead) {
		return store.Token{}, "", fmt.Errorf("unknown scope %q (want read, write or admin)", scope)
	}
	secret := auth.NewSecret("sl_")
	tok := store.Token{ID: auth.NewID("tok_"), SiteID: siteID, Scope: scope, Name: strings.TrimSpace(name),
		CreatedAt: db.opts.Now().UTC().Truncate(time.Microsecond)}
	if _, err := db.pool().ExecContext(ctx,
		"INSERT INTO tokens (id, site_id, scope, secret_hash, created_at, name) VALUES (?, ?, ?, ?, ?, ?)",
		tok.ID, tok.SiteID, string(tok.Scope), auth.Hash(secret), tok.CreatedAt, tok.Name); err != nil {
		return store.Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return tok, secret, nil
}

// TokenBySecret returns the live token with this secret. A revoked token is
// not found: there is no cache, so a revocation holds from the next call.
//
// The token's last use is recorded when the database takes writes at
// once: while a user's deletion rewrites the database file (minutes on a
// big one) it is skipped, so that requests are not held back for it.
func (db *DB) TokenBySecret(ctx context.Context, secret string) (store.Token, error) {
	tok, err := scanToken(db.pool().QueryRowContext(ctx,
		"SELECT "+tokenColumns+" FROM tokens WHERE secret_hash = ? AND revoked_at IS NULL", auth.Hash(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("look up token: %w", err)
	}
	if !db.gate.TryRLock() {
		return tok, nil
	}
	defer db.gate.RUnlock()
	if now := db.opts.Now().UTC().Truncate(time.Microsecond); db.tokenUse.due(tok.ID, now) {
		db.catalogMu.Lock()
		_, err := db.pool().ExecContext(ctx, "UPDATE tokens SET last_used_at = ? WHERE id = ?", now, tok.ID)
		db.catalogMu.Unlock()
		if err != nil {
			db.log.Warn("record token use", "token", tok.ID, "err", err)
		}
		tok.LastUsedAt = &now
	}
	return tok, nil
}

// TokenByID returns a token, revoked or not.
func (db *DB) TokenByID(ctx context.Context, id string) (store.Token, error) {
	tok, err := scanToken(db.pool().QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("look up token: %w", err)
	}
	return tok, nil
}

// Tokens lists a site's tokens, revoked ones included, oldest first.
func (db *DB) Tokens(ctx context.Context, siteID int64) ([]store.Token, error) {
	return queryAll(ctx, db.pool(), "list tokens", scanToken,
		"SELECT "+tokenColumns+" FROM tokens WHERE site_id = ? ORDER BY created_at, id", siteID)
}

// RevokeToken revokes a token for good. Revoking a revoked token changes
// nothing.
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	defer db.writing()()
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	res, err := db.pool().ExecContext(ctx, "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
		db.opts.Now().UTC().Truncate(time.Microsecond), id)
	return affectedOne(res, err, "revoke token "+id)
}

// RotateWriteKey gives a site a new write key and returns it; the old key
// stops working at once.
func (db *DB) RotateWriteKey(ctx context.Context, siteID int64) (string, error) {
	defer db.writing()()
	key := auth.NewSecret("wk_")
	hash := auth.Hash(key)
	db.sites.mu.Lock()
	defer db.sites.mu.Unlock()
	res, err := db.pool().ExecContext(ctx, "UPDATE sites SET write_key_hash = ?, write_key = ? WHERE id = ?", hash, key, siteID)
	if err := affectedOne(res, err, "rotate write key"); err != nil {
		return "", err
	}
	for old, s := range db.sites.byKey {
		if s.ID == siteID {
			delete(db.sites.byKey, old)
			db.sites.byKey[hash] = s
			break
		}
	}
	return key, nil
}

// WriteKey returns a site's write key, "" for a site made before keys
// were kept (rotating gives it one). The key is in every page that has the
// snippet, so it is no secret; the API shows it to admins only all the
// same.
func (db *DB) WriteKey(ctx context.Context, siteID int64) (string, error) {
	var key sql.NullString
	err := db.pool().QueryRowContext(ctx, "SELECT write_key FROM sites WHERE id = ?", siteID).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("site %d: %w", siteID, store.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read write key: %w", err)
	}
	return key.String, nil
}
