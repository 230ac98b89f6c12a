package segment

import (
	"slices"
	"sort"

	"github.com/sightline/sightline/internal/attr"
)

// Walk calls fn for n and, while fn returns true, for every condition
// below it, depth first in the order of the tree.
func Walk(n Node, fn func(Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	switch n := n.(type) {
	case *Group:
		for _, c := range n.Conditions {
			Walk(c, fn)
		}
	case *Not:
		Walk(n.Condition, fn)
	}
}

// SegmentRefs returns the IDs of the segments a tree refers to with
// in_segment, each once, in the order they first appear. The caller checks
// that they exist and that no reference leads back to the segment itself.
func SegmentRefs(n Node) []string {
	var ids []string
	Walk(n, func(n Node) bool {
		if s, ok := n.(*InSegment); ok && !slices.Contains(ids, s.ID) {
			ids = append(ids, s.ID)
		}
		return true
	})
	return ids
}

// IsZero reports whether c is the zero Count, which means "at least once".
func (c Count) IsZero() bool { return c.Op == "" && c.N == 0 }

// Effective returns the comparison c stands for: >= 1 for the zero Count,
// c itself otherwise.
func (c Count) Effective() Count {
	if c.Op == "" {
		return Count{Op: OpGe, N: 1}
	}
	return c
}

// WholeDay reports whether v is a date that stands for a whole UTC day (a
// ValDate at midnight UTC, written 2024-05-01), rather than an instant.
// Comparisons with a datetime attribute read such a value as the day:
// "= 2024-05-01" is any time that day, "<= 2024-05-01" includes the whole
// day, "> 2024-05-01" starts the day after (see docs/segments.md).
func (v Value) WholeDay() bool {
	if v.Kind != ValDate {
		return false
	}
	t := v.Time.UTC()
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// StaticCatalog is a Catalog held in memory: the type of each key by
// scope. It suits tests and tools; the server builds its Catalog from the
// store.
type StaticCatalog map[Scope]map[string]attr.Type

// AttributeType implements Catalog.
func (c StaticCatalog) AttributeType(scope Scope, key string) (attr.Type, bool) {
	t, ok := c[scope][key]
	return t, ok
}

// AttributeKeys implements Catalog, in sorted order.
func (c StaticCatalog) AttributeKeys(scope Scope) []string {
	keys := make([]string, 0, len(c[scope]))
	for k := range c[scope] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var _ Catalog = StaticCatalog(nil)
