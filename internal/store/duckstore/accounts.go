package duckstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/store"
)

// Dashboard accounts, their browser sessions and invitations. These tables
// are small and written rarely (sign-in, team changes), so every call goes
// to the database: a revoked session or deleted account stops working at
// once.

const accountColumns = "id, email, name, role, site_ids, created_at, last_seen_at"

func scanAccount(row scanner, extra ...any) (store.Account, error) {
	var a store.Account
	var role string
	var sites []any
	var seen sql.NullTime
	dest := append([]any{&a.ID, &a.Email, &a.Name, &role, &sites, &a.CreatedAt, &seen}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.Account{}, err
	}
	a.Role = store.Role(role)
	a.SiteIDs = int64s(sites)
	if seen.Valid {
		a.LastSeenAt = seen.Time
	}
	return a, nil
}

// int64s converts a scanned BIGINT[] to its values.
func int64s(list []any) []int64 {
	out := make([]int64, 0, len(list))
	for _, v := range list {
		if n, ok := v.(int64); ok {
			out = append(out, n)
		}
	}
	return out
}

// isConstraint reports whether err is a violated UNIQUE or PRIMARY KEY.
func isConstraint(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && de.Type == duckdb.ErrorTypeConstraint
}

func siteIDs(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// CreateAccount stores a new account with its password hash. An email
// already taken gives store.ErrConflict.
func (db *DB) CreateAccount(ctx context.Context, a store.Account, passwordHash string) error {
	defer db.writing()()
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	return insertAccount(ctx, db.pool(), a, passwordHash)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertAccount(ctx context.Context, x execer, a store.Account, passwordHash string) error {
	_, err := x.ExecContext(ctx, "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?::BIGINT[], ?, NULL)",
		a.ID, a.Email, a.Name, string(a.Role), passwordHash, siteIDs(a.SiteIDs), a.CreatedAt)
	if isConstraint(err) {
		return fmt.Errorf("account %s: %w", a.Email, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	return nil
}

// AccountByEmail returns the account with this (normalised) email and its
// password hash.
func (db *DB) AccountByEmail(ctx context.Context, email string) (store.Account, string, error) {
	var hash string
	a, err := scanAccount(db.pool().QueryRowContext(ctx,
		"SELECT "+accountColumns+", password_hash FROM accounts WHERE email = ?", email), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, "", fmt.Errorf("account %s: %w", email, store.ErrNotFound)
	}
	if err != nil {
		return store.Account{}, "", fmt.Errorf("look up account: %w", err)
	}
	return a, hash, nil
}

// AccountByID returns the account with this ID and its password hash.
func (db *DB) AccountByID(ctx context.Context, id string) (store.Account, string, error) {
	var hash string
	a, err := scanAccount(db.pool().QueryRowContext(ctx,
		"SELECT "+accountColumns+", password_hash FROM accounts WHERE id = ?", id), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, "", fmt.Errorf("account %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Account{}, "", fmt.Errorf("look up account: %w", err)
	}
	return a, hash, nil
}

// ListAccounts returns every account, oldest first.
func (db *DB) ListAccounts(ctx context.Context) ([]store.Account, error) {
	return queryAll(ctx, db.pool(), "list accounts", func(r scanner) (store.Account, error) { return scanAccount(r) },
		"SELECT "+accountColumns+" FROM accounts ORDER BY created_at, id")
}

// UpdateAccount stores a's name, role and sites.
func (db *DB) UpdateAccount(ctx context.Context, a store.Account) error {
	defer db.writing()()
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	res, err := db.pool().ExecContext(ctx, "UPDATE accounts SET name = ?, role = ?, site_ids = ?::BIGINT[] WHERE id = ?",
		a.Name, string(a.Role), siteIDs(a.SiteIDs), a.ID)
	return affectedOne(res, err, "update account "+a.ID)
}

// SetPassword replaces an account's password hash and ends all its
// sessions, in one transaction.
func (db *DB) SetPassword(ctx context.Context, accountID, passwordHash string) error {
	return db.catalogTx(ctx, "set password", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE accounts SET password_hash = ? WHERE id = ?", passwordHash, accountID)
		if err := affectedOne(res, err, "set password of "+accountID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM account_sessions WHERE account_id = ?", accountID)
		return err
	})
}

// DeleteAccount deletes an account and ends its sessions.
func (db *DB) DeleteAccount(ctx context.Context, id string) error {
	return db.catalogTx(ctx, "delete account", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM account_sessions WHERE account_id = ?", id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM accounts WHERE id = ?", id)
		return affectedOne(res, err, "delete account "+id)
	})
}

// CreateSession stores a new browser session, and forgets expired ones.
func (db *DB) CreateSession(ctx context.Context, s store.BrowserSession) error {
	defer db.writing()()
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	if _, err := db.pool().ExecContext(ctx, "DELETE FROM account_sessions WHERE expires_at < ?", s.CreatedAt); err != nil {
		return fmt.Errorf("forget expired sessions: %w", err)
	}
	if _, err := db.pool().ExecContext(ctx, "INSERT INTO account_sessions VALUES (?, ?, ?, ?, ?)",
		s.IDHash, s.AccountID, s.CreatedAt, s.ExpiresAt, s.LastSeenAt); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionAccount returns the session with this ID hash and its account.
// Expiry is the caller's to check.
func (db *DB) SessionAccount(ctx context.Context, idHash string) (store.BrowserSession, store.Account, error) {
	var s store.BrowserSession
	a, err := scanAccount(db.pool().QueryRowContext(ctx, `SELECT a.id, a.email, a.name, a.role, a.site_ids,
		a.created_at, a.last_seen_at, s.id_hash, s.account_id, s.created_at, s.expires_at, s.last_seen_at
		FROM account_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id_hash = ?`, idHash),
		&s.IDHash, &s.AccountID, &s.CreatedAt, &s.ExpiresAt, &s.LastSeenAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.BrowserSession{}, store.Account{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.BrowserSession{}, store.Account{}, fmt.Errorf("look up session: %w", err)
	}
	return s, a, nil
}

// TouchSession records that a session was used at seen and extends it to
// expires; the account's last sign of life moves to seen too.
func (db *DB) TouchSession(ctx context.Context, s store.BrowserSession) error {
	return db.catalogTx(ctx, "touch session", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE account_sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?",
			s.LastSeenAt, s.ExpiresAt, s.IDHash); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE accounts SET last_seen_at = ? WHERE id = ?", s.LastSeenAt, s.AccountID)
		return err
	})
}

// DeleteSession ends one session; ending an unknown one is not an error.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	defer db.writing()()
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	if _, err := db.pool().ExecContext(ctx, "DELETE FROM account_sessions WHERE id_hash = ?", idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

const inviteColumns = "id, email, role, site_ids, created_by, created_at, expires_at"

func scanInvite(row scanner) (store.Invite, error) {
	var inv store.Invite
	var role string
	var sites []any
	if err := row.Scan(&inv.ID, &inv.Email, &role, &sites, &inv.CreatedBy, &inv.CreatedAt, &inv.ExpiresAt); err != nil {
		return store.Invite{}, err
	}
	inv.Role = store.Role(role)
	inv.SiteIDs = int64s(sites)
	return inv, nil
}

// CreateInvite stores an invitation under the hash of its token. It
// replaces any pending invitation for the same email.
func (db *DB) CreateInvite(ctx context.Context, inv store.Invite, tokenHash string) error {
	return db.catalogTx(ctx, "create invite", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM invites WHERE email = ?", inv.Email); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO invites VALUES (?, ?, ?, ?, ?::BIGINT[], ?, ?, ?)",
			inv.ID, tokenHash, inv.Email, string(inv.Role), siteIDs(inv.SiteIDs), inv.CreatedBy, inv.CreatedAt, inv.ExpiresAt)
		return err
	})
}

// InviteByToken returns the invitation with this token hash, expired or
// not.
func (db *DB) InviteByToken(ctx context.Context, tokenHash string) (store.Invite, error) {
	inv, err := scanInvite(db.pool().QueryRowContext(ctx, "SELECT "+inviteColumns+" FROM invites WHERE token_hash = ?", tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Invite{}, fmt.Errorf("invite: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Invite{}, fmt.Errorf("look up invite: %w", err)
	}
	return inv, nil
}

// ListInvites returns the invitations not yet expired at now, oldest
// first.
func (db *DB) ListInvites(ctx context.Context, now time.Time) ([]store.Invite, error) {
	return queryAll(ctx, db.pool(), "list invites", scanInvite,
		"SELECT "+inviteColumns+" FROM invites WHERE expires_at > ? ORDER BY created_at, id", now)
}

// DeleteInvite withdraws an invitation.
func (db *DB) DeleteInvite(ctx context.Context, id string) error {
	defer db.writing()()
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	res, err := db.pool().ExecContext(ctx, "DELETE FROM invites WHERE id = ?", id)
	return affectedOne(res, err, "delete invite "+id)
}

// AcceptInvite creates the invited account and consumes the invitation in
// one transaction, so an invitation makes at most one account.
func (db *DB) AcceptInvite(ctx context.Context, inviteID string, a store.Account, passwordHash string) error {
	return db.catalogTx(ctx, "accept invite", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM invites WHERE id = ?", inviteID)
		if err := affectedOne(res, err, "accept invite "+inviteID); err != nil {
			return err
		}
		return insertAccount(ctx, tx, a, passwordHash)
	})
}

// affectedOne turns an UPDATE or DELETE that touched no row into
// store.ErrNotFound.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// catalogTx runs fn in a transaction of its own (not on the write
// connection: these tables are not the ingestion writer's), committing when
// fn returns nil. Like every write to these tables it holds catalogMu.
func (db *DB) catalogTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	defer db.writing()()
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	tx, err := db.pool().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			return err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
