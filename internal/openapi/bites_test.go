package openapi_test

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// answers are real answers recorded from the server tests
// (testdata/answers.jsonl), one per operation of several areas.
func answers(t *testing.T) []recorded {
	t.Helper()
	f, err := os.Open("testdata/answers.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []recorded
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec recorded
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	return out
}

// mutate applies a change at a dotted path (array indexes as numbers):
// drop removes the field; otherwise it is set to the JSON value.
func mutate(t *testing.T, body string, path string, drop bool, value string) string {
	t.Helper()
	var root any
	if err := json.Unmarshal([]byte(body), &root); err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(path, ".")
	cur := root
	for _, k := range keys[:len(keys)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			i, _ := strconv.Atoi(k)
			cur = c[i]
		}
		if cur == nil {
			t.Fatalf("%s: nothing at %s", path, k)
		}
	}
	last := keys[len(keys)-1]
	m, ok := cur.(map[string]any)
	if !ok {
		t.Fatalf("%s: not an object", path)
	}
	if _, ok := m[last]; !ok {
		t.Fatalf("%s: the recorded answer has no such field", path)
	}
	if drop {
		delete(m, last)
	} else {
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			t.Fatal(err)
		}
		m[last] = v
	}
	b, _ := json.Marshal(root)
	return string(b)
}

// TestOpenAPIValidationBites: real answers of operations of several areas
// validate as they are, and no longer once a field the handler always
// sends is dropped or a field's type changes: the document's schemas are
// strict enough to catch a renamed, dropped or retyped field.
func TestOpenAPIValidationBites(t *testing.T) {
	v := newValidator(t)
	byPath := map[string]recorded{}
	for _, rec := range answers(t) {
		if msgs := validate(v, rec); msgs != nil {
			t.Errorf("%s %s: the recorded answer does not validate: %v", rec.Method, rec.URL, msgs)
		}
		byPath[rec.Method+" "+strings.SplitN(rec.URL, "?", 2)[0]] = rec
	}
	find := func(method, pattern string) recorded {
		re := regexp.MustCompile(pattern)
		for k, rec := range byPath {
			if strings.HasPrefix(k, method+" ") && re.MatchString(k) {
				return rec
			}
		}
		t.Fatalf("no recorded answer of %s %s", method, pattern)
		return recorded{}
	}
	cases := []struct {
		method, path string
		field        string
		drop         bool
		value        string
	}{
		// users: a profile without its ID, a number of events as text, an
		// attribute's value without its type
		{"GET", `/users/ann$`, "user_id", true, ""},
		{"GET", `/users/ann$`, "events", false, `"1237"`},
		{"GET", `/users/ann$`, "attributes.plan.type", true, ""},
		{"GET", `/users/ann$`, "attributes.plan.type", false, `"text"`},
		{"GET", `/users/[^/]+/sessions$`, "sessions.0.recordings", true, ""},
		{"GET", `/users/[^/]+/sessions$`, "sessions.0.signals.rage_clicks", false, `null`},
		// segments
		{"GET", `/segments/seg_[a-z0-9]+$`, "name", true, ""},
		{"GET", `/segments/seg_[a-z0-9]+$`, "created_at", false, `"yesterday"`},
		// alerts
		{"GET", `/alerts/rules$`, "rules.0.trigger", false, `"recording.old"`},
		{"GET", `/alerts/rules$`, "rules.0.destination_id", true, ""},
		// ingestion
		{"POST", `^POST /v1/batch$`, "accepted", true, ""},
		{"POST", `^POST /v1/batch$`, "rejected.0.code", true, ""},
		// heatmaps
		{"GET", `/heatmaps/elements$`, "elements.0.selector", true, ""},
		{"GET", `/heatmaps/elements$`, "elements.0.spots", false, `[[1, 2]]`},
		// recordings
		{"GET", `/recording-settings$`, "sample_rate", false, `"all"`},
		// accounts
		{"GET", `/api/v1/me$`, "csrf_token", true, ""},
		{"GET", `/api/v1/me$`, "sites.0.access", true, ""},
		// experiments
		{"GET", `/experiments/[^/]+/results$`, "results.srm", true, ""},
		// overview
		{"GET", `/overview$`, "users.change", false, `"up"`},
		{"GET", `/overview$`, "period", true, ""},
		// data rights
		{"GET", `/retention$`, "events_days", true, ""},
		{"GET", `/deletions/`, "status", true, ""},
		// tracker
		{"GET", `/t/config$`, "keep_params", false, `"order"`},
		// feedback
		{"GET", `/feedback$`, "feedback.0.rating", false, `"4"`},
	}
	for _, c := range cases {
		rec := find(c.method, c.path)
		rec.Body = mutate(t, rec.Body, c.field, c.drop, c.value)
		what := "changed to " + c.value
		if c.drop {
			what = "dropped"
		}
		if msgs := validate(v, rec); msgs == nil {
			t.Errorf("%s %s with %s %s still validates", c.method, c.path, c.field, what)
		}
	}
}
