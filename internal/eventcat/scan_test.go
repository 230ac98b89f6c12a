package eventcat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/eventcat"
)

type member struct {
	Key    string
	Type   eventcat.Types
	Sample string
}

func scan(t testing.TB, doc string) ([]member, error) {
	t.Helper()
	var out []member
	err := eventcat.Scan(doc, func(k string, typ eventcat.Types, sample string) {
		out = append(out, member{k, typ, sample})
	})
	return out, err
}

// reference reads the top-level members of a JSON object with
// encoding/json: the oracle Scan must agree with.
func reference(doc string) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, false
		}
		m := member{Key: key}
		switch x := v.(type) {
		case string:
			m.Type, m.Sample = eventcat.String, x
			if _, ok := attr.ParseTime(x); ok {
				m.Type = eventcat.Datetime
			}
		case json.Number:
			m.Type, m.Sample = eventcat.Number, string(raw)
		case bool:
			m.Type, m.Sample = eventcat.Boolean, string(raw)
		case nil:
			m.Type = eventcat.Null
		case map[string]any:
			m.Type, m.Sample = eventcat.Object, string(raw)
		case []any:
			m.Type, m.Sample = eventcat.Array, string(raw)
		}
		out = append(out, m)
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // something after the object
	}
	return out, true
}

func TestScan(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want []member
	}{
		{`{}`, nil},
		{` { } `, nil},
		{`{"format":"csv","rows":1200,"ok":true,"at":"2024-05-01","n":null,"o":{"a":[1,"}"]},"l":[{"b":2}]}`, []member{
			{"format", eventcat.String, "csv"}, {"rows", eventcat.Number, "1200"}, {"ok", eventcat.Boolean, "true"},
			{"at", eventcat.Datetime, "2024-05-01"}, {"n", eventcat.Null, ""}, {"o", eventcat.Object, `{"a":[1,"}"]}`},
			{"l", eventcat.Array, `[{"b":2}]`}}},
		{`{"a\"b":"x\ny", "-1.5e3": -1.5e3}`, []member{{`a"b`, eventcat.String, "x\ny"}, {"-1.5e3", eventcat.Number, "-1.5e3"}}},
		{`{"when":"2024-05-01T10:00:00Z","not":"2024-13-01"}`, []member{{"when", eventcat.Datetime, "2024-05-01T10:00:00Z"},
			{"not", eventcat.String, "2024-13-01"}}},
	} {
		got, err := scan(t, tc.doc)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Scan(%s) = %v, %v; want %v", tc.doc, got, err, tc.want)
		}
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1} x`, `{"a":tru}`, `{"a":"x}`, `{"a":[1}`, "{\"a\":\"\x01\"}"} {
		if _, err := scan(t, bad); err == nil {
			t.Errorf("Scan(%q) took a malformed document", bad)
		}
	}
}

// TestScanAgreesWithDecoding generates random objects and checks Scan
// against encoding/json, compact and indented.
func TestScanAgreesWithDecoding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		obj := randomObject(r, 0)
		for _, indent := range []bool{false, true} {
			var b []byte
			if indent {
				b, _ = json.MarshalIndent(obj, "", "  ")
			} else {
				b, _ = json.Marshal(obj)
			}
			want, ok := reference(string(b))
			if !ok {
				t.Fatalf("reference cannot read %s", b)
			}
			got, err := scan(t, string(b))
			if err != nil {
				t.Fatalf("case %d: Scan(%s): %v", i, b, err)
			}
			if indent { // samples of objects hold the indentation; compare the rest
				for j := range got {
					if j < len(want) && (got[j].Type == eventcat.Object || got[j].Type == eventcat.Array) {
						got[j].Sample, want[j].Sample = "", ""
					}
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("case %d: Scan(%s)\n got %v\nwant %v", i, b, got, want)
			}
		}
	}
}

func randomObject(r *rand.Rand, depth int) map[string]any {
	n := r.IntN(6)
	m := make(map[string]any, n)
	for range n {
		m[randomKey(r)] = randomValue(r, depth)
	}
	return m
}

var keyParts = []string{"plan", "format", "é", "a.b", `q"uote`, "back\\slash", "tab\t", "<html>", "😀", ""}

func randomKey(r *rand.Rand) string {
	return keyParts[r.IntN(len(keyParts))] + fmt.Sprint(r.IntN(3))
}

func randomValue(r *rand.Rand, depth int) any {
	switch r.IntN(9) {
	case 0:
		return randomKey(r)
	case 1:
		return []string{"2024-05-01", "2024-05-01T10:00:00Z", "2024-05-01 10:00:00", "2024-02-30", "2024-05-01T10:00"}[r.IntN(5)]
	case 2:
		return r.NormFloat64() * 1000
	case 3:
		return r.IntN(1000) - 500
	case 4:
		return r.IntN(2) == 0
	case 5:
		return nil
	case 6:
		if depth < 3 {
			return randomObject(r, depth+1)
		}
		return "deep"
	case 7:
		if depth < 3 {
			return []any{randomValue(r, depth+1), randomValue(r, depth+1)}
		}
		return []any{}
	}
	return string(rune(r.IntN(0x10FFFF)))
}

// FuzzScan checks that Scan never panics, and that it reads every JSON
// object as encoding/json does.
func FuzzScan(f *testing.F) {
	f.Add(`{"a":1,"b":"2024-05-01","c":{"d":[true,null]}}`)
	f.Add(`{"a\u0022":"\ud83d\ude00"}`)
	f.Add(`{"a":1e400}`)
	f.Fuzz(func(t *testing.T, doc string) {
		got, err := scan(t, doc)
		want, ok := reference(doc)
		if !ok || !json.Valid([]byte(doc)) || !utf8.ValidString(doc) {
			// Scan may take some malformed documents (ingestion refuses
			// them first); it must only not panic.
			return
		}
		if err != nil {
			t.Fatalf("Scan(%q) refused a JSON object: %v", doc, err)
		}
		if len(got) != len(want) {
			t.Fatalf("Scan(%q) = %v, want %v", doc, got, want)
		}
		for i := range got {
			if got[i].Key != want[i].Key || got[i].Type != want[i].Type {
				t.Fatalf("Scan(%q) = %v, want %v", doc, got, want)
			}
		}
	})
}
