package segment_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/sightline/sightline/internal/segment"
)

func testEvents() segment.StaticEventCatalog {
	return segment.StaticEventCatalog{
		"Export":          {"format", "rows"},
		"Order Completed": {"revenue", "currency"},
		"Signed Up":       {},
	}
}

func TestEventWarnings(t *testing.T) {
	tests := []struct {
		name, in string
		want     []segment.Warning
	}{
		{"known event and keys", `did("Export", 30d, format = "csv") and did_first("Signed Up", 7d)`, nil},
		{"case", `did("export", 30d)`, []segment.Warning{{Problem: segment.Problem{Line: 1, Column: 1, Path: "name",
			Message: `this site has no event "export" yet (names match exactly, case included); did you mean "Export"?`}, Suggestions: []string{"Export"}}}},
		{"typo", `plan = "pro" and did("Oder Completed")`, []segment.Warning{{Problem: segment.Problem{Line: 1, Column: 18, Path: "conditions[1].name",
			Message: `this site has no event "Oder Completed" yet; did you mean "Order Completed"?`}, Suggestions: []string{"Order Completed"}}}},
		{"nothing near", `not did_first("Zebra crossing", 7d)`, []segment.Warning{{Problem: segment.Problem{Line: 1, Column: 5, Path: "condition.name",
			Message: `this site has no event "Zebra crossing" yet`}}}},
		{"property key", `did("Export", 30d, Format = "csv", rows > 3, size > 1)`, []segment.Warning{
			{Problem: segment.Problem{Line: 1, Column: 20, Path: "where[0].key",
				Message: `event "Export" has had no property "Format" (names match exactly, case included); did you mean "format"?`},
				Suggestions: []string{"format"}},
			{Problem: segment.Problem{Line: 1, Column: 46, Path: "where[2].key", Message: `event "Export" has had no property "size"`}}}},
		{"an unknown event's keys are not checked", `did("Exprot", format = "csv")`, []segment.Warning{{Problem: segment.Problem{Line: 1, Column: 1,
			Path: "name", Message: `this site has no event "Exprot" yet; did you mean "Export"?`}, Suggestions: []string{"Export"}}}},
		{"signals and attributes need no events", `rage_clicks(30d) and plan = "pro"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := mustParse(t, tt.in)
			if got := segment.Warnings(n, testEvents()); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Warnings(%s)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
	// From JSON the positions are unknown; the paths say where.
	n, err := segment.ParseJSON([]byte(`{"type":"any","conditions":[{"type":"event","name":"export"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := segment.Warnings(n, testEvents())
	if len(got) != 1 || got[0].Line != 0 || got[0].Path != "conditions[0].name" {
		t.Fatalf("Warnings from JSON = %+v", got)
	}
	if segment.Warnings(n, nil) != nil {
		t.Fatal("a nil catalog warns")
	}
}

func TestEventSuggestionsCaseFirst(t *testing.T) {
	got := segment.Suggest("export", []string{"Exports", "Export", "expert", "EXPORT"})
	if len(got) < 2 || got[0] != "EXPORT" && got[0] != "Export" || got[1] != "EXPORT" && got[1] != "Export" {
		t.Fatalf("Suggest = %v", got)
	}
}

// FuzzEventWarnings checks that Warnings never panics and warns once for each
// event condition naming an unknown event, and for each property
// condition naming an unknown key of a known one, counted apart with Walk.
func FuzzEventWarnings(f *testing.F) {
	f.Add(`did("export", 30d, Format = "csv") or not did_first("Exprot", 7d)`)
	f.Add(`(did("Export", rows > 1, size is set) and plan = "pro") or not (did("x") and did("Signed Up"))`)
	f.Fuzz(func(t *testing.T, src string) {
		n, err := segment.Parse(src)
		if err != nil {
			return
		}
		cat := testEvents()
		want := 0
		segment.Walk(n, func(x segment.Node) bool {
			e, ok := x.(*segment.Event)
			if !ok || e.Name == "" {
				return true
			}
			keys, known := cat.PropertyKeys(e.Name)
			if !known {
				want++
				return true
			}
			for _, p := range e.Where {
				if p.Key != "" && !slices.Contains(keys, p.Key) {
					want++
				}
			}
			return true
		})
		got := segment.Warnings(n, cat)
		if len(got) != want {
			t.Fatalf("Warnings(%q) = %d warnings %+v, want %d", src, len(got), got, want)
		}
		for _, w := range got {
			if w.Path == "" || w.Message == "" {
				t.Fatalf("Warnings(%q): %+v has no path or message", src, w)
			}
		}
	})
}
