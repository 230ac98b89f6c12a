package engine

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
)

// Catalog is a site's attribute keys and their types, as validation and
// the compiler need them.
type Catalog struct {
	types map[segment.Scope]map[string]attr.Type
}

var _ segment.Catalog = (*Catalog)(nil)

// AttributeType implements segment.Catalog.
func (c *Catalog) AttributeType(scope segment.Scope, key string) (attr.Type, bool) {
	t, ok := c.types[scope][key]
	return t, ok
}

// AttributeKeys implements segment.Catalog.
func (c *Catalog) AttributeKeys(scope segment.Scope) []string {
	keys := make([]string, 0, len(c.types[scope]))
	for k := range c.types[scope] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// catalogCache keeps each site's catalog with the store's site counter
// it was read under (store.Versions.Site), which every new key and type
// change moves.
type catalogCache struct {
	mu    sync.Mutex
	sites map[int64]cachedCatalog
}

type cachedCatalog struct {
	version uint64
	cat     *Catalog
}

// Catalog returns a site's attribute catalog, as of every acknowledged
// write: a key seen a moment ago is known. It is small (at most the
// configured number of keys) and read again whenever the store reports a
// new key or type.
func (e *Engine) Catalog(ctx context.Context, site int64) (*Catalog, error) {
	if err := e.store.Sync(ctx); err != nil {
		return nil, err
	}
	version := e.store.Versions(site, 0).Site // before the read: see store.Versions
	e.catalogs.mu.Lock()
	cached, ok := e.catalogs.sites[site]
	e.catalogs.mu.Unlock()
	if ok && cached.version == version {
		return cached.cat, nil
	}
	c, err := e.readCatalog(ctx, site)
	if err != nil {
		return nil, err
	}
	e.catalogs.mu.Lock()
	e.catalogs.sites[site] = cachedCatalog{version: version, cat: c}
	e.catalogs.mu.Unlock()
	return c, nil
}

// readCatalog reads a site's catalog from the database.
func (e *Engine) readCatalog(ctx context.Context, site int64) (*Catalog, error) {
	rows, err := e.store.SQL().QueryContext(ctx, e.dialect.Catalog(), site)
	if err != nil {
		return nil, fmt.Errorf("read attribute catalog: %w", err)
	}
	defer rows.Close()
	c := &Catalog{types: map[segment.Scope]map[string]attr.Type{
		segment.ScopeUser: {}, segment.ScopeCompany: {},
	}}
	for rows.Next() {
		var entity, typ uint8
		var key string
		if err := rows.Scan(&entity, &key, &typ); err != nil {
			return nil, fmt.Errorf("read attribute catalog: %w", err)
		}
		scope := segment.ScopeUser
		if entity == 1 {
			scope = segment.ScopeCompany
		}
		c.types[scope][key] = attr.Type(typ)
	}
	return c, rows.Err()
}
