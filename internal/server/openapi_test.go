package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	vconfig "github.com/pb33f/libopenapi-validator/config"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/openapi"
)

// The OpenAPI document is kept honest two ways: every response the HTTP
// tests of this package produce on a documented prefix is validated
// against it (startServer wraps every test server's handler with
// checkContract), and TestOpenAPICoversRoutes fails on a registered route
// the document lacks, naming it.

// contractPrefixes are the paths whose responses are part of the
// contract; the dashboard's pages and the manual are not API.
var contractPrefixes = []string{"/api/v1/", "/v1/", "/t/", "/healthz", "/readyz", "/metrics"}

// notAPI are registered routes that are pages, not API operations.
var notAPI = []string{
	"/",                // the dashboard (index.html for every page path)
	"GET /docs",        // the manual
	"GET /docs/",       // the manual's pages
	"GET /api/v1/docs", // this document, rendered for people
}

var contract struct {
	once sync.Once
	v    validator.Validator
	err  error
}

func contractValidator() (validator.Validator, error) {
	contract.once.Do(func() {
		b, err := openapi.Document()
		if err != nil {
			contract.err = err
			return
		}
		doc, err := libopenapi.NewDocument(b)
		if err != nil {
			contract.err = fmt.Errorf("parse the OpenAPI document: %w", err)
			return
		}
		v, errs := validator.NewValidator(doc, vconfig.WithFormatAssertions())
		if len(errs) > 0 {
			contract.err = fmt.Errorf("build the validator: %v", errs)
			return
		}
		contract.v = v
	})
	return contract.v, contract.err
}

// checkContract returns a WrapHandler that validates each response on a
// contract prefix against the OpenAPI document, failing t on a mismatch.
func checkContract(t testing.TB) func(*http.ServeMux, http.Handler) http.Handler {
	v, err := contractValidator()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex // validators share caches; one response at a time
	return func(_ *http.ServeMux, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			in := slices.ContainsFunc(contractPrefixes, func(p string) bool { return strings.HasPrefix(r.URL.Path, p) })
			if !in || r.URL.Path == "/api/v1/docs" {
				h.ServeHTTP(w, r)
				return
			}
			// A JSON body the server accepted must be one the document
			// allows: the copy is validated once the answer is 2xx.
			var reqBody []byte
			// (Clients, tests among them, often send no Content-Type: a
			// body that is a JSON object or array is taken for JSON.)
			// Ingestion answers 200 listing the messages it refused, so
			// there a 2xx does not mean the body was valid: its bodies are
			// left out.
			ingestion := strings.HasPrefix(r.URL.Path, "/v1/") || strings.HasPrefix(r.URL.Path, "/t/")
			if !ingestion && r.Method != http.MethodGet && r.ContentLength > 0 && r.ContentLength <= 1<<20 && r.Header.Get("Content-Encoding") == "" {
				reqBody, _ = io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(reqBody))
				if t := bytes.TrimSpace(reqBody); len(t) == 0 || (t[0] != '{' && t[0] != '[') {
					reqBody = nil
				}
			}
			tw := &teeWriter{ResponseWriter: w, status: http.StatusOK}
			h.ServeHTTP(tw, r)
			if reqBody != nil && tw.status/100 == 2 {
				rc := r.Clone(r.Context())
				rc.Body = io.NopCloser(bytes.NewReader(reqBody))
				rc.Header.Set("Content-Type", "application/json")
				mu.Lock()
				ok, errs := v.GetRequestBodyValidator().ValidateRequestBody(rc)
				mu.Unlock()
				if !ok {
					var msgs []string
					for _, e := range errs {
						msgs = append(msgs, e.Message+": "+e.Reason)
						for _, se := range e.SchemaValidationErrors {
							msgs = append(msgs, "["+se.FieldPath+": "+se.Reason+"]")
						}
					}
					t.Errorf("%s %s: the server accepted a body the OpenAPI document does not allow: %s\nbody: %.300s",
						r.Method, r.URL.Path, strings.Join(msgs, "; "), reqBody)
				}
			}
			if tw.hijacked || tw.buf.Len() > 4<<20 {
				return
			}
			body := tw.buf.Bytes()
			if w.Header().Get("Content-Encoding") == "gzip" && len(body) > 0 {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Errorf("%s %s: gzip: %v", r.Method, r.URL.Path, err)
					return
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Errorf("%s %s: gzip: %v", r.Method, r.URL.Path, err)
					return
				}
			}
			resp := &http.Response{StatusCode: tw.status, Header: w.Header().Clone(), Body: io.NopCloser(bytes.NewReader(body)),
				Request: r}
			mu.Lock()
			ok, errs := v.ValidateHttpResponse(r, resp)
			record(r, tw.status, w.Header().Get("Content-Type"), body)
			mu.Unlock()
			if !ok {
				var msgs []string
				for _, e := range errs {
					msgs = append(msgs, e.Message+": "+e.Reason)
				}
				t.Errorf("%s %s answered %d, which the OpenAPI document does not allow: %s\nbody: %.300s",
					r.Method, r.URL.Path, tw.status, strings.Join(msgs, "; "), tw.buf.String())
			}
		})
	}
}

// record appends an answer to $SIGHTLINE_OPENAPI_RECORD, when set, as a
// JSON line: a way to collect real answers of every operation the tests
// reach, for writing and checking the document's schemas.
func record(r *http.Request, status int, ct string, body []byte) {
	path := os.Getenv("SIGHTLINE_OPENAPI_RECORD")
	if path == "" || len(body) > 64<<10 {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	line, _ := json.Marshal(map[string]any{"method": r.Method, "url": r.URL.String(), "status": status,
		"content_type": ct, "body": string(body)})
	f.Write(append(line, '\n'))
}

// teeWriter passes a response through and keeps a copy.
type teeWriter struct {
	http.ResponseWriter
	buf      bytes.Buffer
	status   int
	wrote    bool
	hijacked bool
}

func (w *teeWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.wrote = true
	if w.buf.Len() <= 4<<20 {
		w.buf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *teeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	if hj, ok := w.ResponseWriter.(http.Hijacker); ok {
		return hj.Hijack()
	}
	return nil, nil, http.ErrNotSupported
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// muxPatterns lists the patterns registered on mux. ServeMux has no API
// for it; its routing index holds every pattern, read here by reflection
// (reading unexported fields is allowed). A change of the standard
// library that moves them fails the test loudly rather than passing.
func muxPatterns(t *testing.T, mux *http.ServeMux) []string {
	t.Helper()
	index := reflect.ValueOf(mux).Elem().FieldByName("index")
	segments, multis := index.FieldByName("segments"), index.FieldByName("multis")
	if !segments.IsValid() || !multis.IsValid() {
		t.Fatal("BUG: net/http's ServeMux no longer has index.segments and index.multis; update muxPatterns")
	}
	seen := map[string]bool{}
	add := func(p reflect.Value) {
		seen[p.Elem().FieldByName("str").String()] = true
	}
	for it := segments.MapRange(); it.Next(); {
		for i := range it.Value().Len() {
			add(it.Value().Index(i))
		}
	}
	for i := range multis.Len() {
		add(multis.Index(i))
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// TestOpenAPICoversRoutes fails when the server registers a route the
// OpenAPI document lacks, or documents one it does not register.
func TestOpenAPICoversRoutes(t *testing.T) {
	var mux *http.ServeMux
	s := startServer(t, func(c *config.Config) {
		c.MetricsToken = "metrics-secret" // serves /metrics on the main port too
		wrap := c.WrapHandler
		c.WrapHandler = func(m *http.ServeMux, h http.Handler) http.Handler {
			mux = m
			return wrap(m, h)
		}
	})
	_ = s
	registered := muxPatterns(t, mux)
	if len(registered) < 50 {
		t.Fatalf("found only %d routes on the mux: %v", len(registered), registered)
	}
	// Wildcards are compared without their names: OpenAPI takes
	// /invites/{id} and /invites/{token} for one path.
	wild := regexp.MustCompile(`\{[a-z_]+\}`)
	norm := func(p string) string { return wild.ReplaceAllString(p, "{}") }
	documented := map[string]bool{}
	for _, r := range openapi.Routes() {
		documented[norm(r)] = true
	}
	var missing []string
	for _, p := range registered {
		if slices.Contains(notAPI, p) {
			continue
		}
		if !documented[norm(p)] {
			missing = append(missing, p)
		}
		delete(documented, norm(p))
	}
	for _, m := range missing {
		t.Errorf("the server registers %q, which the OpenAPI document lacks: add an openapi.Op for it to the area's list in internal/openapi", m)
	}
	for r := range documented {
		t.Errorf("the OpenAPI document has %q, which the server does not register", r)
	}
}

// TestOpenAPIServed: the document is served, is OpenAPI 3.1 that a
// validator builds from, and is rendered as a page.
func TestOpenAPIServed(t *testing.T) {
	s := startServer(t, nil)
	resp, err := http.Get(s.base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc, err := libopenapi.NewDocument(body)
	if err != nil {
		t.Fatal(err)
	}
	if doc.GetVersion() != "3.1.0" {
		t.Errorf("version %q", doc.GetVersion())
	}
	if _, errs := validator.NewValidator(doc); len(errs) > 0 {
		t.Errorf("validator: %v", errs)
	}
	if ok, errs := doc.BuildV3Model(); errs != nil || ok == nil {
		t.Errorf("model: %v", errs)
	}
	resp, err = http.Get(s.base + "/api/v1/docs")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"/api/v1/sites/{site}/alerts/rules", "Scope admin", "/v1/identify", "whsec_"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the docs page lacks %q", want)
		}
	}
	// A response the document does not allow is caught: a made-up
	// operation's answer fails validation.
	v, _ := contractValidator()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", "/api/v1/sites/x/alerts/rules", nil)
	bad := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"rules": [{"id": 1}]}`)), Request: req}
	if ok, _ := v.ValidateHttpResponse(req, bad); ok {
		t.Error("a rule with a numeric id and nothing else validates")
	}
}
