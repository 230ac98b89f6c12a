package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoFillsOnceThenPrints(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run([]string{"demo", "--data", dir, "--users", "300"}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s", err, errOut.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c demoCredentials
	if err := json.Unmarshal(b, &c); err != nil || !strings.HasPrefix(c.WriteKey, "wk_") || !strings.HasPrefix(c.ReadToken, "sl_") {
		t.Fatalf("credentials = %+v, %v", c, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "demo.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("demo.json mode %v, want 0600", fi.Mode().Perm())
	}
	first := out.String()
	out.Reset()
	if err := run([]string{"demo", "--data", dir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if out.String() != first || !strings.Contains(first, c.ReadToken) {
		t.Fatalf("second run printed\n%s\nfirst\n%s", out.String(), first)
	}
}
