package segment_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// measure counts a tree's conditions and groups and negations nested, as
// the limits count them, independently of the package: leaves, event
// property conditions and in_segment references count; the root group is
// at depth 1.
func measure(n segment.Node) (conds, depth int) {
	switch n := n.(type) {
	case *segment.Group:
		for _, c := range n.Conditions {
			cc, d := measure(c)
			conds += cc
			depth = max(depth, d)
		}
		return conds, depth + 1
	case *segment.Not:
		conds, depth = measure(n.Condition)
		return conds, depth + 1
	case *segment.Event:
		return 1 + len(n.Where), 0
	}
	return 1, 0
}

// limitOf returns the limit err reports, or "".
func limitOf(err error) segment.Limit {
	var le *segment.LimitError
	if errors.As(err, &le) {
		return le.Limit
	}
	return ""
}

// bigTree builds a random tree around the limits: wide groups, long
// chains of negations and groups, events with many property conditions,
// and mixes of them.
func bigTree(r *rand.Rand) segment.Node {
	leaf := func() segment.Node { return randomNode(r, 4) }
	around := func(limit int) int { return 1 + r.IntN(2*limit) }
	switch r.IntN(4) {
	case 0: // one wide group
		g := &segment.Group{Op: pick(r, segment.All, segment.Any)}
		for range around(segment.MaxConditions) {
			g.Conditions = append(g.Conditions, leaf())
		}
		return g
	case 1: // a deep chain
		n := leaf()
		for range around(segment.MaxDepth) {
			if r.IntN(2) == 0 {
				n = &segment.Not{Condition: n}
			} else {
				n = &segment.Group{Op: pick(r, segment.All, segment.Any), Conditions: []segment.Node{n, leaf()}}
			}
		}
		return n
	case 2: // an event with many property conditions
		e := &segment.Event{Name: "e"}
		for i := range around(segment.MaxConditions) {
			e.Where = append(e.Where, segment.Property{Key: "k" + strconv.Itoa(i), Op: segment.OpEq,
				Values: []segment.Value{{Kind: segment.ValString, Str: "v"}}})
		}
		return e
	}
	// Nested groups of random fan-out, of about twice MaxConditions
	// conditions at most.
	budget := around(segment.MaxConditions)
	var build func(depth int) segment.Node
	build = func(depth int) segment.Node {
		budget--
		if depth > 2*segment.MaxDepth || budget <= 0 || r.IntN(4) == 0 {
			return leaf()
		}
		g := &segment.Group{Op: pick(r, segment.All, segment.Any)}
		for range 1 + r.IntN(6) {
			g.Conditions = append(g.Conditions, build(depth+1))
		}
		return g
	}
	return build(1)
}

// wantLimits returns the limits a form of n may report: the size when
// the source is too long, else those of the count and the depth that n
// goes beyond (the first found in the tree's order is reported).
func wantLimits(n segment.Node, size, maxSize int) []segment.Limit {
	if size > maxSize {
		return []segment.Limit{segment.LimitSize}
	}
	conds, depth := measure(n)
	var want []segment.Limit
	if conds > segment.MaxConditions {
		want = append(want, segment.LimitConditions)
	}
	if depth > segment.MaxDepth {
		want = append(want, segment.LimitDepth)
	}
	return want
}

// TestLimitsInBothForms builds random trees on either side of the limits
// and checks that the text and the JSON form are refused exactly when a
// limit is passed, with the limit named and a place that exists in the
// source; and that Validate holds trees built in code to the same limits.
func TestLimitsInBothForms(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	runs := 200
	if testing.Short() {
		runs = 50
	}
	seen := map[segment.Limit]int{}
	for range runs {
		tree := bigTree(r)
		text := segment.Format(tree)
		_, err := segment.Parse(text)
		checkLimit(t, "text", text, err, wantLimits(tree, len(text), segment.MaxTextBytes))
		seen[limitOf(err)]++

		js := mustMarshal(t, tree)
		_, err = segment.ParseJSON([]byte(js))
		checkLimit(t, "JSON", js, err, wantLimits(tree, len(js), segment.MaxJSONBytes))
		seen[limitOf(err)]++

		err = segment.Validate(tree, prefixCatalog{})
		if want := wantLimits(tree, 0, 0); len(want) > 0 || limitOf(err) != "" {
			checkLimit(t, "tree", "", err, want)
		}
	}
	// The generator must reach each side of each limit.
	for _, l := range []segment.Limit{"", segment.LimitConditions, segment.LimitDepth} {
		if seen[l] == 0 {
			t.Errorf("no tree reached %q; seen %v", l, seen)
		}
	}
}

// checkLimit checks that err reports one of the limits in want (none:
// no limit), and that the place it names exists in src.
func checkLimit(t *testing.T, form, src string, err error, want []segment.Limit) {
	t.Helper()
	got := limitOf(err)
	if len(want) == 0 {
		if got != "" {
			t.Fatalf("%s within the limits refused: %v", form, err)
		}
		return
	}
	ok := false
	for _, w := range want {
		ok = ok || got == w
	}
	if !ok {
		t.Fatalf("%s: got %v (%q), want one of %q", form, err, got, want)
	}
	var syn *segment.SyntaxError
	var pe *segment.PathError
	var ve *segment.Error
	switch {
	case form == "text" && errors.As(err, &syn):
		lines := strings.Split(src, "\n")
		if syn.Pos.Line < 1 || syn.Pos.Line > len(lines) || syn.Pos.Col < 1 || syn.Pos.Col > len([]rune(lines[syn.Pos.Line-1]))+1 {
			t.Fatalf("text: %v names no place in the text", err)
		}
	case form == "JSON" && errors.As(err, &pe):
		var doc any
		if err := json.Unmarshal([]byte(src), &doc); err != nil {
			t.Fatal(err)
		}
		if _, ok := atPath(doc, pe.Path); !ok {
			t.Fatalf("JSON: %v names no place in the document", err)
		}
	case form == "tree" && errors.As(err, &ve):
	default:
		t.Fatalf("%s: %v (%T) does not say where", form, err, err)
	}
}

var pathStep = regexp.MustCompile(`^([a-z_]+)(?:\[(\d+)\])?$`)

// atPath returns the value at a path such as "conditions[2].condition".
func atPath(doc any, path string) (any, bool) {
	if path == "" {
		return doc, true
	}
	for _, step := range strings.Split(path, ".") {
		m := pathStep.FindStringSubmatch(step)
		obj, ok := doc.(map[string]any)
		if m == nil || !ok {
			return nil, false
		}
		if doc, ok = obj[m[1]]; !ok {
			return nil, false
		}
		if m[2] != "" {
			i, _ := strconv.Atoi(m[2])
			list, ok := doc.([]any)
			if !ok || i >= len(list) {
				return nil, false
			}
			doc = list[i]
		}
	}
	return doc, true
}

// TestLimitsRefuseTheFoundShapes generates the definitions an outside
// tester sent (thousands of did() or attribute conditions, hundreds of
// not did(…) with a property, deep nesting), at sizes from small to far
// beyond the limits, and checks that each form is refused with the
// right limit, at once.
func TestLimitsRefuseTheFoundShapes(t *testing.T) {
	shapes := map[string]func(i int) string{
		"did or":       func(i int) string { return fmt.Sprintf(`did("e%d", %dd)`, i, 1+i%90) },
		"attributes":   func(i int) string { return fmt.Sprintf(`a%d = "v%d"`, i%50, i) },
		"not did prop": func(i int) string { return fmt.Sprintf(`not did("e%d", k = "v")`, i) },
	}
	for name, cond := range shapes {
		for _, n := range []int{10, 100, 200, 201, 3000, 20000} {
			parts := make([]string, n)
			for i := range parts {
				parts[i] = cond(i)
			}
			text := strings.Join(parts, " or ")
			tree, err := segment.Parse(strings.Join(parts[:min(n, 100)], " or "))
			if err != nil {
				t.Fatal(err)
			}
			js := mustMarshal(t, &segment.Group{Op: segment.Any, Conditions: repeatConditions(tree, n)})
			for _, f := range []struct {
				form, src string
				max       int
				parse     func(string) error
			}{
				{"text", text, segment.MaxTextBytes, func(s string) error { _, err := segment.Parse(s); return err }},
				{"JSON", js, segment.MaxJSONBytes, func(s string) error { _, err := segment.ParseJSON([]byte(s)); return err }},
			} {
				start := time.Now()
				err := f.parse(f.src)
				if took := time.Since(start); took > time.Second {
					t.Errorf("%s × %d (%s): %s to answer", name, n, f.form, took)
				}
				conds := n
				if name == "not did prop" {
					conds = 2 * n
				}
				var want segment.Limit
				switch {
				case len(f.src) > f.max:
					want = segment.LimitSize
				case conds > segment.MaxConditions:
					want = segment.LimitConditions
				}
				if got := limitOf(err); got != want || (want == "" && err != nil) {
					t.Errorf("%s × %d (%s, %d bytes): %v, want %q", name, n, f.form, len(f.src), err, want)
				}
			}
		}
	}
}

// repeatConditions returns n conditions cycling through the group g's.
func repeatConditions(g segment.Node, n int) []segment.Node {
	conds := g.(*segment.Group).Conditions
	out := make([]segment.Node, n)
	for i := range out {
		out[i] = conds[i%len(conds)]
	}
	return out
}

// TestDeepNestingIsRefusedSafely sends nesting far beyond any limit —
// parentheses, negations, JSON objects and arrays — and checks that each
// is refused promptly with an error, not a crash of the stack.
func TestDeepNestingIsRefusedSafely(t *testing.T) {
	for _, depth := range []int{segment.MaxDepth + 1, 1000, 20000, 100000} {
		inputs := map[string]string{
			"parentheses": strings.Repeat("(", depth) + "a = 1" + strings.Repeat(")", depth),
			"not":         strings.Repeat("not ", depth) + "a = 1",
			"not (":       strings.Repeat("not (", depth) + "a = 1" + strings.Repeat(")", depth),
		}
		if depth <= 4*segment.MaxDepth {
			delete(inputs, "parentheses") // around one condition: no depth in the tree
		}
		for name, text := range inputs {
			start := time.Now()
			_, err := segment.Parse(text)
			var se *segment.SyntaxError
			if limitOf(err) == "" || !errors.As(err, &se) || time.Since(start) > time.Second {
				t.Errorf("%s × %d: %v after %s, want a limit at a position", name, depth, err, time.Since(start))
			}
		}
		docs := map[string]string{
			"not":    strings.Repeat(`{"type":"not","condition":`, depth) + `{"type":"segment","id":"s"}` + strings.Repeat("}", depth),
			"all":    strings.Repeat(`{"type":"all","conditions":[`, depth) + `{"type":"segment","id":"s"}` + strings.Repeat("]}", depth),
			"arrays": strings.Repeat("[", depth) + strings.Repeat("]", depth),
		}
		for name, doc := range docs {
			start := time.Now()
			_, err := segment.ParseJSON([]byte(doc))
			var pe *segment.PathError
			if !errors.As(err, &pe) || time.Since(start) > time.Second {
				t.Errorf("JSON %s × %d: %v after %s, want a *PathError", name, depth, err, time.Since(start))
			}
		}
	}
}

// TestCheckExpanded builds random graphs of saved segments, each naming
// earlier ones any number of times, so that writing them out can grow
// exponentially, and compares CheckExpanded with the count and depth of
// the segment written out in full, computed independently. It must
// answer after reading at most MaxConditions+1 segments.
func TestCheckExpanded(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for run := range 300 {
		saved := map[string]segment.Node{}
		var ids []string
		for i := range 2 + r.IntN(30) {
			g := &segment.Group{Op: pick(r, segment.All, segment.Any)}
			for range 1 + r.IntN(4) {
				if len(ids) > 0 && r.IntN(3) > 0 {
					var ref segment.Node = &segment.InSegment{ID: pick(r, ids...)}
					if r.IntN(3) == 0 {
						ref = &segment.Not{Condition: ref}
					}
					g.Conditions = append(g.Conditions, ref)
				} else {
					g.Conditions = append(g.Conditions, &segment.Attribute{Key: "plan", Op: segment.OpSet})
				}
			}
			id := "seg" + strconv.Itoa(i)
			saved[id] = g
			ids = append(ids, id)
		}
		root := &segment.InSegment{ID: ids[len(ids)-1]}
		reads := 0
		err := segment.CheckExpanded(root, "", func(id string) (segment.Node, error) {
			reads++
			return saved[id], nil
		})
		conds, depth := expandedMeasure(saved, root)
		var want []segment.Limit
		if conds > segment.MaxConditions {
			want = append(want, segment.LimitConditions)
		}
		if depth > segment.MaxDepth {
			want = append(want, segment.LimitDepth)
		}
		checkLimit(t, "tree", "", err, want)
		if reads > segment.MaxConditions+1 {
			t.Fatalf("run %d: %d segments read", run, reads)
		}
	}
}

// expandedMeasure is measure with each in_segment counted once and
// replaced by its segment, memoised (the expansion may be exponential).
func expandedMeasure(saved map[string]segment.Node, n segment.Node) (conds, depth int) {
	type m struct{ conds, depth int }
	memo := map[string]m{}
	var walk func(n segment.Node) (int, int)
	walk = func(n segment.Node) (int, int) {
		switch n := n.(type) {
		case *segment.Group:
			c, d := 0, 0
			for _, x := range n.Conditions {
				xc, xd := walk(x)
				c, d = min(c+xc, 1<<40), max(d, xd)
			}
			return c, d + 1
		case *segment.Not:
			c, d := walk(n.Condition)
			return c, d + 1
		case *segment.InSegment:
			if v, ok := memo[n.ID]; ok {
				return 1 + v.conds, v.depth
			}
			c, d := walk(saved[n.ID])
			memo[n.ID] = m{c, d}
			return 1 + c, d
		}
		return 1, 0
	}
	return walk(n)
}

// TestCheckExpandedFindsCycles checks that a loop of references is
// reported, through any number of segments, and a reference to the
// segment being defined too.
func TestCheckExpandedFindsCycles(t *testing.T) {
	saved := map[string]segment.Node{
		"a": &segment.InSegment{ID: "b"},
		"b": &segment.Group{Op: segment.Any, Conditions: []segment.Node{&segment.InSegment{ID: "c"}}},
		"c": &segment.Not{Condition: &segment.InSegment{ID: "a"}},
		"d": &segment.InSegment{ID: "self"},
	}
	resolve := func(id string) (segment.Node, error) { return saved[id], nil }
	err := segment.CheckExpanded(&segment.InSegment{ID: "a"}, "", resolve)
	if !errors.Is(err, segment.ErrCycle) || !strings.Contains(err.Error(), "segment a refers back to itself through b → c → a") {
		t.Errorf("a → b → c → a: %v", err)
	}
	err = segment.CheckExpanded(&segment.InSegment{ID: "d"}, "self", resolve)
	if !errors.Is(err, segment.ErrCycle) || !strings.Contains(err.Error(), "segment self refers back to itself through d → self") {
		t.Errorf("self → d → self: %v", err)
	}
}
