package openapi_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"

	"github.com/sightline/sightline/internal/openapi"
)

// recorded is an answer the server tests recorded
// (SIGHTLINE_OPENAPI_RECORD, see internal/server/openapi_test.go).
type recorded struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
}

func newValidator(t *testing.T) validator.Validator {
	t.Helper()
	b, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return v
}

// validate checks one answer, returning the validator's complaints.
func validate(v validator.Validator, rec recorded) []string {
	req, _ := http.NewRequest(rec.Method, rec.URL, nil)
	resp := &http.Response{StatusCode: rec.Status, Header: http.Header{"Content-Type": {rec.ContentType}},
		Body: io.NopCloser(strings.NewReader(rec.Body)), Request: req}
	ok, errs := v.ValidateHttpResponse(req, resp)
	if ok {
		return nil
	}
	var out []string
	for _, e := range errs {
		msg := e.Message + ": " + e.Reason
		for _, se := range e.SchemaValidationErrors {
			msg += " [" + se.FieldPath + ": " + se.Reason + "]"
		}
		out = append(out, msg)
	}
	return out
}

// TestOpenAPIRecorded validates a file of recorded answers
// ($SIGHTLINE_OPENAPI_RECORDED), for working on the document without
// running the server tests again.
func TestOpenAPIRecorded(t *testing.T) {
	path := os.Getenv("SIGHTLINE_OPENAPI_RECORDED")
	if path == "" {
		t.Skip("set SIGHTLINE_OPENAPI_RECORDED to a file the server tests recorded")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := newValidator(t)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	seen := map[string]int{}
	for sc.Scan() {
		var rec recorded
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if msgs := validate(v, rec); msgs != nil {
			key := rec.Method + " " + strings.SplitN(rec.URL, "?", 2)[0]
			if seen[key]++; seen[key] > 2 {
				continue
			}
			t.Errorf("%s %s %d: %s\nbody: %.400s", rec.Method, rec.URL, rec.Status, strings.Join(msgs, "; "), rec.Body)
		}
	}
}
