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
	todo := slices.DeleteFunc(tables(), func(t table) bool { return t.from == "" })
	for _, t := range todo {
		var n uint64
		if err := db.sql.QueryRowContext(ctx, "SELECT count() FROM "+t.name).Scan(&n); err != nil {
			return nil, fmt.Errorf("copy: count %s: %w", t.name, err)
		}
		if n > 0 {
			return nil, fmt.Errorf("copy: table %s already has %d rows: copy into an empty database", t.name, n)
		}
	}
	copied := map[string]int64{}
	for _, t := range todo {
		n, err := db.copyTable(ctx, src, t)
		if err != nil {
			return copied, fmt.Errorf("copy %s: %w", t.name, err)
		}
		copied[t.name] = n
	}
	return copied, nil
}

// copyTable copies one table's rows, in batches.
func (db *DB) copyTable(ctx context.Context, src *sql.DB, t table) (int64, error) {
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
