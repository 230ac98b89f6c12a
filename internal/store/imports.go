package store

import (
	"context"

	"github.com/sightline/sightline/internal/attr"
)

// ImportRow is one row of an attribute import: an entity's external ID
// (a user ID, or a company's group ID) and the values to set.
type ImportRow struct {
	Line   int
	ID     string
	Traits []attr.Pair
}

// ImportRejection is a value an import refused, with the reason.
type ImportRejection struct {
	Line   int
	Key    string
	Code   string
	Reason string
}

// ImportResult is what an import of a chunk of rows did.
type ImportResult struct {
	Changed    int64 // values that changed (a history row each)
	NewIDs     int   // entities created
	Rejections []ImportRejection
}

// AttributeImporter sets attributes of many users or companies at once,
// as identify and group calls would (types follow the catalog, new keys
// are typed by their first value, every change goes into the history, a
// value equal to the current one changes nothing), in one transaction a
// chunk, without one message each.
type AttributeImporter interface {
	ImportAttributes(ctx context.Context, site int64, entity Entity, rows []ImportRow) (ImportResult, error)
}
