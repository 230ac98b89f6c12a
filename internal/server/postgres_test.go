package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/migrate"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/store/pgstore"
	"github.com/sightline/sightline/internal/testsvc"
)

// TestPostgresTwoNodes: two servers, each with its own data folder, on one
// PostgreSQL database share sites, tokens, write keys, saved segments and
// dashboard sign-ins: what one node creates, rotates or ends holds on the
// other from the next request. Deleting a site goes through both halves.
func TestPostgresTwoNodes(t *testing.T) {
	dsn := testsvc.Postgres(t)
	node := func(name string) func(*config.Config) {
		return func(c *config.Config) { c.Postgres, c.Node = dsn, name }
	}
	a, b := startServer(t, node("node-a")), startServer(t, node("node-b"))
	ctx := context.Background()
	pg, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	// The control data is in PostgreSQL: both sites, one a node.
	for _, s := range []*testServer{a, b} {
		if site, err := pg.Site(ctx, s.site); err != nil || site.Name != "Test" {
			t.Fatalf("site %s in PostgreSQL: %+v %v", s.site, site, err)
		}
	}
	// Node A's site, read and written through node B.
	viaB := *a
	viaB.base = b.base
	if code, out := viaB.get(t, store.ScopeRead, "/segments"); code != http.StatusOK {
		t.Fatalf("A's read token on B: %d %v", code, out)
	}
	if code, out := viaB.send(t, "/v1/identify", `{"userId":"ann","traits":{"plan":"pro"}}`); code != http.StatusOK {
		t.Fatalf("A's write key on B: %d %v", code, out)
	}
	// Analytics stay in each node's folder: the segment is made where
	// ann's attributes are.
	if code, out := a.send(t, "/v1/identify", `{"userId":"ann","traits":{"plan":"pro"}}`); code != http.StatusOK {
		t.Fatalf("identify on A: %d %v", code, out)
	}
	seg := a.must(t, http.StatusCreated, store.ScopeWrite, "POST", "/segments", map[string]any{"name": "Pro", "text": `plan = "pro"`})
	var list struct {
		Segments []struct{ ID string } `json:"segments"`
	}
	viaB.getJSON(t, "/segments", &list)
	if len(list.Segments) != 1 || list.Segments[0].ID != seg["id"] {
		t.Errorf("segments on B: %+v, want %v", list.Segments, seg["id"])
	}

	// The owner set up on A is signed in on B; signing out on B ends the
	// session on A.
	owner := a.setUp(t)
	if out := b.browser(t).want(http.StatusOK, "", "GET", "/api/v1/setup", nil); out["needed"] != false {
		t.Errorf("B offers the set-up again: %v", out)
	}
	onB := owner.in(t)
	onB.base = b.base
	me := onB.want(http.StatusOK, "", "GET", "/api/v1/me", nil)
	if acc, _ := me["account"].(map[string]any); acc == nil || !strings.EqualFold(acc["email"].(string), "owner@example.com") {
		t.Errorf("me on B: %v", me)
	}

	// A write key rotated on B is refused on A at once.
	viaB.must(t, http.StatusOK, store.ScopeAdmin, "POST", "/write-key", nil)
	if code, _ := a.send(t, "/v1/track", `{"userId":"ann","event":"Late"}`); code != http.StatusUnauthorized {
		t.Errorf("the rotated write key on A: %d, want 401", code)
	}

	// Deleting A's site on A: its control rows (PostgreSQL) and its data
	// (A's folder) go; its token stops on B too.
	res := owner.want(http.StatusOK, "", "DELETE", "/api/v1/sites/"+a.site, map[string]string{"confirm": "Test"})
	deleted, _ := res["deleted"].(map[string]any)
	for _, kind := range []string{"tokens", "segments", "sites", "events", "identities"} {
		if n, _ := deleted[kind].(float64); n < 1 {
			t.Errorf("deleted %s: %v (all: %v)", kind, deleted[kind], deleted)
		}
	}
	if _, err := pg.Site(ctx, a.site); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted site in PostgreSQL: %v", err)
	}
	if code, _ := viaB.get(t, store.ScopeRead, "/segments"); code != http.StatusUnauthorized && code != http.StatusNotFound {
		t.Errorf("the deleted site's token on B: %d", code)
	}
	if code, out := b.get(t, store.ScopeRead, "/segments"); code != http.StatusOK {
		t.Errorf("B's own site after A's was deleted: %d %v", code, out)
	}
	onB.want(http.StatusNoContent, "", "DELETE", "/api/v1/session", nil)
	owner.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/me", nil)
}

// TestPostgresRefusesUnmigratedFolder: a data folder whose database has
// sites of its own is refused with --postgres until its control data is
// migrated, so that its analytics are never read as another site's.
func TestPostgresRefusesUnmigratedFolder(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir, cfg.Addr, cfg.MetricsAddr = t.TempDir(), "127.0.0.1:0", ""
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan server.Addrs, 1)
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, log, ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	ac, err := admin.Dial(cfg.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ac.CreateSite(ctx, "Embedded", nil); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cfg.Postgres = testsvc.Postgres(t)
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	err = server.Run(ctx2, cfg, log, nil)
	if err == nil || !strings.Contains(err.Error(), "sightline migrate") {
		t.Fatalf("Run with --postgres on a folder with its own sites: %v, want a refusal naming sightline migrate", err)
	}

	// Migrated, the folder is served; and still after its site was
	// deleted through another node (its ID is never given again).
	db, err := duckstore.Open(ctx2, cfg.DBPath(), duckstore.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx2, cfg.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx2)
	if _, err := migrate.CopyControl(ctx2, migrate.ControlOptions{Source: db.SQL(), Target: conn}); err != nil {
		t.Fatal(err)
	}
	site := db.Sites(ctx2)[0]
	db.Close()
	serveOnce := func(what string) {
		t.Helper()
		ctx, cancel := context.WithCancel(ctx2)
		ready := make(chan server.Addrs, 1)
		done := make(chan error, 1)
		go func() { done <- server.Run(ctx, cfg, log, ready) }()
		select {
		case <-ready:
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: shutdown: %v", what, err)
			}
		case err := <-done:
			cancel()
			t.Fatalf("%s: %v", what, err)
		}
	}
	serveOnce("after the migration")
	pg, err := pgstore.Open(ctx2, cfg.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.DeleteSite(ctx2, site.ID); err != nil {
		t.Fatal(err)
	}
	pg.Close()
	serveOnce("after the site was deleted in PostgreSQL")
}

// TestPostgresReadiness: a node whose PostgreSQL stops answering reports
// not ready, naming it, so that a load balancer sends traffic elsewhere;
// it is ready again once the database is back.
func TestPostgresReadiness(t *testing.T) {
	dsn := testsvc.Postgres(t)
	s := startServer(t, func(c *config.Config) {
		c.Postgres = dsn
		// The OpenAPI document does not describe /readyz's 503 body (an
		// object with reasons, not an error): not checked here.
		c.WrapHandler = nil
	})
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// A database cannot be closed to connections from a session in it.
	other := cfg.Copy()
	other.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ready := func() (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, s.base+"/readyz", nil)
		return do(t, req)
	}
	if code, out := ready(); code != http.StatusOK {
		t.Fatalf("readyz: %d %v", code, out)
	}
	block := func(allow bool) {
		t.Helper()
		if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %t", pgx.Identifier{cfg.Database}.Sanitize(), allow)); err != nil {
			t.Fatal(err)
		}
		if !allow {
			if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", cfg.Database); err != nil {
				t.Fatal(err)
			}
		}
	}
	block(false)
	defer block(true)
	code, out := ready()
	if code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(out["reasons"]), "PostgreSQL") {
		t.Errorf("readyz with PostgreSQL refusing connections: %d %v", code, out)
	}
	block(true)
	if code, out := ready(); code != http.StatusOK {
		t.Errorf("readyz once PostgreSQL is back: %d %v", code, out)
	}
	if code, out := s.get(t, store.ScopeRead, "/segments"); code != http.StatusOK {
		t.Errorf("a read once PostgreSQL is back: %d %v", code, out)
	}
}
