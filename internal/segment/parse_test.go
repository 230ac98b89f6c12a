package segment_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/segment"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, text, json string
	}{
		{"equal", `plan = "pro"`, `{"type":"attribute","key":"plan","op":"=","value":"pro"}`},
		{"not equal", `plan != "pro"`, `{"type":"attribute","key":"plan","op":"!=","value":"pro"}`},
		{"number", `ltv >= 100.5`, `{"type":"attribute","key":"ltv","op":">=","value":100.5}`},
		{"negative and exponent", `ltv between -12 and 1e3`, `{"type":"attribute","key":"ltv","op":"between","values":[-12,1000]}`},
		{"in", `plan in ("pro", "team")`, `{"type":"attribute","key":"plan","op":"in","values":["pro","team"]}`},
		{"not in", `plan not in ("free")`, `{"type":"attribute","key":"plan","op":"not in","values":["free"]}`},
		{"boolean", `beta = true`, `{"type":"attribute","key":"beta","op":"=","value":true}`},
		{"is set", `plan is set`, `{"type":"attribute","key":"plan","op":"is set"}`},
		{"is not set", `plan is not set`, `{"type":"attribute","key":"plan","op":"is not set"}`},
		{"contains", `plan contains "pr"`, `{"type":"attribute","key":"plan","op":"contains","value":"pr"}`},
		{"starts_with", `plan starts_with "p"`, `{"type":"attribute","key":"plan","op":"starts_with","value":"p"}`},
		{"ends_with", `plan ends_with "o"`, `{"type":"attribute","key":"plan","op":"ends_with","value":"o"}`},
		{"matches", `plan matches "^p(ro)?$"`, `{"type":"attribute","key":"plan","op":"matches","value":"^p(ro)?$"}`},
		{"within", `signed_up_at within 30d`, `{"type":"attribute","key":"signed_up_at","op":"within","value":"30d"}`},
		{"older_than weeks", `signed_up_at older_than 2w`, `{"type":"attribute","key":"signed_up_at","op":"older_than","value":"14d"}`},
		{"unquoted date", `signed_up_at > 2024-05-01`, `{"type":"attribute","key":"signed_up_at","op":">","value":"2024-05-01"}`},
		{"date-time", `signed_up_at < 2024-05-01T10:00:00Z`, `{"type":"attribute","key":"signed_up_at","op":"<","value":"2024-05-01T10:00:00Z"}`},
		{"as of", `plan = "pro" as of 2025-03-01`, `{"type":"attribute","key":"plan","op":"=","value":"pro","as_of":"2025-03-01"}`},
		{"dotted key", `address.city = "Oslo"`, `{"type":"attribute","key":"address.city","op":"=","value":"Oslo"}`},
		{"company", `company.industry = "tax"`, `{"type":"attribute","key":"industry","op":"=","value":"tax","scope":"company"}`},
		{"quoted user key", `attr("company.size") = "10-50"`, `{"type":"attribute","key":"company.size","op":"=","value":"10-50"}`},
		{"quoted company key", `company("Annual Revenue") > 1000000`, `{"type":"attribute","key":"Annual Revenue","op":">","value":1000000,"scope":"company"}`},
		{"changed", `plan changed`, `{"type":"changed","key":"plan"}`},
		{"changed to", `plan changed to "pro"`, `{"type":"changed","key":"plan","to":"pro"}`},
		{"changed from to within", `plan changed from "trial" to "pro" within 90d`,
			`{"type":"changed","key":"plan","from":"trial","to":"pro","within":"90d"}`},
		{"changed in a range", `plan changed from "trial" within 2025-01-01..2025-02-01`,
			`{"type":"changed","key":"plan","from":"trial","within":{"from":"2025-01-01","to":"2025-02-01"}}`},
		{"did", `did("export")`, `{"type":"event","name":"export"}`},
		{"did count", `did("export", 30d) >= 3`, `{"type":"event","name":"export","op":">=","value":3,"within":"30d"}`},
		{"did where", `did("export", format = "csv", "file size" > 10) = 0`,
			`{"type":"event","name":"export","where":[{"key":"format","op":"=","value":"csv"},{"key":"file size","op":">","value":10}],"op":"=","value":0}`},
		{"did where in", `did("buy", 7d, sku in ("a", "b"), coupon is set)`,
			`{"type":"event","name":"buy","where":[{"key":"sku","op":"in","values":["a","b"]},{"key":"coupon","op":"is set"}],"within":"7d"}`},
		{"did_first", `did_first("export", 7d)`, `{"type":"first_event","name":"export","within":"7d"}`},
		{"active_days", `active_days(7d) >= 4`, `{"type":"active_days","op":">=","value":4,"within":"7d"}`},
		{"visited", `visited("/pricing")`, `{"type":"visited","match":"=","page":"/pricing"}`},
		{"visited prefix", `visited(starts_with "/docs", 30d) >= 2`,
			`{"type":"visited","match":"starts_with","page":"/docs","within":"30d","op":">=","value":2}`},
		{"sessions", `sessions(30d) >= 5`, `{"type":"sessions","op":">=","value":5,"within":"30d"}`},
		{"sessions all time", `sessions() < 2`, `{"type":"sessions","op":"<","value":2}`},
		{"session_duration", `session_duration(7d) >= 3h`, `{"type":"session_duration","agg":"any","op":">=","value":"3h","within":"7d"}`},
		{"avg_session_duration", `avg_session_duration > 90m`, `{"type":"session_duration","agg":"avg","op":">","value":"90m"}`},
		{"session field", `session.device = "mobile" within 30d`,
			`{"type":"session","field":"device","op":"=","value":"mobile","within":"30d"}`},
		{"session field in", `session.country in ("NO", "SE")`, `{"type":"session","field":"country","op":"in","values":["NO","SE"]}`},
		{"in_segment", `in_segment("seg_abc")`, `{"type":"segment","id":"seg_abc"}`},
		{"rage_clicks", `rage_clicks(30d) >= 3`, `{"type":"rage_clicks","within":"30d","op":">=","value":3}`},
		{"errors on a page", `errors(7d, page = "/checkout") > 0`,
			`{"type":"errors","within":"7d","match":"=","page":"/checkout","op":">","value":0}`},
		{"dead_clicks all time", `dead_clicks() = 0`, `{"type":"dead_clicks","op":"=","value":0}`},
		{"u_turns at least once on a prefix", `u_turns(page starts_with "/pricing")`,
			`{"type":"u_turns","match":"starts_with","page":"/pricing"}`},
		{"signal in a date range", `rage_clicks(2025-01-01..2025-02-01, page matches "^/app/[0-9]+$") != 1`,
			`{"type":"rage_clicks","within":{"from":"2025-01-01","to":"2025-02-01"},"match":"matches","page":"^/app/[0-9]+$","op":"!=","value":1}`},
		{"signal names are attributes without parentheses", `errors > 3`, `{"type":"attribute","key":"errors","op":">","value":3}`},
		{"and chain is one group", `a = 1 and b = 2 and c = 3`,
			`{"type":"all","conditions":[{"type":"attribute","key":"a","op":"=","value":1},{"type":"attribute","key":"b","op":"=","value":2},{"type":"attribute","key":"c","op":"=","value":3}]}`},
		{"and binds tighter", `a = 1 or b = 2 and c = 3`,
			`{"type":"any","conditions":[{"type":"attribute","key":"a","op":"=","value":1},{"type":"all","conditions":[{"type":"attribute","key":"b","op":"=","value":2},{"type":"attribute","key":"c","op":"=","value":3}]}]}`},
		{"parentheses", `(a = 1 or b = 2) and c = 3`,
			`{"type":"all","conditions":[{"type":"any","conditions":[{"type":"attribute","key":"a","op":"=","value":1},{"type":"attribute","key":"b","op":"=","value":2}]},{"type":"attribute","key":"c","op":"=","value":3}]}`},
		{"parentheses keep a nested group", `(a = 1 and b = 2) and c = 3`,
			`{"type":"all","conditions":[{"type":"all","conditions":[{"type":"attribute","key":"a","op":"=","value":1},{"type":"attribute","key":"b","op":"=","value":2}]},{"type":"attribute","key":"c","op":"=","value":3}]}`},
		{"between is not a boolean and", `ltv between 1 and 2 and beta = true`,
			`{"type":"all","conditions":[{"type":"attribute","key":"ltv","op":"between","values":[1,2]},{"type":"attribute","key":"beta","op":"=","value":true}]}`},
		{"not", `not plan = "pro"`, `{"type":"not","condition":{"type":"attribute","key":"plan","op":"=","value":"pro"}}`},
		{"not binds tightest", `not a = 1 and b = 2`,
			`{"type":"all","conditions":[{"type":"not","condition":{"type":"attribute","key":"a","op":"=","value":1}},{"type":"attribute","key":"b","op":"=","value":2}]}`},
		{"keywords in any case", `NOT Plan = "x" AND Did("e") Or IN_SEGMENT("s")`,
			`{"type":"any","conditions":[{"type":"all","conditions":[{"type":"not","condition":{"type":"attribute","key":"Plan","op":"=","value":"x"}},{"type":"event","name":"e"}]},{"type":"segment","id":"s"}]}`},
		{"several lines", "plan = \"pro\"\n  and did(\"export\")", `{"type":"all","conditions":[{"type":"attribute","key":"plan","op":"=","value":"pro"},{"type":"event","name":"export"}]}`},
		{"escapes", `plan = "a\"b\\c\n\u00e9\ud83d\ude00"`, `{"type":"attribute","key":"plan","op":"=","value":"a\"b\\c\né😀"}`},
		{"function names are attributes without parentheses", `visited = true`, `{"type":"attribute","key":"visited","op":"=","value":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := mustParse(t, tt.text)
			if got := mustMarshal(t, n); got != tt.json {
				t.Errorf("Parse(%q) as JSON:\n got %s\nwant %s", tt.text, got, tt.json)
			}
			checkRoundTrips(t, n)
		})
	}
}

func TestParsePositions(t *testing.T) {
	n := mustParse(t, "plan = \"pro\" and\n  (ltv > 3 or not did(\"x\"))")
	g := n.(*segment.Group)
	a := g.Conditions[0].(*segment.Attribute)
	inner := g.Conditions[1].(*segment.Group)
	not := inner.Conditions[1].(*segment.Not)
	for _, c := range []struct {
		name      string
		got, want segment.Pos
	}{
		{"group", g.Pos, segment.Pos{Line: 1, Col: 1}},
		{"attribute", a.Pos, segment.Pos{Line: 1, Col: 1}},
		{"value", a.Values[0].Pos, segment.Pos{Line: 1, Col: 8}},
		{"parenthesised group", inner.Pos, segment.Pos{Line: 2, Col: 3}},
		{"number", inner.Conditions[0].(*segment.Attribute).Values[0].Pos, segment.Pos{Line: 2, Col: 10}},
		{"not", not.Pos, segment.Pos{Line: 2, Col: 15}},
		{"event", not.Condition.Position(), segment.Pos{Line: 2, Col: 19}},
	} {
		if c.got != c.want {
			t.Errorf("%s at %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ in, want string }{
		{`plan="pro"`, `plan = "pro"`},
		{`NOT  (plan = "pro")`, `not (plan = "pro")`},
		{`not did("x")`, `not did("x")`},
		{`not did("x") >= 2`, `not (did("x") >= 2)`},
		{`not not in_segment("s")`, `not not in_segment("s")`},
		{`((a = 1))`, `a = 1`},
		{`(a = 1 and b = 2) and c = 3`, `(a = 1 and b = 2) and c = 3`},
		{`a = 1 or (b = 2 and c = 3)`, `a = 1 or b = 2 and c = 3`},
		{`(a = 1 or b = 2) and c = 3`, `(a = 1 or b = 2) and c = 3`},
		{`not (a = 1 or b = 2)`, `not (a = 1 or b = 2)`},
		{`x within 2w`, `x within 14d`},
		{`x within 1440m`, `x within 1d`},
		{`x within 90m`, `x within 90m`},
		{`x within 7200s`, `x within 2h`},
		{`n = 1e3`, `n = 1000`},
		{`n = 1e21`, `n = 1e+21`},
		{`n = 0.0000001`, `n = 1e-07`},
		{`n = -0`, `n = 0`},
		{`n = 007.50`, `n = 7.5`},
		{`d > "2024-05-01"`, `d > 2024-05-01`},
		{`s contains "2024-05-01"`, `s contains "2024-05-01"`},
		{`s in ("2024-05-01", "x")`, `s in (2024-05-01, "x")`},
		{`x = 1 as of 2024-05-01T00:00:00Z`, `x = 1 as of 2024-05-01`},
		{`x = 1 as of 2024-05-01T10:00:00+02:00`, `x = 1 as of 2024-05-01T08:00:00Z`},
		{`x = 1 as of 2024-05-01T10:00:00.250Z`, `x = 1 as of 2024-05-01T10:00:00.25Z`},
		{`attr("plan") = 1`, `plan = 1`},
		{`attr("not") = 1`, `attr("not") = 1`},
		{`attr("Session.x") = 1`, `attr("Session.x") = 1`},
		{`attr("a b") = 1`, `attr("a b") = 1`},
		{`company("x") = 1`, `company.x = 1`},
		{`did("e", "format" = "csv")`, `did("e", format = "csv")`},
		{`did("e",30d,n>1)>=2`, `did("e", 30d, n > 1) >= 2`},
		{`session_duration() >= 3h`, `session_duration >= 3h`},
		{`sessions ( ) >= 1`, `sessions() >= 1`},
		{`visited(CONTAINS "/p")`, `visited(contains "/p")`},
		{`RAGE_CLICKS ( 2w , PAGE CONTAINS "/p" )>=3`, `rage_clicks(14d, page contains "/p") >= 3`},
		{`not errors()`, `not errors()`},
		{`not errors(1d) >= 2`, `not (errors(1d) >= 2)`},
		{`a = "tab\there"`, `a = "tab\there"`},
		{`a = "\u200b\u0000"`, `a = "\u200b\u0000"`},
		{`a = "\ud83d\ude00"`, `a = "😀"`},
		{`p changed from 1 to 2 within 2025-01-01..2025-02-01T12:00:00Z`, `p changed from 1 to 2 within 2025-01-01..2025-02-01T12:00:00Z`},
	}
	for _, tt := range tests {
		n := mustParse(t, tt.in)
		if got := segment.Format(n); got != tt.want {
			t.Errorf("Format(Parse(%q)) = %q, want %q", tt.in, got, tt.want)
		}
		checkRoundTrips(t, n)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, `1:1: expected a condition, found end of input`},
		{`plan = and`, `1:8: expected a value after "=", found "and"`},
		{"plan = \"pro\" and\n  active_days(7d) >= ", `2:22: expected a number after ">=", found end of input`},
		{`plan = "pro`, `1:8: unterminated string`},
		{`plan == "pro"`, `1:6: unexpected "==": compare with a single "="`},
		{`plan = 'pro'`, `1:8: unexpected "'": strings are written in double quotes`},
		{`plan = “pro”`, `1:8: unexpected '“': strings are written in straight double quotes (")`},
		{`plan = "a\qb"`, `1:10: invalid escape "\q" in string`},
		{`did(export)`, `1:5: expected an event name in double quotes after "(", found "export"`},
		{`heatmap_clicks("q3") <= 6`, `1:1: unknown function "heatmap_clicks"`},
		{`anser("s", "q") = 1`, `1:1: unknown function "anser"; did you mean "answer"?`},
		{`answer("s") = 1`, `1:11: expected "," and a question ID after "s", found ")"`},
		{`answer("s", q) = 1`, `1:13: expected a question ID in double quotes after ",", found "q"`},
		{`answer("s", "q", "x") = 1`, `1:18: expected a period (like 30d or 2025-01-01..2025-02-01) after ",", found "x"`},
		{`feedback_rating("s") <= 2`, `1:17: expected a period (like 30d or 2025-01-01..2025-02-01) after "(", found "s"`},
		{`feedback_rating(7d) 2`, `1:21: expected an operator after ")", found "2"`},
		{`rage_clicks(30d page = "/x")`, `1:17: expected a period, a page condition or ")" after "30d", found "page"`},
		{`rage_clicks(30d, "/x")`, `1:18: expected a page condition (like page = "/checkout") after ",", found "/x"`},
		{`errors(page "/x")`, `1:13: expected "=", "contains", "starts_with" or "matches" after "page", found "/x"`},
		{`errors(page = /x)`, `1:15: unexpected character '/'`},
		{`u_turns(page = "/x", 7d)`, `1:20: expected a period, a page condition or ")" after "/x", found ","`},
		{`dead_clicks(7d) >= many`, `1:20: expected a number after ">=", found "many"`},
		{`plan = "pro" plan = "team"`, `1:14: expected "and" or "or" after "pro", found "plan"`},
		{`(plan = "pro"`, `1:14: expected "and", "or" or ")" after "pro", found end of input`},
		{`plan = "x" and or`, `1:16: expected a condition after "and", found "or"`},
		{`not`, `1:4: expected a condition after "not", found end of input`},
		{`ltv between 1 or 2`, `1:15: expected "and" after "1", found "or"`},
		{`plan is nil`, `1:9: expected "set" after "is", found "nil"`},
		{`plan not like "x"`, `1:10: expected "in" after "not", found "like"`},
		{`plan in "a"`, `1:9: expected "(" after "in", found "a"`},
		{`plan in ("a" "b")`, `1:14: expected "," or ")" after "a", found "b"`},
		{`x = 30d`, `1:5: expected a value after "=", found "30d"`},
		{`x within 1.5h`, `1:10: invalid duration "1.5h": write a whole number and one unit (s, m, h, d or w), like 90m`},
		{`x within 0d`, `1:10: duration 0d must be positive`},
		{`x within 30days`, `1:10: invalid duration "30days": write a whole number and one unit (s, m, h, d or w), like 90m`},
		{`x = 12abc`, `1:5: invalid number "12abc"`},
		{`x within 9999999999999w`, `1:10: duration 9999999999999w is out of range`},
		{`x > 2024-13-01`, `1:5: invalid date "2024-13-01"`},
		{`x > 1e999`, `1:5: number 1e999 is out of range`},
		{`company.industry changed`, `1:18: changed reads the history of user attributes only`},
		{`company = "acme"`, `1:9: expected "." or "(" after "company", found "="`},
		{`attr.x = 1`, `1:5: expected "(" after "attr", found "."`},
		{`did("e", format = "csv", 30d)`, `1:26: the period goes right after the event name`},
		{`did_first("e", n = 1)`, `1:16: expected a period (like 30d or 2025-01-01..2025-02-01) after ",", found "n"`},
		{`did("e", 2025-01-01)`, `1:20: expected ".." and an end date after "2025-01-01", found ")"`},
		{`active_days(7d)`, `1:16: expected a comparison (like >= 3) after ")", found end of input`},
		{`session_duration >= 3`, `1:21: expected a duration (like 3h) after ">=", found "3"`},
		{`session.device within 30d`, `1:16: expected an operator after "device", found "within"`},
		{`plan = "pro" as 2025-01-01`, `1:17: expected "of" after "as", found "2025-01-01"`},
		{`plan ~ "x"`, `1:6: unexpected character '~'`},
		{"plan = \"\xff\"", `1:9: invalid UTF-8 encoding in string`},
		{strings.Repeat("(", 500) + "a = 1" + strings.Repeat(")", 500), `1:65: parentheses and not are nested more than 64 deep`},
		{strings.Repeat("not ", segment.MaxDepth+1) + "a = 1", `1:65: conditions are nested more than 16 deep`},
	}
	for _, tt := range tests {
		_, err := segment.Parse(tt.in)
		var se *segment.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", tt.in, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q):\n got %s\nwant %s", tt.in, err, tt.want)
		}
	}
}
