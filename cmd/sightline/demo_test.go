package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
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
	if c.Email != demoEmail || len(c.Password) < account.MinPasswordLength || c.URL != "http://127.0.0.1:8080" {
		t.Fatalf("demo account = %q / %q at %q", c.Email, c.Password, c.URL)
	}
	if !strings.Contains(out.String(), "Dashboard: http://127.0.0.1:8080/") || !strings.Contains(out.String(), c.Password) {
		t.Errorf("demo printed no dashboard sign-in:\n%s", out.String())
	}
	checkDemoOwner(t, dir, c.Password)
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
	checkDemoSegments(t, dir)
}

// checkDemoSegments checks that each demo site has its saved segments
// once, signed by the demo owner.
func checkDemoSegments(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(dir, "sightline.duckdb"), duckstore.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string]int{demoSiteName: 10, demoShopName: 6}
	for _, site := range db.Sites(ctx) {
		segs, err := db.ListSegments(ctx, site.ID)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, s := range segs {
			if names[s.Name] || s.Author != "Demo Owner" {
				t.Errorf("site %s: segment %q twice or by %q", site.Name, s.Name, s.Author)
			}
			names[s.Name] = true
		}
		if len(segs) != want[site.Name] {
			t.Errorf("site %s has %d segments, want %d", site.Name, len(segs), want[site.Name])
		}
	}
}

// checkDemoOwner opens the demo's database and checks that the demo owner
// signs in with password.
func checkDemoOwner(t *testing.T, dir, password string) {
	t.Helper()
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(dir, "sightline.duckdb"), duckstore.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, hash, err := db.AccountByEmail(ctx, demoEmail)
	if err != nil || a.Role != store.RoleOwner {
		t.Fatalf("demo owner = %+v, %v", a, err)
	}
	if ok, err := account.CheckPassword(hash, password); !ok || err != nil {
		t.Fatalf("the demo password does not match: %v", err)
	}
}

// A data folder filled before the dashboard had accounts gets the demo
// owner on the next run.
func TestDemoAddsTheOwnerToAnOlderDemo(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run([]string{"demo", "--data", dir, "--users", "100"}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s", err, errOut.String())
	}
	path := filepath.Join(dir, "demo.json")
	var c demoCredentials
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	// Make it as an older version left it: no account, no email in the file.
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(dir, "sightline.duckdb"), duckstore.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := db.AccountByEmail(ctx, demoEmail)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	db.Close()
	c.Email, c.Password = "", ""
	b, _ = json.Marshal(c)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run([]string{"demo", "--data", dir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var again demoCredentials
	b, _ = os.ReadFile(path)
	if err := json.Unmarshal(b, &again); err != nil || again.Email != demoEmail || again.Site != c.Site || again.ReadToken != c.ReadToken {
		t.Fatalf("after the upgrade: %+v, %v", again, err)
	}
	checkDemoOwner(t, dir, again.Password)
}
