package segment_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // one line per error; none for a valid tree
	}{
		{"power users", `active_days(7d) >= 4 and session_duration(7d) >= 3h and did("export", 30d) and plan = "enterprise"`, nil},
		{"every operator that fits", `plan in ("a") and plan matches "^p" and ltv between 1 and 2 and ltv not in (3) and beta != false and ` +
			`signed_up_at between 2024-01-01 and "2024-02-01T10:00:00Z" and signed_up_at older_than 30d and signed_up_at is not set and ` +
			`company.employees >= 10 and plan changed from "a" to "b" within 2025-01-01..2025-02-01 and signed_up_at changed to 2024-05-01 and ` +
			`did("e", 30d, n > 1, s matches "x+", d = 2024-05-01) < 3 and did_first("e", 7d) and visited(matches "^/p/[0-9]+$", 1d) = 0 and ` +
			`sessions() >= 0 and avg_session_duration(7d) != 45s and session.utm_source starts_with "news" and in_segment("s")`, nil},
		{"did you mean", `plam = "pro"`, []string{`1:1: unknown attribute "plam"; did you mean "plan"?`}},
		{"several suggestions", `seat = 3`, []string{`1:1: unknown attribute "seat"; did you mean "seats"?`}},
		{"case", `Plan = "pro"`, []string{`1:1: unknown attribute "Plan"; did you mean "plan"?`}},
		{"no near key", `xyzzy = 1`, []string{`1:1: unknown attribute "xyzzy"`}},
		{"condition without parentheses", `nps_group = "detractor"`,
			[]string{`1:1: unknown attribute "nps_group"; did you mean the condition nps_group()? (conditions take parentheses, even when empty)`}},
		{"company did you mean", `company.industy = "tax"`, []string{`1:1: unknown company attribute "industy"; did you mean "industry"?`}},
		{"user key under the company prefix", `attr("company.sise") = "x"`, []string{`1:1: unknown attribute "company.sise"; did you mean "company.size"?`}},
		{"operator for the type", `ltv contains "1"`,
			[]string{`1:1: operator "contains" does not apply to number attribute "ltv" (use =, !=, <, <=, >, >=, between, in, not in, is set, is not set)`}},
		{"no order on strings", `plan > "a"`,
			[]string{`1:1: operator ">" does not apply to string attribute "plan" (use =, !=, in, not in, contains, starts_with, ends_with, matches, is set, is not set)`}},
		{"within needs a datetime", `beta within 3d`, []string{`1:1: operator "within" does not apply to boolean attribute "beta" (use =, !=, is set, is not set)`}},
		{"not a date", `signed_up_at > "yesterday"`,
			[]string{`1:16: attribute "signed_up_at" is a datetime; "yesterday" is not a date (like 2024-05-01 or 2024-05-01T10:00:00Z; use within or older_than for times relative to now)`}},
		{"number in quotes", `ltv = "100"`, []string{`1:7: attribute "ltv" is a number; "100" is a string (write it without quotes: 100)`}},
		{"number for a string", `plan = 3`, []string{`1:8: attribute "plan" is a string; the number 3 is not (quote it: "3")`}},
		{"string for a boolean", `beta = "yes"`, []string{`1:8: attribute "beta" is a boolean (true or false); the string "yes" is not`}},
		{"between upside down", `ltv between 10 and 1`, []string{`1:13: between's low value 10 is above its high value 1`}},
		{"dates between upside down", `signed_up_at between 2024-02-01 and 2024-01-01`,
			[]string{`1:22: between's low value 2024-02-01 is above its high value 2024-01-01`}},
		{"bad regexp", `plan matches "a("`, []string{"1:14: invalid regular expression: missing closing ): `a(`"}},
		{"regexp named group RE2 does not read", `plan matches "(?<n>a)"`,
			[]string{"1:14: write a named group as (?P<name>…); the database does not read (?<name>…)"}},
		{"regexp named group RE2 reads", `plan matches "(?P<n>a)[(?<]"`, nil},
		{"regexp too large for RE2", `plan matches "\\pL{1000}"`,
			[]string{"1:14: the regular expression is too large for the database (more than 100000 steps once compiled): use smaller counts in {n} repeats, or fewer of them"}},
		{"regexp within RE2's size", `plan matches "\\pL{20}[^/]{1,500}"`, nil},
		{"regexp class RE2 does not know", `visited(matches "\\p{Cn}")`, []string{`1:1: the database does not know the Unicode class \p{Cn}`}},
		{"regexp too long", `plan matches "` + strings.Repeat("a", segment.MaxRegexpBytes+1) + `"`,
			[]string{"1:14: a regular expression is limited to 1024 bytes; this one has 1025"}},
		{"fractional count", `did("e") >= 1.5`, []string{`1:1: a count is a whole number, 0 or more, not 1.5`}},
		{"negative count", `sessions() > -1`, []string{`1:1: a count is a whole number, 0 or more, not -1`}},
		{"empty event name", `did("")`, []string{`1:1: empty event name`}},
		{"did_first needs a period", `did_first("e")`, []string{`1:1: did_first needs a period (like 7d)`}},
		{"period backwards", `did("e", 2025-02-01..2025-01-01)`, []string{`1:1: the period's start 2025-02-01 is not before its end 2025-01-01`}},
		{"property regexp", `did("e", path matches "[")`, []string{"1:23: invalid regular expression: missing closing ]: `[`"}},
		{"session field did you mean", `session.devise = "mobile"`, []string{`1:1: unknown session field "devise"; did you mean "device"?`}},
		{"session fields are strings", `session.country = 47`, []string{`1:19: session field "country" is a string; the number 47 is not (quote it: "47")`}},
		{"session field operator", `session.device between "a" and "b"`,
			[]string{`1:1: operator "between" does not apply to session field "device" (use =, !=, in, not in, contains, starts_with, ends_with, matches, is set, is not set)`}},
		{"visited ends_with", `visited(ends_with "/x")`,
			[]string{`1:1: visited matches pages with "=", "contains", "starts_with" or "matches", not "ends_with"`}},
		{"visited empty page", `visited("")`, []string{`1:1: empty page`}},
		{"signals", `rage_clicks(30d) >= 3 and errors(7d, page = "/checkout") > 0 and dead_clicks() = 0 and ` +
			`u_turns(page matches "^/p") and rage_clicks(2025-01-01..2025-02-01, page starts_with "/a") < 2`, nil},
		{"signal page operator", `errors(page != "/x")`,
			[]string{`1:1: errors page matches pages with "=", "contains", "starts_with" or "matches", not "!="`}},
		{"signal ends_with", `rage_clicks(7d, page ends_with "/x")`,
			[]string{`1:1: rage_clicks page matches pages with "=", "contains", "starts_with" or "matches", not "ends_with"`}},
		{"signal empty page", `dead_clicks(page = "")`, []string{`1:1: empty page`}},
		{"signal regexp", `u_turns(page matches "(")`, []string{"1:1: invalid regular expression: missing closing ): `(`"}},
		{"signal count", `errors(1d) >= 0.5`, []string{`1:1: a count is a whole number, 0 or more, not 0.5`}},
		{"signal period", `errors(2025-02-01..2025-01-01)`, []string{`1:1: the period's start 2025-02-01 is not before its end 2025-01-01`}},
		{"empty segment id", `in_segment("")`, []string{`1:1: empty segment ID`}},
		{"empty key", `attr("") = 1`, []string{`1:1: empty attribute key`}},
		{"changed to the same", `plan changed from "a" to "a"`, []string{`1:26: changed from and to the same value never matches`}},
		{"changed to a non-date", `signed_up_at changed to "soon"`,
			[]string{`1:25: attribute "signed_up_at" is a datetime; "soon" is not a date (like 2024-05-01 or 2024-05-01T10:00:00Z; use within or older_than for times relative to now)`}},
		{"as of for companies", `company.industry = "tax" as of 2025-01-01`, []string{`1:1: as of reads the history of user attributes only`}},
		{"as of with within", `signed_up_at within 3d as of 2025-01-01`, []string{`1:1: as of cannot be combined with within; compare with dates instead`}},
		{"errors in tree order", `plam = 1 or (ltv = "x" and not sessoin.device = "y")`, []string{
			`1:1: unknown attribute "plam"; did you mean "plan"?`,
			`1:20: attribute "ltv" is a number; the string "x" is not`,
			`1:32: unknown attribute "sessoin.device"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := mustParse(t, tt.in)
			err := segment.Validate(n, testCatalog())
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
				var list segment.ErrorList
				if !errors.As(err, &list) || len(list) != len(got) {
					t.Errorf("Validate returned %T, want an ErrorList with one error a line", err)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate(%s):\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateJSONPaths(t *testing.T) {
	tests := []struct{ json, want string }{
		{`{"type":"all","conditions":[{"type":"segment","id":"s"},{"type":"attribute","key":"plam","op":"=","value":"pro"}]}`,
			`conditions[1].key: unknown attribute "plam"; did you mean "plan"?`},
		{`{"type":"not","condition":{"type":"attribute","key":"ltv","op":"in","values":[]}}`, `condition.values: "in" needs at least one value`},
		{`{"type":"attribute","key":"ltv","op":"between","values":[1,2,3]}`, `values: between takes two values, not 3`},
		{`{"type":"attribute","key":"signed_up_at","op":"in","values":["2024-01-01"]}`,
			`op: operator "in" does not apply to datetime attribute "signed_up_at" (use =, !=, <, <=, >, >=, between, within, older_than, is set, is not set)`},
		{`{"type":"attribute","key":"signed_up_at","op":"between","values":["2024-01-01","later"]}`,
			`values[1]: attribute "signed_up_at" is a datetime; "later" is not a date (like 2024-05-01 or 2024-05-01T10:00:00Z; use within or older_than for times relative to now)`},
		{`{"type":"event","name":"e","where":[{"key":"k","op":"=","value":1},{"key":"","op":"matches","value":"("}]}`,
			"where[1].key: empty property name\nwhere[1].value: invalid regular expression: missing closing ): `(`"},
		{`{"type":"event","name":"e","op":">=","value":-2}`, `value: a count is a whole number, 0 or more, not -2`},
		{`{"type":"not","condition":{"type":"rage_clicks","match":"ends_with","page":"/x"}}`,
			`condition.match: rage_clicks page matches pages with "=", "contains", "starts_with" or "matches", not "ends_with"`},
		{`{"type":"errors","page":"","op":">=","value":2.5}`, "page: empty page\nvalue: a count is a whole number, 0 or more, not 2.5"},
		{`{"type":"changed","key":"signed_up_at","from":true}`, `from: attribute "signed_up_at" is a datetime; the boolean true is not a date`},
		{`{"type":"session","field":"Device","op":"=","value":"x","within":{"from":"2025-01-01","to":"2025-01-01"}}`,
			"field: unknown session field \"Device\"; did you mean \"device\"?\nwithin: the period's start 2025-01-01 is not before its end 2025-01-01"},
	}
	for _, tt := range tests {
		n, err := segment.ParseJSON([]byte(tt.json))
		if err != nil {
			t.Fatalf("ParseJSON(%s): %v", tt.json, err)
		}
		err = segment.Validate(n, testCatalog())
		if err == nil || err.Error() != tt.want {
			t.Errorf("Validate(%s):\n got %v\nwant %s", tt.json, err, tt.want)
		}
	}
}

// TestValidateBuiltTrees covers trees that neither form produces but code
// could build.
func TestValidateBuiltTrees(t *testing.T) {
	tests := []struct {
		n    segment.Node
		want string
	}{
		{nil, "missing condition"},
		{&segment.Group{Op: "some", Conditions: []segment.Node{&segment.InSegment{ID: "s"}}}, `type: unknown group operator "some" (use "all" or "any")`},
		{&segment.Group{Op: segment.All}, "conditions: a group needs at least one condition"},
		{&segment.Not{}, "condition: missing condition"},
		{&segment.Sessions{Count: segment.Count{Op: segment.OpGe, N: 1}, Period: segment.Period{Last: -time.Hour}}, "within: a duration must be positive, not -1h0m0s"},
		{&segment.Sessions{Count: segment.Count{Op: segment.OpGe, N: 1}, Period: segment.Period{Last: time.Hour, From: time.Now()}},
			"within: a period is either the last N or a date range, not both"},
		{&segment.ActiveDays{}, "op: missing comparison (like >= 4)"},
		{&segment.SessionDuration{Agg: segment.AggAny, Op: segment.OpGe, Value: 1500 * time.Millisecond}, "value: a duration is a whole number of seconds, not 1.5s"},
		{&segment.Attribute{Key: "signed_up_at", Op: segment.OpWithin, Values: []segment.Value{{Kind: segment.ValNumber, Num: 3}}},
			"value: within takes a duration (like 30d), not the number 3"},
		{&segment.Attribute{Key: "plan", Op: segment.OpEq, Values: []segment.Value{{Kind: segment.ValDuration, Dur: time.Hour}}},
			"value: a duration is not a value to compare with; durations follow within or older_than"},
		{&segment.Event{Name: "e", First: true, Period: segment.Period{Last: time.Hour}, Where: []segment.Property{{Key: "k", Op: segment.OpSet}}},
			"did_first takes no property conditions and no count"},
	}
	for _, tt := range tests {
		err := segment.Validate(tt.n, testCatalog())
		if err == nil || err.Error() != tt.want {
			t.Errorf("Validate(%#v):\n got %v\nwant %s", tt.n, err, tt.want)
		}
	}
}

func TestValidateTypesDates(t *testing.T) {
	n := mustParse(t, `signed_up_at > "2024-05-01T12:00:00+02:00" and signed_up_at between 2024-01-01 and 2024-02-01 and `+
		`trial_ends_at changed from 2024-01-01 to "2024-02-01" and plan = 2024-05-01 and did("e", d = 2024-05-01)`)
	if err := segment.Validate(n, testCatalog()); err != nil {
		t.Fatal(err)
	}
	conds := n.(*segment.Group).Conditions
	gt := conds[0].(*segment.Attribute).Values[0]
	if gt.Kind != segment.ValDate || !gt.Time.Equal(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)) || gt.Str != "" || gt.WholeDay() {
		t.Errorf("datetime comparison value = %+v, want the ValDate 2024-05-01T10:00:00Z", gt)
	}
	for _, v := range conds[1].(*segment.Attribute).Values {
		if v.Kind != segment.ValDate || !v.WholeDay() {
			t.Errorf("between value = %+v, want a whole-day ValDate", v)
		}
	}
	ch := conds[2].(*segment.Changed)
	if ch.From.Kind != segment.ValDate || ch.To.Kind != segment.ValDate {
		t.Errorf("changed from %+v to %+v, want ValDates", ch.From, ch.To)
	}
	if v := conds[3].(*segment.Attribute).Values[0]; v.Kind != segment.ValString || v.Str != "2024-05-01" {
		t.Errorf("string attribute value = %+v, want the string 2024-05-01", v)
	}
	if v := conds[4].(*segment.Event).Where[0].Values[0]; v.Kind != segment.ValString {
		t.Errorf("property value = %+v, want it left a string", v)
	}
	if got, want := segment.Format(n), `signed_up_at > 2024-05-01T10:00:00Z and signed_up_at between 2024-01-01 and 2024-02-01 and `+
		`trial_ends_at changed from 2024-01-01 to 2024-02-01 and plan = 2024-05-01 and did("e", d = 2024-05-01)`; got != want {
		t.Errorf("Format after Validate:\n got %s\nwant %s", got, want)
	}
	// Validating again, or validating what the validated tree prints as,
	// gives the same tree.
	if err := segment.Validate(n, testCatalog()); err != nil {
		t.Fatal(err)
	}
	back := mustParse(t, segment.Format(n))
	if err := segment.Validate(back, testCatalog()); err != nil || !sameTree(n, back) {
		t.Errorf("Validate(Parse(Format(validated))) = %v; trees equal: %v", err, sameTree(n, back))
	}
}

func TestSegmentRefs(t *testing.T) {
	n := mustParse(t, `in_segment("a") or not (in_segment("b") and plan = "x") or in_segment("a")`)
	if got, want := segment.SegmentRefs(n), []string{"a", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SegmentRefs = %q, want %q", got, want)
	}
	if got := segment.SegmentRefs(mustParse(t, `plan = "x"`)); len(got) != 0 {
		t.Errorf("SegmentRefs without references = %q", got)
	}
}

func TestCount(t *testing.T) {
	e := mustParse(t, `did("x")`).(*segment.Event)
	if !e.Count.IsZero() || e.Count.Effective() != (segment.Count{Op: segment.OpGe, N: 1}) {
		t.Errorf("did without a comparison: Count %+v, effective %+v", e.Count, e.Count.Effective())
	}
	e = mustParse(t, `did("x") = 0`).(*segment.Event)
	if e.Count.IsZero() || e.Count.Effective() != e.Count {
		t.Errorf("did(...) = 0: Count %+v must not be zero", e.Count)
	}
}
