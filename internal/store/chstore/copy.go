package chstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// copyBatch is the number of rows sent to ClickHouse at once.
const copyBatch = 50_000

// Copy copies the analytics tables of a duckstore database (src, its
// SQL()) into db and returns the rows copied by table. The tables must be
// empty: a copy is the first load of a site's history, and one run twice
// would count every row twice. Keys are copied as duckstore has them,
// merges applied, so no identity override is written.
//
// Nothing may write to src meanwhile: each table is read in one query,
// but not all of them at one moment.
func (db *DB) Copy(ctx context.Context, src *sql.DB) (map[string]int64, error) {
	return db.CopyWith(ctx, src, CopyOptions{})
}

// CopyOptions changes what CopyWith does.
type CopyOptions struct {
	// Resume goes on with a copy that stopped: a table that holds as
	// many rows as the source's is left as it is, one that holds fewer
	// is emptied and copied again (a table is copied whole or not at
	// all), and one that holds more is an error (not a copy of src).
	Resume bool
	// Progress, when set, is called as each table starts, after each
	// batch of rows and when the table is done.
	Progress func(CopyProgress)
}

// CopyProgress is how far the copy of one table is.
type CopyProgress struct {
	Table string
	// Done is the rows copied so far, Total the source's rows.
	Done, Total int64
	// Finished is set on the table's last call; Skipped when a resumed
	// copy found the table complete.
	Finished, Skipped bool
}

// CopyWith is Copy with options: a progress report, and resuming a copy
// that stopped. The rows copied by table count this run's only.
func (db *DB) CopyWith(ctx context.Context, src *sql.DB, opts CopyOptions) (map[string]int64, error) {
	todo := slices.DeleteFunc(tables(), func(t table) bool { return t.from == "" })
	have := make([]int64, len(todo))
	want := make([]int64, len(todo))
	for i, t := range todo {
		var n uint64
		if err := db.sql.QueryRowContext(ctx, "SELECT count() FROM "+t.name).Scan(&n); err != nil {
			return nil, fmt.Errorf("copy: count %s: %w", t.name, err)
		}
		if n > 0 && !opts.Resume {
			return nil, fmt.Errorf("copy: table %s already has %d rows: copy into an empty database", t.name, n)
		}
		have[i] = int64(n)
		if opts.Resume || opts.Progress != nil {
			if err := src.QueryRowContext(ctx, "SELECT count(*) FROM "+t.from).Scan(&want[i]); err != nil {
				return nil, fmt.Errorf("copy: count %s in the source: %w", t.from, err)
			}
		}
		if opts.Resume && have[i] > want[i] {
			return nil, fmt.Errorf("copy: table %s has %d rows, more than the source's %d: it holds other data, not an earlier copy of this source",
				t.name, have[i], want[i])
		}
	}
	progress := func(p CopyProgress) {
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	copied := map[string]int64{}
	for i, t := range todo {
		if opts.Resume && have[i] == want[i] {
			progress(CopyProgress{Table: t.name, Done: have[i], Total: want[i], Finished: true, Skipped: true})
			continue
		}
		if have[i] > 0 {
			// A table stopped halfway: its rows have no order to go on
			// from, so it is copied again.
			if err := db.conn.Exec(ctx, "TRUNCATE TABLE "+t.name); err != nil {
				return copied, fmt.Errorf("copy: empty %s, copied in part: %w", t.name, err)
			}
		}
		progress(CopyProgress{Table: t.name, Total: want[i]})
		n, err := db.copyTable(ctx, src, t, func(done int64) {
			progress(CopyProgress{Table: t.name, Done: done, Total: want[i]})
		})
		if err != nil {
			return copied, fmt.Errorf("copy %s: %w", t.name, err)
		}
		copied[t.name] = n
		progress(CopyProgress{Table: t.name, Done: n, Total: max(want[i], n), Finished: true})
	}
	return copied, nil
}

// copyTable copies one table's rows, in batches, calling sent with the
// rows sent so far after each.
func (db *DB) copyTable(ctx context.Context, src *sql.DB, t table, sent func(total int64)) (int64, error) {
	rows, err := src.QueryContext(ctx, t.source())
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	defer rows.Close()
	insert := "INSERT INTO " + t.name + " (" + t.names() + ")"
	keys, vals := slices.IndexFunc(t.columns, func(c column) bool { return c.name == "prop_keys" }),
		slices.IndexFunc(t.columns, func(c column) bool { return c.name == "prop_vals" })
	raw := make([]any, len(t.columns))
	dest := make([]any, len(raw))
	for i := range raw {
		dest[i] = &raw[i]
	}
	var total int64
	for more := true; more; {
		batch, err := db.conn.PrepareBatch(ctx, insert)
		if err != nil {
			return total, fmt.Errorf("prepare a batch: %w", err)
		}
		n := 0
		for n < copyBatch {
			if more = rows.Next(); !more {
				break
			}
			if err := rows.Scan(dest...); err != nil {
				batch.Abort()
				return total, fmt.Errorf("read: %w", err)
			}
			row := make([]any, len(raw))
			for i, c := range t.columns {
				if row[i], err = convert(raw[i], c.typ); err != nil {
					batch.Abort()
					return total, fmt.Errorf("column %s: %w", c.name, err)
				}
			}
			if keys >= 0 && vals >= 0 {
				row[keys], row[vals] = presentProperties(row[keys].([]string), raw[vals])
			}
			if err := batch.Append(row...); err != nil {
				batch.Abort()
				return total, fmt.Errorf("append: %w", err)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			batch.Abort()
			return total, fmt.Errorf("read: %w", err)
		}
		if n == 0 {
			batch.Abort()
			break
		}
		if err := batch.Send(); err != nil {
			return total, fmt.Errorf("insert: %w", err)
		}
		total += int64(n)
		sent(total)
	}
	return total, nil
}

// presentProperties returns the keys and texts of the members whose text
// is not NULL (a null member reads as a missing one, as in DuckDB).
func presentProperties(keys []string, texts any) ([]string, []string) {
	list, _ := texts.([]any)
	outKeys, outVals := make([]string, 0, len(keys)), make([]string, 0, len(keys))
	for i, k := range keys {
		if i < len(list) {
			if s, ok := list[i].(string); ok {
				outKeys, outVals = append(outKeys, k), append(outVals, s)
			}
		}
	}
	return outKeys, outVals
}

// convert turns a value DuckDB returned into the Go type clickhouse-go
// appends to a column of type typ.
func convert(v any, typ string) (any, error) {
	if inner, ok := strings.CutPrefix(typ, "Nullable("); ok {
		if v == nil {
			return nil, nil
		}
		return convert(v, strings.TrimSuffix(inner, ")"))
	}
	switch typ {
	case "String":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%T for a String", v)
		}
		return s, nil
	case "Float64":
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("%T for a Float64", v)
		}
		return f, nil
	case "Array(String)":
		list, ok := v.([]any)
		if !ok && v != nil {
			return nil, fmt.Errorf("%T for an Array(String)", v)
		}
		out := make([]string, len(list))
		for i, x := range list {
			out[i], _ = x.(string)
		}
		return out, nil
	}
	n, err := integer(v)
	if err != nil {
		return nil, fmt.Errorf("%w for an %s", err, typ)
	}
	switch typ {
	case "Int64":
		return n, nil
	case "Int32":
		return int32(n), nil
	case "Int16":
		return int16(n), nil
	case "Int8":
		return int8(n), nil
	case "UInt8":
		return uint8(n), nil
	case "UInt64":
		return uint64(n), nil
	}
	return nil, fmt.Errorf("BUG: no conversion to %s", typ)
}

// integer returns an integer DuckDB returned as an int64.
func integer(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case int32:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int8:
		return int64(n), nil
	case uint8:
		return int64(n), nil
	case uint16:
		return int64(n), nil
	case uint32:
		return int64(n), nil
	case uint64:
		return int64(n), nil
	case bool:
		if n {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("%T", v)
}
