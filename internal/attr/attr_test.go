package attr_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
)

func TestInfer(t *testing.T) {
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		raw  any
		want attr.Value
		err  bool
	}{
		{"string", "pro", attr.Value{Type: attr.String, Str: "pro"}, false},
		{"number", 420.0, attr.Value{Type: attr.Number, Num: 420}, false},
		{"boolean", true, attr.Value{Type: attr.Boolean, Bool: true}, false},
		{"date", "2024-05-01", attr.Value{Type: attr.Datetime, Time: day}, false},
		{"datetime with offset", "2024-05-01T02:00:00+02:00", attr.Value{Type: attr.Datetime, Time: day}, false},
		{"datetime fraction", "2024-05-01T00:00:00.000Z", attr.Value{Type: attr.Datetime, Time: day}, false},
		{"not a date", "2024-05-01 is when", attr.Value{Type: attr.String, Str: "2024-05-01 is when"}, false},
		{"number-like string stays string", "42", attr.Value{Type: attr.String, Str: "42"}, false},
		{"null", nil, attr.Value{Null: true}, false},
		{"object", map[string]any{}, attr.Value{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := attr.Infer(tt.raw)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if !tt.err && !got.Equal(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConform(t *testing.T) {
	tests := []struct {
		raw  any
		want attr.Type
		ok   bool
	}{
		{"lots", attr.Number, false},
		{420.0, attr.String, false},
		{"2024-05-01", attr.String, true},
		{"2024-05-01", attr.Datetime, true},
		{"yesterday", attr.Datetime, false},
		{true, attr.Boolean, true},
		{"true", attr.Boolean, false},
		{nil, attr.Number, true},
	}
	for _, tt := range tests {
		v, ok := attr.Conform(tt.raw, tt.want)
		if ok != tt.ok {
			t.Errorf("Conform(%v, %s) ok = %v, want %v", tt.raw, tt.want, ok, tt.ok)
		}
		if ok && !v.Null && v.Type != tt.want {
			t.Errorf("Conform(%v, %s) type = %s", tt.raw, tt.want, v.Type)
		}
	}
	if v, _ := attr.Conform("2024-05-01", attr.String); v.Str != "2024-05-01" {
		t.Errorf("date-like string kept as %q", v.Str)
	}
}

func TestConvert(t *testing.T) {
	tests := []struct {
		in   attr.Value
		to   attr.Type
		want string
		err  bool
	}{
		{attr.Value{Type: attr.String, Str: " 42.5"}, attr.Number, "42.5", false},
		{attr.Value{Type: attr.String, Str: "lots"}, attr.Number, "", true},
		{attr.Value{Type: attr.Number, Num: 420}, attr.String, "420", false},
		{attr.Value{Type: attr.String, Str: "true"}, attr.Boolean, "true", false},
		{attr.Value{Type: attr.Number, Num: 2}, attr.Boolean, "", true},
		{attr.Value{Type: attr.String, Str: "2024-05-01"}, attr.Datetime, "2024-05-01T00:00:00Z", false},
		{attr.Value{Type: attr.Number, Num: 0}, attr.Datetime, "1970-01-01T00:00:00Z", false},
	}
	for _, tt := range tests {
		got, err := attr.Convert(tt.in, tt.to)
		if (err != nil) != tt.err {
			t.Errorf("Convert(%+v, %s) err = %v", tt.in, tt.to, err)
			continue
		}
		if !tt.err && got.Text() != tt.want {
			t.Errorf("Convert(%+v, %s) = %q, want %q", tt.in, tt.to, got.Text(), tt.want)
		}
	}
}

func TestFlatten(t *testing.T) {
	got := attr.Flatten(map[string]any{
		"plan":    "pro",
		"address": map[string]any{"city": "Oslo", "geo": map[string]any{"lat": 59.9}},
		"tags":    []any{"a", "b"},
		"gone":    nil,
	})
	want := []attr.Pair{
		{Key: "address.city", Raw: "Oslo"},
		{Key: "address.geo.lat", Raw: 59.9},
		{Key: "gone", Raw: nil},
		{Key: "plan", Raw: "pro"},
		{Key: "tags", Raw: `["a","b"]`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Flatten = %#v\nwant %#v", got, want)
	}
}

func TestParseTypeRoundTrip(t *testing.T) {
	for _, ty := range []attr.Type{attr.String, attr.Number, attr.Boolean, attr.Datetime} {
		got, err := attr.ParseType(ty.String())
		if err != nil || got != ty {
			t.Errorf("ParseType(%q) = %v, %v", ty.String(), got, err)
		}
	}
	if _, err := attr.ParseType("map"); err == nil {
		t.Error("ParseType(map) succeeded")
	}
}
