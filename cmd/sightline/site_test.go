package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestSiteUpdateAndList changes a site with the database opened directly,
// then through a running server's admin socket, and lists the sites.
func TestSiteUpdateAndList(t *testing.T) {
	dir := t.TempDir()
	cli := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(append(args, "--data", dir), &out, &errOut)
		return out.String(), err
	}
	out, err := cli("site", "create", "Shop", "--origin", "https://shop.example.com", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var created admin.NewSite
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}

	out, err = cli("site", "update", created.ID, "--name", "Shop 2", "--origin", "https://a.example.com",
		"--origin", "HTTPS://B.example.com:8443", "--respect-dnt", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var s store.Site
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.Name != "Shop 2" || !slices.Equal(s.Origins, []string{"https://a.example.com", "https://b.example.com:8443"}) || !s.RespectDNT {
		t.Fatalf("after update: %+v", s)
	}
	if _, err := cli("site", "update", created.ID, "--origin", "https://ok.example.com", "--origin", "ftp://x"); err == nil ||
		!strings.Contains(err.Error(), "origins[1]") {
		t.Fatalf("bad origin: %v, want an error naming origins[1]", err)
	}
	if _, err := cli("site", "update", created.ID); err == nil {
		t.Fatal("an update without flags was accepted")
	}
	if _, err := cli("site", "update", "s_nope", "--name", "x"); err == nil {
		t.Fatal("an unknown site was updated")
	}

	// A server runs: the command goes through its socket (the database is
	// locked by this process, so only the socket can reach it).
	cfg := config.Default()
	cfg.DataDir = dir
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := duckstore.Open(context.Background(), cfg.DBPath(), duckstore.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ln, err := net.Listen("unix", filepath.Join(dir, "admin.sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: admin.Handler(admin.Local{Store: db}, log)}
	go srv.Serve(ln)
	defer srv.Close()

	out, err = cli("site", "update", created.ID, "--respect-dnt=false")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "respect DNT: false") || !strings.Contains(out, "https://b.example.com:8443") {
		t.Fatalf("update printed:\n%s", out)
	}
	if got, err := db.Site(context.Background(), created.ID); err != nil || got.RespectDNT || got.Name != "Shop 2" {
		t.Fatalf("the server's site: %+v, %v", got, err)
	}
	if _, err := cli("site", "update", created.ID, "--origin", "nope"); err == nil || !strings.Contains(err.Error(), "origins[0]") {
		t.Fatalf("bad origin through the socket: %v", err)
	}
	if _, err := cli("site", "create", "Blog", "--origin", "https://blog.example.com"); err != nil {
		t.Fatal(err)
	}
	out, err = cli("site", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var list []store.Site
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 || list[0].Name != "Shop 2" || list[1].Name != "Blog" {
		t.Fatalf("site list = %s, %v", out, err)
	}
}
