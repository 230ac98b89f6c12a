package main_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDataFilesAreOwnerOnly runs the demo and the server under the common
// umask 022, stores an event and a recording chunk, and wants every file
// and folder in the data folder owner-only, while the server runs (DuckDB's
// .wal, the write-ahead log, the admin socket) and after it stopped.
func TestDataFilesAreOwnerOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the demo and the server")
	}
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data") // made by the binary
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)

	if out, err := exec.Command(bin, "demo", "--data", data, "--users", "300").CombinedOutput(); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	srv := startServer(t, bin, data)
	syscall.Umask(old)
	var site struct {
		WriteKey string `json:"write_key"`
	}
	runJSON(t, &site, bin, "site", "create", "perms", "--origin", "https://app.example.com", "--data", data, "--json")
	post := func(path, body string, prepare func(*http.Request)) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.url+path, strings.NewReader(body))
		prepare(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %s", path, resp.Status)
		}
	}
	post("/v1/track", `{"userId":"u1","event":"e"}`, func(r *http.Request) { r.SetBasicAuth(site.WriteKey, "") })
	ms := time.Now().Add(-time.Minute).UnixMilli()
	post("/t/rec?k="+url.QueryEscape(site.WriteKey), fmt.Sprintf(`{"recording":"r1","anonymousId":"a1","seq":0,"start":%d,"end":%d,
		"url":"https://app.example.com/","events":[{"type":4,"data":{"href":"https://app.example.com/","width":800,"height":600},"timestamp":%d}]}`,
		ms, ms+10, ms), func(r *http.Request) { r.Header.Set("Origin", "https://app.example.com") })

	checkOwnerOnly(t, data, "while serving", map[string]bool{"demo.json": true, "admin.sock": true,
		"sightline.duckdb": true, "wal": true, "recordings": true})
	srv.terminate(t)
	checkOwnerOnly(t, data, "after stopping", nil)
}

// checkOwnerOnly fails for every file or folder under dir that others may
// use; want names entries of dir that must be there.
func checkOwnerOnly(t *testing.T, dir, when string, want map[string]bool) {
	t.Helper()
	seen := map[string]bool{}
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) { // DuckDB removed a file meanwhile
				return nil
			}
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		n++
		rel, _ := filepath.Rel(dir, p)
		seen[strings.Split(rel, string(filepath.Separator))[0]] = true
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s: %s is %v, want owner-only", when, rel, fi.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s: no %s in the data folder (saw %v)", when, name, seen)
		}
	}
	t.Logf("%s: checked %d files and folders", when, n)
}
