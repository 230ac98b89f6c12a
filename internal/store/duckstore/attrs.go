package duckstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

type currentKey struct {
	entity store.Entity
	key    int64
	name   string
}

type currentVal struct {
	site  int64
	value attr.Value
	at    time.Time
}

// attrChanges turns the batch's staged values into history rows (one per
// actual change) and the final current values of the keys that changed.
func (db *DB) attrChanges(ctx context.Context, conn querier, b *batch) (history []attrSet, changed map[currentKey]*currentVal, err error) {
	if len(b.sets) == 0 {
		return nil, nil, nil
	}
	keys := make([]int64, 0, len(b.sets))
	seen := map[int64]bool{}
	for _, s := range b.sets {
		if !seen[s.key] {
			seen[s.key] = true
			keys = append(keys, s.key)
		}
	}
	cur := map[currentKey]*currentVal{}
	rows, err := conn.QueryContext(ctx, `SELECT site_id, entity, entity_key, key, type, s, n, b, t, changed_at
		FROM attr_current WHERE entity_key IN (SELECT unnest(?::BIGINT[]))`, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("load current attributes: %w", err)
	}
	for rows.Next() {
		var k currentKey
		var c currentVal
		if err := scanTyped(rows, &c.site, &k.entity, &k.key, &k.name, &c.value, &c.at); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("load current attributes: %w", err)
		}
		cur[k] = &c
	}
	rows.Close()
	changed = map[currentKey]*currentVal{}
	for _, s := range b.sets {
		k := currentKey{entity: s.entity, key: s.key, name: s.name}
		c := cur[k]
		if (c == nil && s.value.Null) || (c != nil && c.value.Equal(s.value)) {
			continue
		}
		history = append(history, s)
		if c != nil && s.at.Before(c.at) {
			continue // an older value arriving late: history only
		}
		if s.value.Null {
			delete(cur, k)
		} else {
			cur[k] = &currentVal{site: s.site, value: s.value, at: s.at}
		}
		changed[k] = cur[k] // nil records an unset
	}
	return history, changed, nil
}

// typedColumns returns the s, n, b, t columns for a value.
func typedColumns(v attr.Value) (s, n, bo, t any) {
	if v.Null {
		return nil, nil, nil, nil
	}
	switch v.Type {
	case attr.String:
		return v.Str, nil, nil, nil
	case attr.Number:
		return nil, v.Num, nil, nil
	case attr.Boolean:
		return nil, nil, v.Bool, nil
	case attr.Datetime:
		return nil, nil, nil, v.Time
	}
	return nil, nil, nil, nil
}

type scanner interface{ Scan(dest ...any) error }

// scanTyped scans (site, entity, entity_key, key, type, s, n, b, t, at).
func scanTyped(r scanner, site *int64, entity *store.Entity, key *int64, name *string, v *attr.Value, at *time.Time) error {
	var typ uint8
	var s *string
	var n *float64
	var bo *bool
	var t *time.Time
	if err := r.Scan(site, entity, key, name, &typ, &s, &n, &bo, &t, at); err != nil {
		return err
	}
	*v = valueOf(typ, s, n, bo, t)
	return nil
}

func valueOf(typ uint8, s *string, n *float64, bo *bool, t *time.Time) attr.Value {
	v := attr.Value{Type: attr.Type(typ)}
	switch {
	case s != nil:
		v.Str = *s
	case n != nil:
		v.Num = *n
	case bo != nil:
		v.Bool = *bo
	case t != nil:
		v.Time = t.UTC()
	default:
		v.Null = true
	}
	return v
}
