package server_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// boundsData gives the server users with the attributes and events the
// generated segments name.
func boundsData(t *testing.T, s *testServer) {
	t.Helper()
	var batch []string
	for i := range 20 {
		batch = append(batch, fmt.Sprintf(`{"type":"identify","userId":"u%d","traits":{"plan":"p%d","ltv":%d},"messageId":"i%d"}`,
			i, i%3, i*10, i))
		batch = append(batch, fmt.Sprintf(`{"type":"track","userId":"u%d","event":"e%d","properties":{"k":"v"},"messageId":"t%d"}`,
			i, i%4, i))
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
}

// boundedLeaves are the conditions random segments are made of, the
// costly kinds of the issue among them.
var boundedLeaves = []string{`plan = "p1"`, `ltv > 50`, `did("e1", 30d)`, `not did("e2", k = "v")`,
	`did("e3", k = "v", k2 != "w") >= 2`, `visited(contains "/p")`, `plan matches "^p[0-9]+$"`, `active_days(7d) >= 1`,
	`plan != "p2"`, `sessions(30d) >= 1`}

// randomSegment builds a random tree around the limits: wide groups,
// deep chains and nests of both.
func randomSegment(r *rand.Rand) segment.Node {
	leaf := func() segment.Node {
		n, err := segment.Parse(boundedLeaves[r.IntN(len(boundedLeaves))])
		if err != nil {
			panic(err)
		}
		return n
	}
	op := func() segment.GroupOp { return []segment.GroupOp{segment.All, segment.Any}[r.IntN(2)] }
	budget := 1 + r.IntN(2*segment.MaxConditions)
	// Wide and shallow, or narrow and deep.
	deepest, fanOut := 3, 80
	if r.IntN(2) == 0 {
		deepest, fanOut = 2*segment.MaxDepth, 3
	}
	var build func(depth int) segment.Node
	build = func(depth int) segment.Node {
		budget--
		switch {
		case budget <= 0 || depth > deepest || r.IntN(6) == 0:
			return leaf()
		case r.IntN(4) == 0:
			return &segment.Not{Condition: build(depth + 1)}
		}
		g := &segment.Group{Op: op()} // of two conditions or more: the text form drops a group of one
		for range 2 + r.IntN(fanOut) {
			g.Conditions = append(g.Conditions, build(depth+1))
		}
		return g
	}
	return build(1)
}

// measureSegment counts conditions (event property conditions too) and
// nesting, as the limits do.
func measureSegment(n segment.Node) (conds, depth int) {
	switch n := n.(type) {
	case *segment.Group:
		for _, c := range n.Conditions {
			cc, d := measureSegment(c)
			conds, depth = conds+cc, max(depth, d)
		}
		return conds, depth + 1
	case *segment.Not:
		c, d := measureSegment(n.Condition)
		return c, d + 1
	case *segment.Event:
		return 1 + len(n.Where), 0
	}
	return 1, 0
}

// TestSegmentCostIsBoundedThroughHTTP sends random segments on either
// side of the limits, as text and as JSON, to every endpoint that
// evaluates a definition, and checks the property of issue #11: the
// answer is a success or a 4xx with a code — a definition beyond a limit
// the 400 of that limit — never a 500, and it comes in bounded time. The
// API may answer 503 when a query costs too much, but on a site of 20
// users a definition within the limits must not: the limits are what
// bound the database's memory, which grows with the operations of a
// query whatever the data (TestSegmentCostIsBoundedThroughHTTP found 136
// conditions running out of 256 MB before conditions of a group shared
// scans).
func TestSegmentCostIsBoundedThroughHTTP(t *testing.T) {
	s := startServer(t, nil)
	boundsData(t, s)
	r := rand.New(rand.NewPCG(7, 8))
	runs := 40
	if testing.Short() {
		runs = 12
	}
	endpoints := []func(form, def string) (int, map[string]any){
		func(form, def string) (int, map[string]any) {
			return s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"`+form+`":`+def+`}`)
		},
		func(form, def string) (int, map[string]any) {
			return s.call(t, store.ScopeRead, "POST", "/segments/trend?days=3", `{"`+form+`":`+def+`}`)
		},
		func(form, def string) (int, map[string]any) {
			var v string
			_ = json.Unmarshal([]byte(def), &v) // the text, unquoted; JSON stays as it is
			if form == "definition" {
				v = def
			}
			return s.get(t, store.ScopeRead, "/recordings?"+form+"="+url.QueryEscape(v))
		},
		func(form, def string) (int, map[string]any) {
			return s.call(t, store.ScopeWrite, "POST", "/segments", `{"name":"n","`+form+`":`+def+`}`)
		},
	}
	accepted, refused := 0, map[string]int{}
	for i := range runs {
		tree := randomSegment(r)
		text := segment.Format(tree)
		js, err := segment.MarshalNode(tree)
		if err != nil {
			t.Fatal(err)
		}
		conds, depth := measureSegment(tree)
		quoted, _ := json.Marshal(text)
		for _, f := range []struct {
			form, def string
			size, max int
		}{{"text", string(quoted), len(text), segment.MaxTextBytes}, {"definition", string(js), len(js), segment.MaxJSONBytes}} {
			var want []string
			switch {
			case f.size > f.max:
				want = []string{"segment_too_large"}
			case conds > segment.MaxConditions && depth > segment.MaxDepth:
				want = []string{"too_many_conditions", "too_deep"}
			case conds > segment.MaxConditions:
				want = []string{"too_many_conditions"}
			case depth > segment.MaxDepth:
				want = []string{"too_deep"}
			}
			start := time.Now()
			code, body := endpoints[i%len(endpoints)](f.form, f.def)
			took := time.Since(start)
			got := errorCode(body)
			switch {
			case code == 503 && (got == "query_timeout" || got == "query_too_expensive") && len(want) > 0:
				t.Fatalf("%s of %d conditions %d deep beyond the limits was run: %d %v", f.form, conds, depth, code, body)
			case code == 503 && (got == "query_timeout" || got == "query_too_expensive"):
				// Allowed by the API, but within the limits on a site of
				// 20 users it means the limits do not bound memory.
				t.Fatalf("%s of %d conditions %d deep, endpoint %d: %d %v", f.form, conds, depth, i%len(endpoints), code, body)
			case code >= 500 || (code >= 400 && got == ""):
				t.Fatalf("%s of %d conditions %d deep, endpoint %d: %d %v", f.form, conds, depth, i%len(endpoints), code, body)
			case len(want) > 0 && (code != 400 || !contains(want, got)):
				t.Fatalf("%s of %d conditions %d deep: %d %q, want 400 %q", f.form, conds, depth, code, got, want)
			case took > 20*time.Second:
				t.Fatalf("%s of %d conditions %d deep: %s to answer", f.form, conds, depth, took)
			case code < 300:
				accepted++
			default:
				refused[got]++
			}
		}
	}
	t.Logf("accepted %d, refused %v", accepted, refused)
	if accepted == 0 || refused["too_many_conditions"] == 0 {
		t.Errorf("the generator does not reach both sides: accepted %d, refused %v", accepted, refused)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestFoundShapesThroughHTTP sends the shapes an outside tester found
// answering slowly or 500, generated at their sizes: each is a 400 with
// the limit's code, at once.
func TestFoundShapesThroughHTTP(t *testing.T) {
	s := startServer(t, nil)
	boundsData(t, s)
	join := func(n int, sep string, cond func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = cond(i)
		}
		return strings.Join(parts, sep)
	}
	tests := []struct {
		name, body, code string
	}{
		{"3,000 did() or'ed", join(3000, " or ", func(i int) string { return fmt.Sprintf(`did("e%d", %dd)`, i%4, 1+i%90) }),
			"too_many_conditions"},
		{"20,000 attribute conditions", join(20000, " and ", func(i int) string { return fmt.Sprintf(`plan != "v%d"`, i) }),
			"segment_too_large"},
		{"200 not did() with a property", join(200, " and ", func(i int) string { return fmt.Sprintf(`not did("e%d", k = "v")`, i%4) }),
			"too_many_conditions"},
		{"201 attribute conditions", join(201, " or ", func(i int) string { return fmt.Sprintf(`ltv = %d`, i) }), "too_many_conditions"},
		{"10,000 parentheses", strings.Repeat("(", 10000) + `plan = "p1"` + strings.Repeat(")", 10000), "too_deep"},
		{"10,000 not", strings.Repeat("not ", 10000) + `plan = "p1"`, "too_deep"},
		{"named group (?<n>…)", `plan matches "(?<n>p)1"`, "invalid_segment"},
		{`\pL{1000}`, `plan matches "\\pL{1000}"`, "invalid_segment"},
	}
	for _, tt := range tests {
		quoted, _ := json.Marshal(tt.body)
		start := time.Now()
		code, body := s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"text":`+string(quoted)+`}`)
		if code != 400 || errorCode(body) != tt.code || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %d %q after %s, want 400 %s", tt.name, code, errorCode(body), time.Since(start), tt.code)
		}
	}
}

// TestQueryTimeoutThroughHTTP checks that a segment query stopped by the
// query timeout answers 503 query_timeout on each endpoint that
// evaluates one, and that the server keeps answering.
func TestQueryTimeoutThroughHTTP(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.QueryTimeout = time.Nanosecond })
	boundsData(t, s)
	def := `{"text":"did(\"e1\", 30d) and plan = \"p1\""}`
	for name, call := range map[string]func() (int, map[string]any){
		"preview": func() (int, map[string]any) { return s.call(t, store.ScopeRead, "POST", "/segments/preview", def) },
		"trend":   func() (int, map[string]any) { return s.call(t, store.ScopeRead, "POST", "/segments/trend?days=2", def) },
		"recordings": func() (int, map[string]any) {
			return s.get(t, store.ScopeRead, "/recordings?text="+url.QueryEscape(`plan = "p1"`))
		},
	} {
		if code, body := call(); code != 503 || errorCode(body) != "query_timeout" {
			t.Errorf("%s: %d %v, want 503 query_timeout", name, code, body)
		}
	}
	if code, body := s.get(t, store.ScopeRead, ""); code != 200 {
		t.Errorf("site after timeouts: %d %v", code, body)
	}
}

// TestSavedSegmentsAreBoundedWrittenOut checks the limits on segments
// that name saved segments: counted written out in full when saved, and
// again when a named segment has grown since.
func TestSavedSegmentsAreBoundedWrittenOut(t *testing.T) {
	s := startServer(t, nil)
	boundsData(t, s)
	conds := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`ltv = %d`, i)
		}
		b, _ := json.Marshal(strings.Join(parts, " or "))
		return string(b)
	}
	save := func(method, path, text string) (int, map[string]any) {
		return s.call(t, store.ScopeWrite, method, path, `{"name":"n","text":`+text+`}`)
	}
	code, body := save("POST", "/segments", conds(100))
	if code != 201 {
		t.Fatalf("save a: %d %v", code, body)
	}
	a := body["id"].(string)
	ref := func(ids ...string) string {
		var parts []string
		for _, id := range ids {
			parts = append(parts, fmt.Sprintf(`in_segment(%q)`, id))
		}
		b, _ := json.Marshal(strings.Join(parts, " or "))
		return string(b)
	}
	// b = a and one more: 101 conditions written out.
	code, body = save("POST", "/segments", ref(a))
	if code != 201 {
		t.Fatalf("save b: %d %v", code, body)
	}
	b := body["id"].(string)
	// a twice: 202.
	if code, body = save("POST", "/segments", ref(a, b)); code != 400 || errorCode(body) != "too_many_conditions" {
		t.Fatalf("a and b written out: %d %v, want 400 too_many_conditions", code, body)
	}
	// a grows to the limit on its own; b, written out, is one beyond.
	if code, body = save("PUT", "/segments/"+a, conds(segment.MaxConditions)); code != 200 {
		t.Fatalf("grow a: %d %v", code, body)
	}
	for _, path := range []string{"/segments/" + b, "/segments/" + b + "/members", "/segments/" + b + "/trend?days=2",
		"/users/u1/segments"} {
		if code, body := s.get(t, store.ScopeRead, path); code != 400 || errorCode(body) != "too_many_conditions" {
			t.Errorf("GET %s with b grown: %d %v, want 400 too_many_conditions", path, code, body)
		}
	}
}
