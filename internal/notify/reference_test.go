package notify

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSignatureVerifiedByReferenceLibrary has the Standard Webhooks
// reference library for JavaScript verify what Sign makes: one secret, two
// during a rotation, and a tampered body (refused). It needs node and the
// npm package standardwebhooks; set SIGHTLINE_STANDARDWEBHOOKS to a
// node_modules folder that has it (npm install standardwebhooks), else it
// is skipped.
func TestSignatureVerifiedByReferenceLibrary(t *testing.T) {
	mods := os.Getenv("SIGHTLINE_STANDARDWEBHOOKS")
	node, err := exec.LookPath("node")
	if mods == "" || err != nil {
		t.Skip("set SIGHTLINE_STANDARDWEBHOOKS to a node_modules folder with standardwebhooks (and have node) to run")
	}
	if _, err := os.Stat(filepath.Join(mods, "standardwebhooks")); err != nil {
		t.Fatalf("SIGHTLINE_STANDARDWEBHOOKS=%s: %v", mods, err)
	}
	type msg struct {
		Secrets []string `json:"secrets"`
		ID      string   `json:"id"`
		TS      int64    `json:"ts"`
		Sig     string   `json:"sig"`
		Body    string   `json:"body"`
		Valid   bool     `json:"valid"`
	}
	now := time.Now()
	cur, old := NewSigningSecret(), NewSigningSecret()
	body := `{"type":"segment.entered","timestamp":"2026-12-07T16:00:00Z","data":{"summary":"u1 entered the segment Pro ✓"}}`
	var msgs []msg
	for _, tc := range []struct {
		secrets []string
		body    string
		valid   bool
	}{{[]string{cur}, body, true}, {[]string{cur, old}, body, true}, {[]string{cur}, body + " ", false}} {
		sig, err := Sign(tc.secrets, "msg_"+strings.Repeat("x", len(msgs)+1), now, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, msg{Secrets: tc.secrets, ID: "msg_" + strings.Repeat("x", len(msgs)+1), TS: now.Unix(), Sig: sig, Body: tc.body, Valid: tc.valid})
	}
	in, _ := json.Marshal(msgs)
	script, _ := filepath.Abs("testdata/verify.mjs")
	dir := t.TempDir()
	// ES modules resolve packages from the script's folder upwards.
	if err := os.Symlink(mods, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(script)
	os.WriteFile(filepath.Join(dir, "verify.mjs"), src, 0o644)
	cmd := exec.Command(node, filepath.Join(dir, "verify.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(msgs) {
		t.Fatalf("node answered %q", out)
	}
	for _, l := range lines {
		if l != "ok" {
			t.Error(l)
		}
	}
}
