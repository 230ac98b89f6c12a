package duckstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// ChangeType changes an attribute key's type, converting every current value.
// If any value has no faithful form in the new type nothing changes and the
// error (wrapping store.ErrConflict) names how many and one example. History
// keeps the values as they were received.
func (db *DB) ChangeType(ctx context.Context, site int64, entity store.Entity, key string, to attr.Type) (int, error) {
	unlock, err := db.exclusive(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	ck := catalogKey{site: site, entity: entity, key: key}
	from, ok := db.seq.catalog[ck]
	if !ok {
		return 0, fmt.Errorf("attribute %q: %w", key, store.ErrNotFound)
	}
	if from == to {
		return 0, nil
	}
	rows, err := db.wconn.QueryContext(ctx, `SELECT site_id, entity, entity_key, key, type, s, n, b, t, changed_at
		FROM attr_current WHERE site_id = ? AND entity = ? AND key = ?`, site, uint8(entity), key)
	if err != nil {
		return 0, fmt.Errorf("read values of %s: %w", key, err)
	}
	type row struct {
		key int64
		v   attr.Value
		at  time.Time
	}
	var conv []row
	var bad int
	var example string
	for rows.Next() {
		var r row
		var s int64
		var e store.Entity
		var name string
		if err := scanTyped(rows, &s, &e, &r.key, &name, &r.v, &r.at); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read values of %s: %w", key, err)
		}
		nv, err := attr.Convert(r.v, to)
		if err != nil {
			bad++
			example = err.Error()
			continue
		}
		r.v = nv
		conv = append(conv, r)
	}
	rows.Close()
	if bad > 0 {
		return 0, fmt.Errorf("%d values of %s cannot become %s, for example: %s: %w", bad, key, to, example, store.ErrConflict)
	}
	err = db.inTx(ctx, func() error {
		if _, err := db.wconn.ExecContext(ctx, "UPDATE attr_keys SET type = ? WHERE site_id = ? AND entity = ? AND key = ?",
			uint8(to), site, uint8(entity), key); err != nil {
			return err
		}
		if _, err := db.wconn.ExecContext(ctx, "DELETE FROM attr_current WHERE site_id = ? AND entity = ? AND key = ?",
			site, uint8(entity), key); err != nil {
			return err
		}
		return db.wconn.Raw(func(dc any) error {
			return appendAll(dc.(driver.Conn), []appendSpec{{"attr_current", len(conv), func(app *duckdb.Appender) error {
				for _, r := range conv {
					s, n, b, t := typedColumns(r.v)
					if err := app.AppendRow(site, uint8(entity), r.key, key, uint8(to), s, n, b, t, r.at); err != nil {
						return err
					}
				}
				return nil
			}}})
		})
	})
	if err != nil {
		return 0, fmt.Errorf("change type of %s: %w", key, err)
	}
	db.vers.site.Add(1)
	db.seq.catalog[ck] = to
	return len(conv), nil
}

// exclusive holds back writes and waits until everything logged is in the
// database, for administrative changes that must see and precede all
// acknowledged data. It returns the function that lets writes go on.
func (db *DB) exclusive(ctx context.Context) (func(), error) {
	db.seqMu.Lock()
	if db.closed {
		db.seqMu.Unlock()
		return nil, store.ErrClosed
	}
	if err := db.Sync(ctx); err != nil {
		db.seqMu.Unlock()
		return nil, err
	}
	db.wmu.Lock()
	return func() { db.wmu.Unlock(); db.seqMu.Unlock() }, nil
}

// inTx runs fn inside a transaction on the write connection. The caller
// holds wmu.
func (db *DB) inTx(ctx context.Context, fn func() error) (err error) {
	if _, err := db.wconn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := db.wconn.ExecContext(context.Background(), "ROLLBACK"); rerr != nil {
			db.log.Error("rollback", "err", rerr)
		}
		return err
	}
	_, err = db.wconn.ExecContext(ctx, "COMMIT")
	return err
}
