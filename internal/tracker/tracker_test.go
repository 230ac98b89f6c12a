package tracker

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	const src = "../../web/tracker"
	f, err := os.Open("dist/sources.sha256")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("malformed line %q", sc.Text())
		}
		listed[name] = true
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Errorf("%s: %v (rebuild with scripts/build-tracker.sh)", name, err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("web/tracker/%s changed since the script was built: run scripts/build-tracker.sh and commit dist/", name)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(filepath.Join(src, "src"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("web/tracker/%s is not in the build: run scripts/build-tracker.sh and commit dist/", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
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
