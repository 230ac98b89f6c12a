package segment_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/segment"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestGolden runs each testdata/NAME.txt through the pipeline and compares
// the result with testdata/NAME.golden: the canonical text, the canonical
// JSON (indented) and what Validate says against testCatalog, or the
// syntax error. Refresh with go test ./internal/segment -update.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/*.txt")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".txt")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := goldenOutput(t, string(src))
			path := strings.TrimSuffix(in, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/segment -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the output:\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

func goldenOutput(t *testing.T, src string) string {
	var b strings.Builder
	n, err := segment.Parse(src)
	if err != nil {
		b.WriteString("-- syntax error --\n" + err.Error() + "\n")
		return b.String()
	}
	checkRoundTrips(t, n)
	b.WriteString("-- text --\n" + segment.Format(n) + "\n")
	var js bytes.Buffer
	if err := json.Indent(&js, []byte(mustMarshal(t, n)), "", "  "); err != nil {
		t.Fatal(err)
	}
	b.WriteString("-- json --\n" + js.String() + "\n")
	b.WriteString("-- validate --\n")
	if err := segment.Validate(n, testCatalog()); err != nil {
		b.WriteString(err.Error() + "\n")
	} else {
		b.WriteString("ok\n")
	}
	return b.String()
}
