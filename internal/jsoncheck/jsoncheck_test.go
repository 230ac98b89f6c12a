package jsoncheck_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sightline/sightline/internal/jsoncheck"
)

const depth = 8

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		in, code, field string
	}{
		{`{"a":1,"b":[true,false,null,"x",-0.5e3],"c":{"d":"é😀\u00e9\ud83d\ude00"}}`, "", ""},
		{"{\"k\":\"\xc3\"}", jsoncheck.CodeUTF8, "k"},
		{"{\"a\":{\"b\":[1,\"\xff\"]}}", jsoncheck.CodeUTF8, "a.b[1]"},
		{"{\"a\":{\"k\xc3y\":1}}", jsoncheck.CodeUTF8, "a.k\uFFFD"},
		{`{"a":"\ud800"}`, jsoncheck.CodeUTF8, "a"},
		{`{"a":"\udc00\ud800"}`, jsoncheck.CodeUTF8, "a"},
		{`{"a":"\ud800\u0041"}`, jsoncheck.CodeUTF8, "a"},
		{`{"n":1e400}`, jsoncheck.CodeNumber, "n"},
		{`{"n":-1e309}`, jsoncheck.CodeNumber, "n"},
		{`{"n":1e-400}`, "", ""},
		{`{"n":` + strings.Repeat("9", 400) + `}`, jsoncheck.CodeNumber, "n"},
		{strings.Repeat("[", depth) + strings.Repeat("]", depth), "", ""},
		{strings.Repeat("[", depth+1) + strings.Repeat("]", depth+1), jsoncheck.CodeDepth, "[0][0][0][0][0][0][0][0]"},
		{strings.Repeat(`{"a":`, 100000), jsoncheck.CodeDepth, "a.a.a.a.a.a.a.a"},
		{`{"a":1}x`, jsoncheck.CodeMalformed, ""},
		{`{"a":01}`, jsoncheck.CodeMalformed, ""},
		{``, jsoncheck.CodeMalformed, ""},
		{`"a`, jsoncheck.CodeMalformed, ""},
		{`{"`, jsoncheck.CodeMalformed, ""},
		{`{"a`, jsoncheck.CodeMalformed, ""},
		{`{"\`, jsoncheck.CodeMalformed, ""},
	} {
		p := jsoncheck.Check([]byte(tc.in), depth)
		name := tc.in
		if len(name) > 40 {
			name = name[:40]
		}
		switch {
		case tc.code == "" && p != nil:
			t.Errorf("%q: unexpected %v", name, p)
		case tc.code != "" && p == nil:
			t.Errorf("%q: no problem found, want %s", name, tc.code)
		case p != nil && (p.Code != tc.code || p.Field != tc.field):
			t.Errorf("%q: got %s at %q, want %s at %q", name, p.Code, p.Field, tc.code, tc.field)
		}
	}
}

// FuzzCheck compares Check with an independent reading through
// encoding/json: Check accepts exactly the texts that are one valid JSON
// value, valid UTF-8, without unpaired surrogate escapes, with numbers
// inside float64 and nesting within the limit.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2,{"b":"c"}]}`, "{\"k\":\"\xc3\"}", `"\ud800"`, `1e400`,
		`[[[[[[[[[1]]]]]]]]]`, `{"a":"\ud83d\ude00"}`, `-0.0E+1`, `{"a" : [ ] , "b" : { } }`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := jsoncheck.Check(data, depth)
		want := oracle(data)
		if (p == nil) != (want == "") {
			t.Fatalf("Check(%q) = %v, oracle says %q", data, p, want)
		}
		// Where several problems are present each may be named first;
		// a single kind of problem must be named as such.
		if p != nil && want != jsoncheck.CodeMalformed && p.Code != want && oracleKinds(data) == 1 {
			t.Fatalf("Check(%q) = %v, oracle says %q", data, p, want)
		}
		if p != nil && !utf8.ValidString(p.Field) {
			t.Fatalf("Check(%q): field %q is not UTF-8", data, p.Field)
		}
	})
}

// oracleKinds counts the kinds of problem in a valid JSON text.
func oracleKinds(data []byte) int {
	n := 0
	if !utf8.Valid(data) || unpairedSurrogate(data) {
		n++
	}
	if p := oracle(bytes.ToValidUTF8(data, []byte("x"))); p == jsoncheck.CodeNumber || p == jsoncheck.CodeDepth {
		n++
	}
	return n
}

// oracle returns the code of the first kind of problem it sees, or "".
func oracle(data []byte) string {
	if !json.Valid(data) {
		return jsoncheck.CodeMalformed
	}
	if !utf8.Valid(data) {
		return jsoncheck.CodeUTF8
	}
	if unpairedSurrogate(data) {
		return jsoncheck.CodeUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	d, maxD := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return jsoncheck.CodeMalformed
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				d++
				maxD = max(maxD, d)
			} else {
				d--
			}
		case json.Number:
			if _, err := strconv.ParseFloat(string(v), 64); err != nil {
				return jsoncheck.CodeNumber
			}
		}
	}
	if maxD > depth {
		return jsoncheck.CodeDepth
	}
	return ""
}

// unpairedSurrogate reports a \u escape of a surrogate that is not a high
// one followed by a low one, reading the text with strconv.Unquote.
func unpairedSurrogate(data []byte) bool {
	for i := 0; i+5 < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		if data[i+1] != 'u' {
			i++ // skip the escaped character
			continue
		}
		r, err := strconv.ParseUint(string(data[i+2:i+6]), 16, 32)
		if err != nil || r < 0xD800 || r > 0xDFFF {
			i += 5
			continue
		}
		if r >= 0xDC00 {
			return true
		}
		if i+12 > len(data) || data[i+6] != '\\' || data[i+7] != 'u' {
			return true
		}
		r2, err := strconv.ParseUint(string(data[i+8:i+12]), 16, 32)
		if err != nil || r2 < 0xDC00 || r2 > 0xDFFF {
			return true
		}
		i += 11
	}
	return false
}

// BenchmarkCheck measures the check every ingested message goes through,
// on a typical tracker message.
func BenchmarkCheck(b *testing.B) {
	msg := []byte(`{"type":"track","event":"$click","anonymousId":"a-6f1c2d9e8b7a","messageId":"m-1234567890",` +
		`"timestamp":"2026-12-07T10:00:00.123Z","properties":{"selector":"main > div.cart > button#checkout",` +
		`"offset_x":0.52,"offset_y":0.31,"page_x":812,"page_y":1290,"viewport_width":1280,"text":"Passer à la caisse 🛒"},` +
		`"context":{"page":{"url":"https://shop.example.com/cart?utm_source=mail","title":"Panier — Fernhill"},` +
		`"locale":"fr-FR","timezone":"Europe/Paris"}}`)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if p := jsoncheck.Check(msg, 32); p != nil {
			b.Fatal(p)
		}
	}
}
