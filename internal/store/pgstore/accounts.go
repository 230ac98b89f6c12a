package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
)

// Dashboard accounts, their browser sessions and invitations. Every call
// goes to the database: a session ended or an account deleted on one node
// stops working on all of them at once.

const accountColumns = "a.id, a.email, a.name, a.role, a.site_ids, a.created_at, a.last_seen_at"

func scanAccount(row pgx.Row, extra ...any) (store.Account, error) {
	var a store.Account
	var role string
	var seen *time.Time
	if err := row.Scan(append([]any{&a.ID, &a.Email, &a.Name, &role, &a.SiteIDs, &a.CreatedAt, &seen}, extra...)...); err != nil {
		return store.Account{}, err
	}
	a.Role = store.Role(role)
	if len(a.SiteIDs) == 0 {
		a.SiteIDs = nil
	}
	if seen != nil {
		a.LastSeenAt = *seen
	}
	return a, nil
}

func siteIDs(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// CreateAccount stores a new account; an email already taken gives
// store.ErrConflict.
func (db *DB) CreateAccount(ctx context.Context, a store.Account, passwordHash string) error {
	return insertAccount(ctx, db.pool, a, passwordHash)
}

func insertAccount(ctx context.Context, x execer, a store.Account, passwordHash string) error {
	_, err := x.Exec(ctx, `INSERT INTO accounts (id, email, name, role, password_hash, site_ids, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		a.ID, a.Email, a.Name, string(a.Role), passwordHash, siteIDs(a.SiteIDs), utc(a.CreatedAt))
	if sqlState(err) == uniqueViolation {
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
	a, err := scanAccount(db.pool.QueryRow(ctx, "SELECT "+accountColumns+", a.password_hash FROM accounts a WHERE a.email = $1", email), &hash)
	if err != nil {
		return store.Account{}, "", notFound(err, "account "+email)
	}
	return a, hash, nil
}

// AccountByID returns the account with this ID and its password hash.
func (db *DB) AccountByID(ctx context.Context, id string) (store.Account, string, error) {
	var hash string
	a, err := scanAccount(db.pool.QueryRow(ctx, "SELECT "+accountColumns+", a.password_hash FROM accounts a WHERE a.id = $1", id), &hash)
	if err != nil {
		return store.Account{}, "", notFound(err, "account "+id)
	}
	return a, hash, nil
}

// ListAccounts returns every account, oldest first.
func (db *DB) ListAccounts(ctx context.Context) ([]store.Account, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+accountColumns+" FROM accounts a ORDER BY a.created_at, a.id")
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Account, error) { return scanAccount(r) })
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return list, nil
}

// UpdateAccount stores a's name, role and sites.
func (db *DB) UpdateAccount(ctx context.Context, a store.Account) error {
	tag, err := db.pool.Exec(ctx, "UPDATE accounts SET name = $2, role = $3, site_ids = $4 WHERE id = $1",
		a.ID, a.Name, string(a.Role), siteIDs(a.SiteIDs))
	return affectedOne(tag, err, "update account "+a.ID)
}

// SetPassword replaces an account's password hash and ends all its
// sessions, in one transaction.
func (db *DB) SetPassword(ctx context.Context, accountID, passwordHash string) error {
	return db.inTx(ctx, "set password", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE accounts SET password_hash = $2 WHERE id = $1", accountID, passwordHash)
		if err := affectedOne(tag, err, "set password of "+accountID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM account_sessions WHERE account_id = $1", accountID)
		return err
	})
}

// DeleteAccount deletes an account and ends its sessions.
func (db *DB) DeleteAccount(ctx context.Context, id string) error {
	return db.inTx(ctx, "delete account", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM accounts WHERE id = $1", id)
		if err := affectedOne(tag, err, "delete account "+id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM account_sessions WHERE account_id = $1", id)
		return err
	})
}

// CreateSession stores a new browser session, and forgets expired ones.
func (db *DB) CreateSession(ctx context.Context, s store.BrowserSession) error {
	if _, err := db.pool.Exec(ctx, "DELETE FROM account_sessions WHERE expires_at < $1", utc(s.CreatedAt)); err != nil {
		return fmt.Errorf("forget expired sessions: %w", err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO account_sessions (id_hash, account_id, created_at, expires_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5)`, s.IDHash, s.AccountID, utc(s.CreatedAt), utc(s.ExpiresAt), utc(s.LastSeenAt)); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionAccount returns the session with this ID hash and its account.
// Expiry is the caller's to check.
func (db *DB) SessionAccount(ctx context.Context, idHash string) (store.BrowserSession, store.Account, error) {
	var s store.BrowserSession
	a, err := scanAccount(db.pool.QueryRow(ctx, "SELECT "+accountColumns+`, s.id_hash, s.account_id, s.created_at,
			s.expires_at, s.last_seen_at
		FROM account_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id_hash = $1`, idHash),
		&s.IDHash, &s.AccountID, &s.CreatedAt, &s.ExpiresAt, &s.LastSeenAt)
	if err != nil {
		return store.BrowserSession{}, store.Account{}, notFound(err, "session")
	}
	return s, a, nil
}

// TouchSession records that a session was used at s.LastSeenAt and
// extends it to s.ExpiresAt; the account's last sign of life moves too.
// Neither goes back when nodes touch out of order.
func (db *DB) TouchSession(ctx context.Context, s store.BrowserSession) error {
	return db.inTx(ctx, "touch session", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE account_sessions SET last_seen_at = GREATEST(last_seen_at, $2),
			expires_at = GREATEST(expires_at, $3) WHERE id_hash = $1`, s.IDHash, utc(s.LastSeenAt), utc(s.ExpiresAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE accounts SET last_seen_at = GREATEST(last_seen_at, $2) WHERE id = $1", s.AccountID, utc(s.LastSeenAt))
		return err
	})
}

// DeleteSession ends one session; ending an unknown one is not an error.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := db.pool.Exec(ctx, "DELETE FROM account_sessions WHERE id_hash = $1", idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

const inviteColumns = "id, email, role, site_ids, created_by, created_at, expires_at"

func scanInvite(row pgx.Row) (store.Invite, error) {
	var inv store.Invite
	var role string
	if err := row.Scan(&inv.ID, &inv.Email, &role, &inv.SiteIDs, &inv.CreatedBy, &inv.CreatedAt, &inv.ExpiresAt); err != nil {
		return store.Invite{}, err
	}
	inv.Role = store.Role(role)
	if len(inv.SiteIDs) == 0 {
		inv.SiteIDs = nil
	}
	return inv, nil
}

// CreateInvite stores an invitation under the hash of its token,
// replacing any invitation for the same email.
func (db *DB) CreateInvite(ctx context.Context, inv store.Invite, tokenHash string) error {
	return db.inTx(ctx, "create invite", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM invites WHERE email = $1", inv.Email); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO invites (id, token_hash, email, role, site_ids, created_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			inv.ID, tokenHash, inv.Email, string(inv.Role), siteIDs(inv.SiteIDs), inv.CreatedBy, utc(inv.CreatedAt), utc(inv.ExpiresAt))
		return err
	})
}

// InviteByToken returns the invitation with this token hash, expired or
// not.
func (db *DB) InviteByToken(ctx context.Context, tokenHash string) (store.Invite, error) {
	inv, err := scanInvite(db.pool.QueryRow(ctx, "SELECT "+inviteColumns+" FROM invites WHERE token_hash = $1", tokenHash))
	if err != nil {
		return store.Invite{}, notFound(err, "invite")
	}
	return inv, nil
}

// ListInvites returns the invitations not yet expired at now, oldest
// first.
func (db *DB) ListInvites(ctx context.Context, now time.Time) ([]store.Invite, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+inviteColumns+" FROM invites WHERE expires_at > $1 ORDER BY created_at, id", utc(now))
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Invite, error) { return scanInvite(r) })
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	return list, nil
}

// DeleteInvite withdraws an invitation.
func (db *DB) DeleteInvite(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, "DELETE FROM invites WHERE id = $1", id)
	return affectedOne(tag, err, "delete invite "+id)
}

// AcceptInvite creates the invited account and consumes the invitation in
// one transaction: an invitation makes at most one account, also when two
// nodes accept it at once (the second finds it gone).
func (db *DB) AcceptInvite(ctx context.Context, inviteID string, a store.Account, passwordHash string) error {
	return db.inTx(ctx, "accept invite", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM invites WHERE id = $1", inviteID)
		if err := affectedOne(tag, err, "accept invite "+inviteID); err != nil {
			return err
		}
		return insertAccount(ctx, tx, a, passwordHash)
	})
}
