package segment

import (
	"fmt"
	"slices"
	"strings"
)

// EventCatalog is what Warnings needs to know of a site's events.
type EventCatalog interface {
	// EventNames lists the names of the site's track events.
	EventNames() []string
	// PropertyKeys lists the property keys of a track event, and whether
	// the event is known.
	PropertyKeys(event string) ([]string, bool)
}

// StaticEventCatalog is an EventCatalog held in memory: the property keys
// of each track event by name.
type StaticEventCatalog map[string][]string

// EventNames implements EventCatalog, in sorted order.
func (c StaticEventCatalog) EventNames() []string {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// PropertyKeys implements EventCatalog.
func (c StaticEventCatalog) PropertyKeys(event string) ([]string, bool) {
	keys, ok := c[event]
	return keys, ok
}

var _ EventCatalog = StaticEventCatalog(nil)

// Warning is one warning of Warnings: where and what, as a Problem, and
// the known names it suggests instead, nearest first.
type Warning struct {
	Problem
	Suggestions []string `json:"suggestions,omitempty"`
}

// Warnings lists what may be wrong in a valid tree without being an
// error: a did(…) or did_first(…) naming an event the site never
// received, and a property condition naming a key that the event never
// had. Either may be right — the event may come later — so the segment is
// kept; but a name that differs from a known one only by its case never
// matches (names match exactly), so each warning suggests the nearest
// known names, those equal but for case first.
func Warnings(n Node, cat EventCatalog) []Warning {
	if cat == nil {
		return nil
	}
	w := &warner{cat: cat}
	w.node(n, "")
	return w.out
}

type warner struct {
	cat   EventCatalog
	names []string // the catalog's event names, read once
	out   []Warning
}

// warn adds a warning whose message ends with the suggestions of word
// among names.
func (w *warner) warn(pos Pos, path, word string, names []string, format string, args ...any) {
	s := Suggest(word, names)
	w.out = append(w.out, Warning{Problem: Problem{Line: pos.Line, Column: pos.Col, Path: path,
		Message: fmt.Sprintf(format, args...) + Hint(word, s)}, Suggestions: s})
}

func (w *warner) node(n Node, path string) {
	switch n := n.(type) {
	case *Group:
		for i, c := range n.Conditions {
			w.node(c, fmt.Sprintf("%s[%d]", joinPath(path, "conditions"), i))
		}
	case *Not:
		w.node(n.Condition, joinPath(path, "condition"))
	case *Event:
		w.event(n, path)
	}
}

func (w *warner) event(e *Event, path string) {
	if e.Name == "" {
		return // an error of its own
	}
	keys, known := w.cat.PropertyKeys(e.Name)
	if !known {
		if w.names == nil {
			w.names = w.cat.EventNames()
		}
		w.warn(e.Pos, joinPath(path, "name"), e.Name, w.names, "this site has no event %q yet", e.Name)
		return
	}
	for i, p := range e.Where {
		if p.Key == "" || slices.Contains(keys, p.Key) {
			continue
		}
		w.warn(posOr(p.Pos, e.Pos), joinPath(fmt.Sprintf("%s[%d]", joinPath(path, "where"), i), "key"), p.Key, keys,
			"event %q has had no property %q", e.Name, p.Key)
	}
}

// Hint ends a message about word with its suggestions: "; did you mean
// "Export"?", saying so when the first differs only by case; "" without
// suggestions.
func Hint(word string, suggestions []string) string {
	if len(suggestions) == 0 {
		return ""
	}
	if strings.EqualFold(suggestions[0], word) {
		return " (names match exactly, case included); did you mean " + orList(suggestions) + "?"
	}
	return "; did you mean " + orList(suggestions) + "?"
}

// Suggest returns up to three of names near word, nearest first: those
// equal to it but for case, then by edit distance, and only those close
// enough to be a likely typo.
func Suggest(word string, names []string) []string {
	return suggest(word, names)
}
