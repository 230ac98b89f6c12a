package segment_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/segment"
)

func TestParseJSON(t *testing.T) {
	tests := []struct{ name, json, text string }{
		{"brief's attribute", `{"type":"attribute","key":"plan","op":"=","value":"pro"}`, `plan = "pro"`},
		{"company scope and as of", `{"type":"attribute","key":"industry","op":"=","value":"tax","scope":"company"}`, `company.industry = "tax"`},
		{"user scope spelled out", `{"type":"attribute","key":"plan","op":"is set","scope":"user","as_of":"2025-03-01"}`, `plan is set as of 2025-03-01`},
		{"ISO date string", `{"type":"attribute","key":"signed_up_at","op":">","value":"2024-05-01"}`, `signed_up_at > 2024-05-01`},
		{"changed with a range", `{"type":"changed","key":"plan","from":"trial","to":"pro","within":{"from":"2025-01-01","to":"2025-02-01"}}`,
			`plan changed from "trial" to "pro" within 2025-01-01..2025-02-01`},
		{"event", `{"type":"event","name":"export","where":[{"key":"format","op":"=","value":"csv"}],"op":">=","value":3,"within":"30d"}`,
			`did("export", 30d, format = "csv") >= 3`},
		{"first event", `{"type":"first_event","name":"export","within":"7d"}`, `did_first("export", 7d)`},
		{"active days", `{"type":"active_days","op":">=","value":4,"within":"7d"}`, `active_days(7d) >= 4`},
		{"visited", `{"type":"visited","match":"contains","page":"/pricing","within":"30d","op":">=","value":2}`, `visited(contains "/pricing", 30d) >= 2`},
		{"visited without match", `{"type":"visited","page":"/"}`, `visited("/")`},
		{"sessions", `{"type":"sessions","op":">=","value":5,"within":"30d"}`, `sessions(30d) >= 5`},
		{"session duration", `{"type":"session_duration","agg":"any","op":">=","value":"3h","within":"30d"}`, `session_duration(30d) >= 3h`},
		{"session duration default agg", `{"type":"session_duration","op":">=","value":"180m"}`, `session_duration >= 3h`},
		{"session field", `{"type":"session","field":"device","op":"=","value":"mobile","within":"30d"}`, `session.device = "mobile" within 30d`},
		{"segment", `{"type":"segment","id":"seg_abc"}`, `in_segment("seg_abc")`},
		{"rage clicks", `{"type":"rage_clicks","within":"30d","op":">=","value":3}`, `rage_clicks(30d) >= 3`},
		{"answer", `{"type":"answer","survey":"s1","question":"why","within":"90d","op":"in","values":["Price","Bugs"]}`, `answer("s1", "why", 90d) in ("Price", "Bugs")`},
		{"feedback rating", `{"type":"feedback_rating","op":"between","values":[1,2.5]}`, `feedback_rating() between 1 and 2.5`},
		{"errors on a page, match by default", `{"type":"errors","page":"/checkout","within":"7d","op":">","value":0}`,
			`errors(7d, page = "/checkout") > 0`},
		{"u-turns on a prefix", `{"type":"u_turns","match":"starts_with","page":"/pricing"}`, `u_turns(page starts_with "/pricing")`},
		{"dead clicks, nothing else", `{"type":"dead_clicks"}`, `dead_clicks()`},
		{"group of one", `{"type":"all","conditions":[{"type":"segment","id":"s"}]}`, `in_segment("s")`},
		{"nested groups", `{"type":"any","conditions":[{"type":"not","condition":{"type":"segment","id":"s"}},{"type":"all","conditions":[{"type":"event","name":"a"},{"type":"event","name":"b"}]}]}`,
			`not in_segment("s") or did("a") and did("b")`},
		{"spaces and field order do not matter", "{ \"value\": 1e3,\n \"op\": \"<\", \"key\": \"ltv\", \"type\": \"attribute\" }", `ltv < 1000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := segment.ParseJSON([]byte(tt.json))
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			if got := segment.Format(n); got != tt.text {
				t.Errorf("Format(ParseJSON(%s))\n got %s\nwant %s", tt.json, got, tt.text)
			}
			again, err := segment.ParseJSON([]byte(mustMarshal(t, n)))
			if err != nil || !sameTree(n, again) {
				t.Errorf("ParseJSON(MarshalNode(t)) = %v, %v; want t", again, err)
			}
		})
	}
}

func TestParseJSONErrors(t *testing.T) {
	deep := strings.Repeat(`{"type":"not","condition":`, segment.MaxDepth+1) + `{"type":"segment","id":"s"}` +
		strings.Repeat("}", segment.MaxDepth+1)
	tests := []struct{ json, want string }{
		{`{"type":"all","conditions":[{"type":"segment","id":"s"},{"type":"atribute"}]}`,
			`conditions[1].type: unknown condition type "atribute"; did you mean "attribute"?`},
		{`{"type":"attribute","key":"a","op":"=","vaue":1}`, `vaue: unknown field "vaue" in a condition of type "attribute"; did you mean "value"?`},
		{`{"type":"attribute","key":"a","op":"~","value":1}`,
			`op: unknown operator "~" for an attribute (use =, !=, <, <=, >, >=, between, in, not in, contains, starts_with, ends_with, matches, is set, is not set, within, older_than)`},
		{`{"type":"attribute","op":"=","value":1}`, `key: missing`},
		{`{"type":"answer","survey":"s","op":"=","value":1}`, `question: missing`},
		{`{"type":"feedback_rating","survey":"s","op":"<=","value":2}`, `survey: unknown field "survey" in a condition of type "feedback_rating"`},
		{`{"key":"a"}`, `type: missing`},
		{`{"type":"attribute","key":"a","op":"=","values":[1]}`, `values: "=" takes one value in "value"`},
		{`{"type":"attribute","key":"a","op":"in","value":1}`, `value: "in" takes a list in "values"`},
		{`{"type":"attribute","key":"a","op":"is set","value":1}`, `value: "is set" takes no value`},
		{`{"type":"attribute","key":"a","op":"=","value":{"x":1}}`, `value: expected a string, number or boolean, found an object`},
		{`{"type":"attribute","key":"a","op":"in","values":[1,null]}`, `values[1]: expected a string, number or boolean, found null`},
		{`{"type":"attribute","key":"a","op":"within","value":30}`, `value: expected a duration like "30d", found a number`},
		{`{"type":"attribute","key":"a","op":"=","value":1,"scope":"team"}`, `scope: unknown scope "team" (use "user" or "company")`},
		{`{"type":"attribute","key":"a","op":"=","value":1,"as_of":"soon"}`, `as_of: "soon" is not a date (like 2025-03-01 or 2025-03-01T10:00:00Z)`},
		{`{"type":"all","conditions":[]}`, `conditions: a group needs at least one condition`},
		{`{"type":"not"}`, `condition: missing`},
		{`{"type":"changed","key":"x","scope":"company"}`, `scope: changed reads the history of user attributes only`},
		{`{"type":"first_event","name":"x","op":">=","value":1}`, `op: unknown field "op" in a condition of type "first_event"`},
		{`{"type":"event","name":"x","op":">="}`, `value: missing`},
		{`{"type":"rage_click","within":"7d"}`, `type: unknown condition type "rage_click"; did you mean "rage_clicks"?`},
		{`{"type":"errors","match":"contains"}`, `match: "match" goes with "page"; add the page to match`},
		{`{"type":"errors","page":3}`, `page: expected a string, found a number`},
		{`{"type":"dead_clicks","match":"","page":"/"}`, `match: empty match (use "=", "contains", "starts_with" or "matches")`},
		{`{"type":"dead_clicks","op":"~","value":1}`, `op: unknown operator "~" for a count (use =, !=, <, <=, >, >=)`},
		{`{"type":"u_turns","pages":"/x"}`, `pages: unknown field "pages" in a condition of type "u_turns"; did you mean "page"?`},
		{`{"type":"event","name":"x","op":">=","value":"3"}`, `value: expected a number, found a string`},
		{`{"type":"event","name":"x","where":[{"key":"k","op":"between","values":[1,2]}]}`,
			`where[0].op: unknown operator "between" for an event property (use =, !=, <, <=, >, >=, in, not in, contains, starts_with, ends_with, matches, is set, is not set)`},
		{`{"type":"event","name":"x","within":"3x"}`, `within: invalid duration "3x": write a whole number and one unit (s, m, h, d or w), like 30d`},
		{`{"type":"event","name":"x","within":{"from":"2025-01-01","to":"soon"}}`, `within.to: "soon" is not a date (like 2025-03-01 or 2025-03-01T10:00:00Z)`},
		{`{"type":"event","name":"x","within":{"from":"2025-01-01","until":"2025-02-01"}}`, `within.until: unknown field "until" in a period`},
		{`{"type":"session","field":"a.b","op":"=","value":"x"}`, `field: "a.b" is not a session field`},
		{`{"type":"session_duration","agg":"max","op":">","value":"1h"}`, `agg: unknown aggregate "max" (use "any" or "avg")`},
		{`{"type":"active_days","within":"7d"}`, `op: missing`},
		{`{"type":"sessions","op":">","value":1e999}`, `value: number 1e999 is out of range`},
		{`[1]`, `expected an object, found an array`},
		{`{"type":"segment","id":"s"} {}`, `invalid JSON: more data after the condition`},
		{`{"type":`, `invalid JSON: unexpected EOF`},
		{deep, strings.Repeat("condition.", segment.MaxDepth-1) + `condition: conditions are nested more than 16 deep`},
	}
	for _, tt := range tests {
		_, err := segment.ParseJSON([]byte(tt.json))
		var pe *segment.PathError
		if !errors.As(err, &pe) {
			t.Errorf("ParseJSON(%s) = %v, want a *PathError", tt.json, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseJSON(%s):\n got %s\nwant %s", tt.json, err, tt.want)
		}
	}
}

func TestMarshalNodeRefusesWhatJSONCannotSay(t *testing.T) {
	for _, n := range []segment.Node{
		nil,
		&segment.Group{Op: segment.All, Conditions: []segment.Node{nil}},
		&segment.Event{Name: "x", First: true, Count: segment.Count{Op: segment.OpGe, N: 2}},
		&segment.Attribute{Key: "a", Op: segment.OpEq, Values: []segment.Value{{}}},
	} {
		if b, err := segment.MarshalNode(n); err == nil {
			t.Errorf("MarshalNode(%#v) = %s, want an error", n, b)
		}
	}
}

func TestCondition(t *testing.T) {
	type saved struct {
		Name      string            `json:"name"`
		Condition segment.Condition `json:"condition"`
	}
	in := `{"name":"power users","condition":{"type":"all","conditions":[{"type":"active_days","op":">=","value":4,"within":"7d"},{"type":"attribute","key":"plan","op":"=","value":"enterprise"}]}}`
	var s saved
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Condition.String(), `active_days(7d) >= 4 and plan = "enterprise"`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	// json.Marshal escapes HTML characters inside a Marshaler's output.
	if got := strings.ReplaceAll(string(out), `\u003e`, ">"); got != in {
		t.Errorf("json.Marshal:\n got %s\nwant %s", got, in)
	}
	var empty saved
	if err := json.Unmarshal([]byte(`{"name":"x","condition":null}`), &empty); err != nil || empty.Condition.Node != nil {
		t.Errorf("null condition: %v, %v", empty.Condition.Node, err)
	}
	err = json.Unmarshal([]byte(`{"condition":{"type":"nope"}}`), &empty)
	var pe *segment.PathError
	if !errors.As(err, &pe) || pe.Path != "type" {
		t.Errorf("bad condition: %v, want a *PathError at type", err)
	}
}
