package store

import (
	"context"
	"time"
)

// AuditEntry is one administrative action.
type AuditEntry struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Site   string    `json:"site,omitempty"`
	Status int       `json:"status"`
}

// Auditor keeps the audit log.
type Auditor interface {
	AddAudit(ctx context.Context, e AuditEntry) error
	// AuditLog returns up to limit entries older than before (the zero
	// time: the newest), newest first.
	AuditLog(ctx context.Context, before time.Time, limit int) ([]AuditEntry, error)
	// ExpireAudit deletes the entries older than before.
	ExpireAudit(ctx context.Context, before time.Time) (int64, error)
}
