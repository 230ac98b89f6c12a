package duckstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/store"
)

var _ store.Auditor = (*DB)(nil)

// AddAudit implements store.Auditor.
//
// While a user's deletion rewrites the database file, writes wait for it
// (minutes on a big database); an entry is then written in the background
// once the rewrite is done, so that the request it records (the deletion
// request itself, say) is answered at once. A crash meanwhile loses it.
func (db *DB) AddAudit(ctx context.Context, e store.AuditEntry) error {
	if !db.gate.TryRLock() {
		go func() {
			defer db.writing()()
			if err := db.addAudit(context.WithoutCancel(ctx), e); err != nil {
				db.log.Warn("audit log entry not saved", "action", e.Action, "err", err)
			}
		}()
		return nil
	}
	defer db.gate.RUnlock()
	return db.addAudit(ctx, e)
}

// addAudit writes an entry; the caller holds the gate.
func (db *DB) addAudit(ctx context.Context, e store.AuditEntry) error {
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	_, err := db.pool().ExecContext(ctx, "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?)",
		e.ID, e.At.UTC(), e.Actor, e.Action, e.Site, e.Status)
	if err != nil {
		return fmt.Errorf("add to the audit log: %w", err)
	}
	return nil
}

// AuditLog implements store.Auditor.
func (db *DB) AuditLog(ctx context.Context, before time.Time, limit int) ([]store.AuditEntry, error) {
	if before.IsZero() {
		before = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT id, at_time, actor, action, site, status FROM audit_log
		WHERE at_time < ? ORDER BY at_time DESC, id DESC LIMIT ?`, before.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	defer rows.Close()
	out := []store.AuditEntry{}
	for rows.Next() {
		var e store.AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Site, &e.Status); err != nil {
			return nil, fmt.Errorf("read the audit log: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ExpireAudit implements store.Auditor.
func (db *DB) ExpireAudit(ctx context.Context, before time.Time) (int64, error) {
	defer db.writing()()
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	res, err := db.pool().ExecContext(ctx, "DELETE FROM audit_log WHERE at_time < ?", before.UTC())
	if err != nil {
		return 0, fmt.Errorf("expire the audit log: %w", err)
	}
	return res.RowsAffected()
}
