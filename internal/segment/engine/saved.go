package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// Saved returns the validated tree of a saved segment. Validation is what
// reads "2024-05-01" in the stored JSON as a date for a datetime attribute,
// so a stored definition is never compiled without it.
func (e *Engine) Saved(ctx context.Context, site int64, s store.SavedSegment) (segment.Node, error) {
	cat, err := e.Catalog(ctx, site)
	if err != nil {
		return nil, err
	}
	return savedNode(s, cat)
}

// savedNode parses and validates a stored definition. A definition that no
// longer fits the catalog, or the limits, is reported as invalid (a 400),
// not as a failure of the server.
func savedNode(s store.SavedSegment, cat segment.Catalog) (segment.Node, error) {
	n, err := segment.ParseJSON(s.Definition)
	var le *segment.LimitError
	if errors.As(err, &le) {
		return nil, invalid{fmt.Errorf("saved segment %s is beyond the limits: %w", s.ID, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("saved segment %s is unreadable: %w", s.ID, err)
	}
	if err := segment.Validate(n, cat); err != nil {
		return nil, invalid{fmt.Errorf("saved segment %s no longer fits the attribute catalog: %w", s.ID, err)}
	}
	return n, nil
}
