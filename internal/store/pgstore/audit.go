package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
)

var _ store.Auditor = (*DB)(nil)

// AddAudit implements store.Auditor.
func (db *DB) AddAudit(ctx context.Context, e store.AuditEntry) error {
	if _, err := db.pool.Exec(ctx, "INSERT INTO audit_log (id, at_time, actor, action, site, status) VALUES ($1, $2, $3, $4, $5, $6)",
		e.ID, utc(e.At), e.Actor, e.Action, e.Site, e.Status); err != nil {
		return fmt.Errorf("add to the audit log: %w", err)
	}
	return nil
}

// AuditLog implements store.Auditor.
func (db *DB) AuditLog(ctx context.Context, before time.Time, limit int) ([]store.AuditEntry, error) {
	var bound *time.Time // NULL: from the newest
	if !before.IsZero() {
		b := utc(before)
		bound = &b
	}
	rows, err := db.pool.Query(ctx, `SELECT id, at_time, actor, action, site, status FROM audit_log
		WHERE $1::TIMESTAMPTZ IS NULL OR at_time < $1 ORDER BY at_time DESC, id DESC LIMIT $2`, bound, limit)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Site, &e.Status)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	if out == nil {
		out = []store.AuditEntry{}
	}
	return out, nil
}

// ExpireAudit implements store.Auditor.
func (db *DB) ExpireAudit(ctx context.Context, before time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, "DELETE FROM audit_log WHERE at_time < $1", utc(before))
	if err != nil {
		return 0, fmt.Errorf("expire the audit log: %w", err)
	}
	return tag.RowsAffected(), nil
}
