package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func TestGenCommand(t *testing.T) {
	gen := func(t *testing.T, args ...string) (genSummary, error) {
		t.Helper()
		var out bytes.Buffer
		err := run(append([]string{"gen", "--users", "300", "--now", "2026-11-27T15:00:00Z", "--json"}, args...),
			&out, io.Discard)
		var sum genSummary
		if err == nil {
			if jerr := json.Unmarshal(out.Bytes(), &sum); jerr != nil {
				t.Fatalf("summary %q: %v", out.String(), jerr)
			}
		}
		return sum, err
	}
	dir := t.TempDir()
	first, err := gen(t, "--data", dir, "--site", "Ledgerly")
	if err != nil {
		t.Fatal(err)
	}
	if first.Site == nil || first.Site.WriteKey == "" || first.Users+first.Anonymous != 300 || first.Events == 0 ||
		first.DatabaseBytes == 0 {
		t.Fatalf("summary = %+v", first)
	}
	// The site is found again by ID and by name, and is not filled twice.
	for _, site := range []string{first.SiteID, "Ledgerly"} {
		if _, err := gen(t, "--data", dir, "--site", site); err == nil || !strings.Contains(err.Error(), "only fills an empty site") {
			t.Errorf("second gen into %s: %v", site, err)
		}
	}
	// The same seed and --now give the same data elsewhere.
	again, err := gen(t, "--data", t.TempDir(), "--site", "Ledgerly")
	if err != nil {
		t.Fatal(err)
	}
	if again.Events != first.Events || again.Sessions != first.Sessions || again.AttrValues != first.AttrValues {
		t.Errorf("same seed, different data: %+v vs %+v", again, first)
	}
	if _, err := gen(t, "--data", dir, "--site", "x", "--now", "yesterday"); err == nil {
		t.Error("--now yesterday accepted")
	}
}
