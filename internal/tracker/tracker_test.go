package tracker

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sightline/sightline/internal/distcheck"
)

// budget is the most the core script may weigh gzipped (SPEC.md §1).
const budget = 10 << 10

func TestScriptWithinBudget(t *testing.T) {
	s, err := LoadScript()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes, %d gzipped (budget %d)", s.Name, len(s.Body), s.GzipSize(), budget)
	if s.GzipSize() >= budget {
		t.Fatalf("%s is %d bytes gzipped; the core script must stay under %d", s.Name, s.GzipSize(), budget)
	}
}

// TestScriptBuiltFromSources fails when web/tracker changed after the
// embedded script was built: scripts/build-tracker.sh records the hashes of
// the sources it built from in dist/sources.sha256. (CI also rebuilds and
// compares the output byte for byte with scripts/build-tracker.sh --check.)
func TestScriptBuiltFromSources(t *testing.T) {
	distcheck.Sources(t, "dist/sources.sha256", "../../web/tracker", []string{"src", "chunks"},
		"run scripts/build-tracker.sh and commit internal/tracker/dist")
}

// TestChunksNamedInTheCore checks that the core can load every embedded
// chunk: the build bakes each chunk's versioned file name into it.
func TestChunksNamedInTheCore(t *testing.T) {
	core, err := LoadScript()
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := loadChunks(dist)
	if err != nil {
		t.Fatal(err)
	}
	for name := range chunks {
		if !bytes.Contains(core.Body, []byte(`"`+name+`"`)) {
			t.Errorf("chunk %s is not in the core's manifest: rebuild with scripts/build-tracker.sh", name)
		}
	}
}

// TestServeChunks serves the chunks of a build of its own: versioned
// names, cached for a year, gzipped on request, revalidated by ETag, and
// nothing else under /t/chunks/.
func TestServeChunks(t *testing.T) {
	chunk := []byte(strings.Repeat("window.slRecord = function () { return 'recording'; };\n", 40))
	fsys := fstest.MapFS{
		"dist/sightline-0.1.0-0123abcd.js": {Data: []byte("/* core */")},
		"dist/chunks/record-89abcdef.js":   {Data: chunk},
	}
	h, err := newHandler(Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, fsys)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	get := func(path string, hdr ...string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return w
	}
	w := get("/t/chunks/record-89abcdef.js")
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), chunk) || w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Fatalf("chunk: %d %v", w.Code, w.Header())
	}
	gz := get("/t/chunks/record-89abcdef.js", "Accept-Encoding", "gzip")
	zr, err := gzip.NewReader(gz.Body)
	if err != nil || gz.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzipped chunk: %v %v", err, gz.Header())
	}
	if body, _ := io.ReadAll(zr); !bytes.Equal(body, chunk) || gz.Body.Len() >= len(chunk) {
		t.Fatalf("gzipped chunk does not unpack to the chunk")
	}
	if w := get("/t/chunks/record-89abcdef.js", "If-None-Match", w.Header().Get("ETag")); w.Code != http.StatusNotModified {
		t.Fatalf("revalidation: %d", w.Code)
	}
	for _, p := range []string{"/t/chunks/record-00000000.js", "/t/chunks/record.js", "/t/chunks/sightline-0.1.0-0123abcd.js",
		"/t/chunks/..%2fsightline-0.1.0-0123abcd.js"} {
		if w := get(p); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, w.Code)
		}
	}
	if w := get("/t/sightline-0.1.0-0123abcd.js"); w.Code != 200 || w.Body.String() != "/* core */" {
		t.Errorf("the core: %d %q", w.Code, w.Body.String())
	}
}

func TestOriginAllowed(t *testing.T) {
	allowed := []string{"https://app.example.com", "http://localhost:3000", "https://*.shop.example"}
	for _, tc := range []struct {
		origin string
		want   bool
	}{
		{"https://app.example.com", true},
		{"https://APP.example.com", true},
		{"https://app.example.com:443", true},
		{"http://app.example.com", false},
		{"https://app.example.com:8443", false},
		{"https://evil.example.com", false},
		{"https://app.example.com.evil.io", false},
		{"http://localhost:3000", true},
		{"http://localhost", false},
		{"https://eu.shop.example", true},
		{"https://a.b.shop.example", true},
		{"https://shop.example", false},
		{"https://evilshop.example", false},
		{"http://eu.shop.example", false},
		{"null", false},
		{"", false},
	} {
		if got := originAllowed(allowed, tc.origin); got != tc.want {
			t.Errorf("originAllowed(%q) = %v, want %v", tc.origin, got, tc.want)
		}
	}
	if originAllowed(nil, "https://app.example.com") {
		t.Error("a site without origins allows none")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"gzip, deflate, br, zstd", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"GZIP", true},
		{"*", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0, br", false},
		{"br", false},
		{"", false},
		{"identity", false},
	} {
		if got := acceptsGzip(tc.header); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
