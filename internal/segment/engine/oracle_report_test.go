package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// This file explains a disagreement between the engine and the oracle:
// the tree, its SQL, the users in dispute and, for each, the conditions
// on which the two disagree with the data those conditions read.

// report describes a mismatch for a test failure.
func (run *oracleRun) report(i int, tree, parsed segment.Node, got, want []int64, count int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d tree %d: the engine and the oracle disagree\n", run.seed, i)
	fmt.Fprintf(&b, "replay: go test ./internal/segment/engine -run '%s$' -oracle.seed=%d -oracle.datasets=1 -oracle.n=%d\n",
		run.test, run.seed, i)
	fmt.Fprintf(&b, "segment: %s\n", segment.Format(tree))
	for _, id := range segment.SegmentRefs(tree) {
		fmt.Fprintf(&b, "  %s: %s\n", id, segment.Format(run.w.segments[id]))
	}
	if q, err := run.compiler().Members(parsed); err != nil {
		fmt.Fprintf(&b, "compile: %v\n", err)
	} else {
		fmt.Fprintf(&b, "SQL: %s\nargs: %v\n", q.SQL, q.Args)
	}
	missing, extra := difference(want, got), difference(got, want)
	fmt.Fprintf(&b, "oracle: %d members, engine: %d members (count %d)\n", len(want), len(got), count)
	fmt.Fprintf(&b, "only the oracle: %v\nonly the engine: %v\n", missing, extra)
	disputed := append(slices.Clone(missing), extra...)
	if len(disputed) > 4 {
		disputed = disputed[:4]
	}
	for _, k := range disputed {
		u := run.w.users[k]
		if u == nil {
			fmt.Fprintf(&b, "user %d is not among the site's users\n", k)
			continue
		}
		fmt.Fprintf(&b, "user %d %v:\n", k, u.ids)
		for _, leaf := range run.leaves(tree) {
			want := run.w.match(leaf, u)
			got, err := run.eng.Contains(run.ctx, run.site, leaf, k)
			mark := "  "
			if err != nil || got != want {
				mark = "≠ "
			}
			fmt.Fprintf(&b, "  %soracle %-5v engine %-5v %s", mark, want, got, segment.Format(leaf))
			if err != nil {
				fmt.Fprintf(&b, " (%v)", err)
			}
			b.WriteString("\n")
			if mark != "  " {
				run.describe(&b, leaf, u)
			}
		}
	}
	return b.String()
}

// difference returns the keys of a not in b; both are sorted.
func difference(a, b []int64) []int64 {
	var out []int64
	for _, k := range a {
		if _, found := slices.BinarySearch(b, k); !found {
			out = append(out, k)
		}
	}
	return out
}

// leaves returns the conditions of a tree that are not groups or
// negations, looking into the saved segments it names.
func (run *oracleRun) leaves(n segment.Node) []segment.Node {
	var out []segment.Node
	segment.Walk(n, func(n segment.Node) bool {
		switch n := n.(type) {
		case *segment.Group, *segment.Not:
			return true
		case *segment.InSegment:
			out = append(out, n)
			out = append(out, run.leaves(run.w.segments[n.ID])...)
		default:
			out = append(out, n)
		}
		return false
	})
	return out
}

// describe writes the data of u that a condition reads.
func (run *oracleRun) describe(b *strings.Builder, n segment.Node, u *oUser) {
	const indent = "        "
	history := func(key string) {
		if v, ok := u.attrs[key]; ok {
			fmt.Fprintf(b, "%s%s now: %s %q\n", indent, key, v.Type, v.Text())
		} else {
			fmt.Fprintf(b, "%s%s now: not set\n", indent, key)
		}
		for _, e := range u.history[key] {
			fmt.Fprintf(b, "%s  set %s: %q null=%v\n", indent, e.at.Format(time.RFC3339Nano), e.v.Text(), e.v.Null)
		}
	}
	sessions := func(p segment.Period, field string) {
		for _, s := range u.sessions {
			in := inPeriod(s.start, p, run.w.now)
			fmt.Fprintf(b, "%ssession %s – %s (%s) in period %v", indent, s.start.Format(time.RFC3339Nano),
				s.end.Format(time.RFC3339Nano), s.end.Sub(s.start), in)
			if field != "" {
				fmt.Fprintf(b, " %s=%q", field, s.fields[field])
			}
			b.WriteString("\n")
		}
	}
	events := func(keep func(e oEvent) bool, p segment.Period) {
		for _, e := range u.events {
			if keep(e) {
				fmt.Fprintf(b, "%sevent kind %d %q %s path %q props %v in period %v\n", indent, e.kind, e.name,
					e.ts.Format(time.RFC3339Nano), e.path, e.props, inPeriod(e.ts, p, run.w.now))
			}
		}
	}
	switch n := n.(type) {
	case *segment.Attribute:
		if n.Scope == segment.ScopeCompany {
			for _, g := range u.groups {
				v, ok := run.w.companies[g][n.Key]
				fmt.Fprintf(b, "%scompany %d: %s set=%v %s %q\n", indent, g, n.Key, ok, v.Type, v.Text())
			}
			if len(u.groups) == 0 {
				fmt.Fprintf(b, "%sno company\n", indent)
			}
			return
		}
		history(n.Key)
	case *segment.Changed:
		history(n.Key)
	case *segment.Event:
		events(func(e oEvent) bool { return e.kind == 2 && e.name == n.Name }, n.Period)
	case *segment.ActiveDays:
		events(func(oEvent) bool { return true }, n.Period)
	case *segment.Visited:
		events(func(e oEvent) bool { return e.kind == 3 || e.kind == 4 }, n.Period)
	case *segment.Sessions:
		sessions(n.Period, "")
	case *segment.SessionDuration:
		sessions(n.Period, "")
	case *segment.SessionField:
		sessions(n.Period, n.Field)
	}
}
