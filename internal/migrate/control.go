package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// controlTable is a table of control data copied from the embedded store
// into PostgreSQL (pgstore's schema): its columns, named alike on both
// sides, and the source's expression of those that need one.
type controlTable struct {
	name    string
	columns []string
	// source expressions by column, where the embedded table differs
	// (a column added later may be NULL where PostgreSQL wants a value).
	exprs map[string]string
	// lists are the array columns and their element type.
	lists map[string]string
}

// controlTables are copied in this order. Left out: the alert causes
// (the server relays the embedded store's pending causes itself, at its
// first start with --postgres), the change counters and the sign-in
// limiter's windows (both start afresh), and the erase jobs (kept by
// each node with its data).
var controlTables = []controlTable{
	{name: "sites", columns: []string{"id", "public_id", "name", "write_key_hash", "write_key", "origins", "respect_dnt",
		"key_attributes", "keep_params", "scrub_params", "created_at"},
		exprs: map[string]string{"respect_dnt": "coalesce(respect_dnt, false)"},
		lists: map[string]string{"origins": "text", "key_attributes": "text", "keep_params": "text", "scrub_params": "text"}},
	{name: "tokens", columns: []string{"id", "site_id", "scope", "secret_hash", "name", "created_at", "last_used_at", "revoked_at"},
		exprs: map[string]string{"name": "coalesce(name, '')"}},
	{name: "accounts", columns: []string{"id", "email", "name", "role", "password_hash", "site_ids", "created_at", "last_seen_at"},
		lists: map[string]string{"site_ids": "int"}},
	{name: "account_sessions", columns: []string{"id_hash", "account_id", "created_at", "expires_at", "last_seen_at"}},
	{name: "invites", columns: []string{"id", "token_hash", "email", "role", "site_ids", "created_by", "created_at", "expires_at"},
		lists: map[string]string{"site_ids": "int"}},
	{name: "segments", columns: []string{"id", "site_id", "name", "description", "author", "definition", "text", "created_at", "updated_at"}},
	{name: "surveys", columns: []string{"id", "site_id", "name", "status", "definition", "created_at", "updated_at"}},
	{name: "feedback_settings", columns: []string{"site_id", "settings", "updated_at"}},
	{name: "recording_settings", columns: []string{"site_id", "enabled", "sample_rate", "daily_quota", "retention_days", "updated_at",
		"backgrounds"}},
	// The admission rows of the recordings (the quota counts them).
	{name: "recordings", columns: []string{"id", "site_id", "browser_session", "anonymous_id", "created_at"}},
	{name: "alert_config", columns: []string{"site_id", "config", "watch", "updated_at"}, lists: map[string]string{"watch": "text"}},
	{name: "alert_messages", columns: []string{"id", "site_id", "rule_id", "destination_id", "type", "summary", "body", "status",
		"attempts", "created_at", "next_at", "done_at"}},
	{name: "alert_attempts", columns: []string{"message_id", "site_id", "destination_id", "attempt", "attempted_at", "status",
		"error", "latency_ms", "response"}},
	{name: "alert_destination_state", columns: []string{"site_id", "destination_id", "failures", "disabled_at", "reason"}},
	{name: "alert_members", columns: []string{"rule_id", "user_key"}},
	{name: "audit_log", columns: []string{"id", "at_time", "actor", "action", "site", "status"}},
	{name: "insights", columns: []string{"id", "site_id", "name", "kind", "definition", "author", "created_at", "updated_at"}},
	{name: "annotations", columns: []string{"id", "site_id", "day", "text", "source", "created_at"}},
	{name: "experiments", columns: []string{"id", "site_id", "name", "definition", "created_at", "updated_at"}},
	{name: "site_retention", columns: []string{"site_id", "events_days", "sessions_days", "history_days", "surveys_days", "updated_at"}},
}

// ControlOptions say where the control data comes from and goes.
type ControlOptions struct {
	// Source is the embedded store's database; Target a connection to
	// the PostgreSQL database, migrated to pgstore's schema.
	Source *sql.DB
	Target *pgx.Conn
	// Progress, when set, is told of each table's progress.
	Progress func(Progress)
}

// ErrControlTarget means the PostgreSQL database holds control data that
// is not a copy of this source.
var ErrControlTarget = errors.New("the PostgreSQL database already holds other control data")

// CopyControl copies the control data into PostgreSQL in one transaction,
// keeping every ID (the sites' sequence is moved past the largest), and
// returns the counts of both sides. A copy that stops leaves nothing
// behind, so running it again starts over; a target that already holds
// exactly this copy (every count equal) is left as it is, so running it
// twice is harmless; a target holding anything else is refused.
func CopyControl(ctx context.Context, o ControlOptions) ([]Count, error) {
	before, err := CompareControl(ctx, o)
	if err != nil {
		return nil, err
	}
	empty, same := true, true
	for _, c := range before {
		empty = empty && c.Target == 0
		same = same && c.OK()
	}
	if !empty {
		if same {
			for _, c := range before {
				o.progress(Progress{Step: c.What, Unit: "rows", Done: c.Target, Total: c.Source, Finished: true, Skipped: true})
			}
			return before, nil
		}
		return before, fmt.Errorf("%w: it is not a copy of this data folder (the counts below differ); give an empty database", ErrControlTarget)
	}
	tx, err := o.Target.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy control data: %w", err)
	}
	defer tx.Rollback(ctx)
	for _, t := range controlTables {
		if err := copyControlTable(ctx, o, tx, t); err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
	}
	if _, err := tx.Exec(ctx, "SELECT setval(pg_get_serial_sequence('sites', 'id'), max(id)) FROM sites HAVING max(id) IS NOT NULL"); err != nil {
		return nil, fmt.Errorf("move the sites' sequence on: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("copy control data: %w", err)
	}
	counts, err := CompareControl(ctx, o)
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		if !c.OK() {
			return counts, ErrMismatch
		}
	}
	return counts, nil
}

func copyControlTable(ctx context.Context, o ControlOptions, tx pgx.Tx, t controlTable) error {
	var total int64
	if err := o.Source.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name).Scan(&total); err != nil {
		return err
	}
	o.progress(Progress{Step: t.name, Unit: "rows", Total: total})
	exprs := make([]string, len(t.columns))
	for i, c := range t.columns {
		exprs[i] = c
		if e, ok := t.exprs[c]; ok {
			exprs[i] = e
		}
	}
	rows, err := o.Source.QueryContext(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+t.name)
	if err != nil {
		return err
	}
	defer rows.Close()
	src := &controlRows{rows: rows, t: t, vals: make([]any, len(t.columns)), progress: func(n int64) {
		if n%1000 == 0 {
			o.progress(Progress{Step: t.name, Unit: "rows", Done: n, Total: total})
		}
	}}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, src)
	if err != nil {
		return err
	}
	o.progress(Progress{Step: t.name, Unit: "rows", Done: n, Total: total, Finished: true})
	return nil
}

func (o ControlOptions) progress(p Progress) {
	if o.Progress != nil {
		o.Progress(p)
	}
}

// controlRows feeds CopyFrom from the source's rows, turning DuckDB's
// lists into the slices pgx binds to arrays.
type controlRows struct {
	rows     *sql.Rows
	t        controlTable
	vals     []any
	n        int64
	err      error
	progress func(int64)
}

func (r *controlRows) Next() bool {
	if !r.rows.Next() {
		r.err = r.rows.Err()
		return false
	}
	ptrs := make([]any, len(r.vals))
	for i := range r.vals {
		r.vals[i] = nil
		ptrs[i] = &r.vals[i]
	}
	if r.err = r.rows.Scan(ptrs...); r.err != nil {
		return false
	}
	for i, c := range r.t.columns {
		kind, ok := r.t.lists[c]
		if !ok || r.vals[i] == nil {
			continue
		}
		list, _ := r.vals[i].([]any)
		switch kind {
		case "int":
			out := make([]int64, 0, len(list))
			for _, x := range list {
				v, _ := x.(int64)
				out = append(out, v)
			}
			r.vals[i] = out
		default:
			out := make([]string, 0, len(list))
			for _, x := range list {
				v, _ := x.(string)
				out = append(out, v)
			}
			r.vals[i] = out
		}
	}
	r.n++
	r.progress(r.n)
	return true
}

func (r *controlRows) Values() ([]any, error) { return r.vals, nil }
func (r *controlRows) Err() error             { return r.err }

// CompareControl counts each control table's rows on both sides.
func CompareControl(ctx context.Context, o ControlOptions) ([]Count, error) {
	out := make([]Count, 0, len(controlTables))
	for _, t := range controlTables {
		c := Count{Site: "control data", What: t.name}
		if err := o.Source.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name).Scan(&c.Source); err != nil {
			return nil, fmt.Errorf("count %s in the data folder: %w", t.name, err)
		}
		if err := o.Target.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{t.name}.Sanitize()).Scan(&c.Target); err != nil {
			return nil, fmt.Errorf("count %s in PostgreSQL: %w", t.name, err)
		}
		out = append(out, c)
	}
	return out, nil
}
