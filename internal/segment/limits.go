package segment

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// The limits every definition is held to, in the text form and in JSON
// alike, so that no segment costs the server more than it can afford:
// parsing is bounded by the size, compiling and planning by the number of
// conditions and their depth (docs/segments.md, "Limits").
const (
	// MaxTextBytes is the longest text form.
	MaxTextBytes = 64 << 10
	// MaxJSONBytes is the longest JSON form: four times the text's, as
	// JSON spells out every field name; the JSON of any text within
	// MaxTextBytes fits.
	MaxJSONBytes = 4 * MaxTextBytes
	// MaxConditions is how many conditions a tree may hold. Every leaf
	// condition counts, every event property condition inside did(…)
	// counts, and an in_segment counts once for itself and, where saved
	// segments are at hand (saving and evaluating), once for each
	// condition of the segment it names.
	MaxConditions = 200
	// MaxDepth is how deeply groups and negations may nest; a saved
	// segment named by in_segment nests at the reference's depth.
	MaxDepth = 16
	// maxNesting bounds the parser's recursion (parentheses and "not"),
	// above what MaxDepth allows so that parentheses around single
	// conditions, which the tree does not keep, are not refused for depth.
	maxNesting = 4 * MaxDepth
)

// Limit names a limit a definition went beyond. Its value is the stable
// code the API answers with.
type Limit string

// The limits.
const (
	LimitSize       Limit = "segment_too_large"   // MaxTextBytes, MaxJSONBytes
	LimitConditions Limit = "too_many_conditions" // MaxConditions
	LimitDepth      Limit = "too_deep"            // MaxDepth
)

// LimitError is a definition beyond one of the limits. Err says where: a
// *SyntaxError for the text form, a *PathError for JSON, an *Error from
// Validate or CheckExpanded.
type LimitError struct {
	Limit Limit
	Err   error
}

// Error returns the error of the place at fault.
func (e *LimitError) Error() string { return e.Err.Error() }

// Unwrap returns the error of the place at fault.
func (e *LimitError) Unwrap() error { return e.Err }

// ErrCycle is returned when saved segments refer to each other in a loop.
var ErrCycle = errors.New("segments refer to each other in a cycle")

// sizeError reports a source of n bytes over max, at the character where
// the limit is crossed.
func sizeError(n, max int) string {
	return fmt.Sprintf("the segment is %d bytes long; the limit is %d bytes (%d KiB)", n, max, max>>10)
}

// posAt returns the position of the byte at off in src, as the lexer
// counts: lines by "\n", columns in characters.
func posAt(src string, off int) Pos {
	p := Pos{Line: 1, Col: 1}
	for _, r := range src[:off] {
		if r == '\n' {
			p.Line++
			p.Col = 1
		} else {
			p.Col++
		}
	}
	return p
}

// textLimit checks the length of a text form.
func textLimit(src string) error {
	if len(src) <= MaxTextBytes {
		return nil
	}
	off := MaxTextBytes
	for off > 0 && !utf8.RuneStart(src[off]) {
		off--
	}
	return &LimitError{Limit: LimitSize, Err: &SyntaxError{Pos: posAt(src, off), Msg: sizeError(len(src), MaxTextBytes)}}
}

// jsonLimit checks the length of a JSON form.
func jsonLimit(data []byte) error {
	if len(data) <= MaxJSONBytes {
		return nil
	}
	return &LimitError{Limit: LimitSize, Err: &PathError{Msg: sizeError(len(data), MaxJSONBytes)}}
}

// limitCheck counts the conditions of a tree and measures its depth,
// stopping at the first limit it finds.
type limitCheck struct {
	// resolve returns the tree of a saved segment; nil leaves in_segment
	// unexpanded.
	resolve func(id string) (Node, error)
	conds   int
	// chain is the saved segments being expanded, outermost first, for
	// cycles; ref is the outermost reference, at which limits found inside
	// expanded segments are reported.
	chain []string
	ref   *InSegment
	path  string // of ref
}

// limitFailure is a limit found at a node; Err wraps it for the form.
type limitFailure struct {
	limit Limit
	err   *Error
}

func (l *limitCheck) fail(limit Limit, pos Pos, path string) *limitFailure {
	var msg string
	switch {
	case limit == LimitDepth && l.ref == nil:
		msg = fmt.Sprintf("conditions are nested more than %d deep", MaxDepth)
	case limit == LimitDepth:
		msg = fmt.Sprintf("in_segment(%q) nests conditions more than %d deep, counting each saved segment as written out in its place",
			l.ref.ID, MaxDepth)
	case l.ref == nil:
		msg = fmt.Sprintf("more than %d conditions (each condition counts, and so does each property condition inside did(…))",
			MaxConditions)
	default:
		msg = fmt.Sprintf("in_segment(%q) brings the segment to more than %d conditions, counting each saved segment as written out in its place",
			l.ref.ID, MaxConditions)
	}
	if l.ref != nil {
		pos, path = l.ref.Pos, l.path
	}
	return &limitFailure{limit: limit, err: &Error{Pos: pos, Path: path, Msg: msg}}
}

// condition counts one condition at a node.
func (l *limitCheck) condition(pos Pos, path string) *limitFailure {
	l.conds++
	if l.conds > MaxConditions {
		return l.fail(LimitConditions, pos, path)
	}
	return nil
}

// walk checks n at depth (1 for the root) and everything below it. A
// resolve error is returned as an error; a limit as a *limitFailure.
func (l *limitCheck) walk(n Node, path string, depth int) (*limitFailure, error) {
	switch n := n.(type) {
	case *Group:
		if depth > MaxDepth {
			return l.fail(LimitDepth, n.Pos, path), nil
		}
		for i, c := range n.Conditions {
			if f, err := l.walk(c, fmt.Sprintf("%s[%d]", joinPath(path, "conditions"), i), depth+1); f != nil || err != nil {
				return f, err
			}
		}
	case *Not:
		if depth > MaxDepth {
			return l.fail(LimitDepth, n.Pos, path), nil
		}
		return l.walk(n.Condition, joinPath(path, "condition"), depth+1)
	case *Event:
		if f := l.condition(n.Pos, path); f != nil {
			return f, nil
		}
		for i, p := range n.Where {
			if f := l.condition(posOr(p.Pos, n.Pos), fmt.Sprintf("%s[%d]", joinPath(path, "where"), i)); f != nil {
				return f, nil
			}
		}
	case *InSegment:
		if f := l.condition(n.Pos, path); f != nil || l.resolve == nil {
			return f, nil
		}
		if i := slices.Index(l.chain, n.ID); i >= 0 {
			return nil, fmt.Errorf("segment %s refers back to itself through %s: %w",
				l.chain[i], strings.Join(append(slices.Clone(l.chain[i+1:]), n.ID), " → "), ErrCycle)
		}
		ref, err := l.resolve(n.ID)
		if err != nil {
			return nil, err
		}
		if l.ref == nil {
			l.ref, l.path = n, path
			defer func() { l.ref, l.path = nil, "" }()
		}
		l.chain = append(l.chain, n.ID)
		defer func() { l.chain = l.chain[:len(l.chain)-1] }()
		return l.walk(ref, path, depth)
	default:
		return l.condition(posOf(n), path), nil
	}
	return nil, nil
}

// checkLimits checks a tree's conditions and depth, without expanding
// in_segment.
func checkLimits(n Node) *limitFailure {
	f, _ := (&limitCheck{}).walk(n, "", 1)
	return f
}

// CheckExpanded checks n against MaxConditions and MaxDepth as if every
// in_segment were replaced by the tree of the saved segment it names, as
// resolve returns it (recursively). self, when not empty, is the ID of the
// saved segment n defines, so that a reference back to it is a cycle.
//
// A limit gives a *LimitError at the outermost in_segment that leads
// beyond it; a loop of references an error wrapping ErrCycle; resolve's
// errors are returned as they are. Each condition is visited at most once
// before the count passes MaxConditions, so segments that name the same
// segment many times cost no more than the limit.
func CheckExpanded(n Node, self string, resolve func(id string) (Node, error)) error {
	l := &limitCheck{resolve: resolve}
	if self != "" {
		l.chain = []string{self}
	}
	f, err := l.walk(n, "", 1)
	if err != nil {
		return err
	}
	if f != nil {
		return &LimitError{Limit: f.limit, Err: f.err}
	}
	return nil
}

// posOf returns where n starts; nothing for a missing condition.
func posOf(n Node) Pos {
	if n == nil {
		return Pos{}
	}
	return n.Position()
}
