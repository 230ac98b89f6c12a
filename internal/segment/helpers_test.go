package segment_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
)

// testCatalog is the site the tests validate against.
func testCatalog() segment.StaticCatalog {
	return segment.StaticCatalog{
		segment.ScopeUser: {
			"plan": attr.String, "persona": attr.String, "address.city": attr.String, "company.size": attr.String,
			"ltv": attr.Number, "seats": attr.Number, "avg_order_value": attr.Number,
			"beta": attr.Boolean, "onboarded": attr.Boolean, "not": attr.Boolean,
			"onboarding_variant": attr.String, "session.count": attr.Number,
			"signed_up_at": attr.Datetime, "trial_ends_at": attr.Datetime, "last_login_at": attr.Datetime,
		},
		segment.ScopeCompany: {"industry": attr.String, "employees": attr.Number, "founded_at": attr.Datetime,
			"Annual Revenue": attr.Number},
	}
}

// prefixCatalog knows every key and types it by its first letter (n:
// number, b: boolean, d: datetime, anything else: string), so that
// generated trees validate often.
type prefixCatalog struct{}

func (prefixCatalog) AttributeType(_ segment.Scope, key string) (attr.Type, bool) {
	switch {
	case key == "":
		return attr.Invalid, false
	case key[0] == 'n':
		return attr.Number, true
	case key[0] == 'b':
		return attr.Boolean, true
	case key[0] == 'd':
		return attr.Datetime, true
	}
	return attr.String, true
}

func (prefixCatalog) AttributeKeys(segment.Scope) []string { return nil }

// sameTree reports whether two trees are equal, positions aside.
func sameTree(a, b segment.Node) bool {
	return equalIgnoringPos(reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem())
}

var (
	posType  = reflect.TypeOf(segment.Pos{})
	timeType = reflect.TypeOf(time.Time{})
)

func equalIgnoringPos(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return equalIgnoringPos(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !equalIgnoringPos(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		switch a.Type() {
		case posType:
			return true
		case timeType:
			return reflect.DeepEqual(a.Interface(), b.Interface())
		}
		for i := 0; i < a.NumField(); i++ {
			if !equalIgnoringPos(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

func mustParse(t testing.TB, src string) segment.Node {
	t.Helper()
	n, err := segment.Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return n
}

func mustMarshal(t testing.TB, n segment.Node) string {
	t.Helper()
	b, err := segment.MarshalNode(n)
	if err != nil {
		t.Fatalf("MarshalNode(%s): %v", segment.Format(n), err)
	}
	return string(b)
}

// checkRoundTrips checks that a tree from Parse survives Format and the
// JSON form unchanged, and that both printers are idempotent.
func checkRoundTrips(t testing.TB, n segment.Node) {
	t.Helper()
	text := segment.Format(n)
	back, err := segment.Parse(text)
	if err != nil {
		t.Fatalf("Parse(Format(t)) = %v\ntext: %s", err, text)
	}
	if !sameTree(n, back) {
		t.Fatalf("Parse(Format(t)) differs from t\ntext: %s\nwant: %s\ngot:  %s", text, dump(n), dump(back))
	}
	if again := segment.Format(back); again != text {
		t.Fatalf("Format is not idempotent:\n%s\n%s", text, again)
	}
	js := mustMarshal(t, n)
	fromJSON, err := segment.ParseJSON([]byte(js))
	if err != nil {
		t.Fatalf("ParseJSON(MarshalNode(t)) = %v\njson: %s", err, js)
	}
	if !sameTree(n, fromJSON) {
		t.Fatalf("ParseJSON(MarshalNode(t)) differs from t\njson: %s\nwant: %s\ngot:  %s", js, dump(n), dump(fromJSON))
	}
	if again := mustMarshal(t, fromJSON); again != js {
		t.Fatalf("MarshalNode is not idempotent:\n%s\n%s", js, again)
	}
	if viaJSON := segment.Format(fromJSON); viaJSON != text {
		t.Fatalf("text → JSON → text changed the text:\n%s\n%s", text, viaJSON)
	}
}

// dump shows a tree with its Go types, for failure messages.
func dump(n segment.Node) string {
	b, err := json.Marshal(n)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestSameTree(t *testing.T) {
	a := mustParse(t, `plan = "pro" and did("x", 30d) >= 2`)
	b := mustParse(t, "plan = \"pro\"\nand did(\"x\", 720h) >= 2")
	if !sameTree(a, b) {
		t.Error("trees that differ only in positions compare unequal")
	}
	for _, other := range []string{`plan = "pro" and did("x", 30d) >= 3`, `plan = "pro" and did("x", 29d) >= 2`, `plan = "pro"`,
		`plan = "pro" or did("x", 30d) >= 2`, `plan != "pro" and did("x", 30d) >= 2`} {
		if sameTree(a, mustParse(t, other)) {
			t.Errorf("%s compares equal to %s", other, segment.Format(a))
		}
	}
}
