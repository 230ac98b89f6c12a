package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// cli runs a command on the data folder dir (no server: the database is
// opened directly) and decodes its --json output into out.
func cli(t *testing.T, dir, stdin string, out any, args ...string) error {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append(args, "--data", dir)
	var err error
	if args[0] == "account" {
		err = accountCmd(args[1:], strings.NewReader(stdin), &stdout, &stderr)
	} else {
		err = run(args, &stdout, &stderr)
	}
	if err == nil && out != nil {
		if jerr := json.Unmarshal(stdout.Bytes(), out); jerr != nil {
			t.Fatalf("%v: %v in %q", args, jerr, stdout.String())
		}
	}
	return err
}

func TestAccountCreateAndList(t *testing.T) {
	dir := t.TempDir()
	var site admin.NewSite
	if err := cli(t, dir, "", &site, "site", "create", "Shop", "--json"); err != nil {
		t.Fatal(err)
	}
	var owner, viewer admin.AccountInfo
	if err := cli(t, dir, "a long password\n", &owner, "account", "create", "--email", "Ann@Example.com",
		"--name", "Ann", "--role", "owner", "--password-stdin", "--json"); err != nil {
		t.Fatal(err)
	}
	if err := cli(t, dir, "another password", &viewer, "account", "create", "--email", "vic@example.com",
		"--name", "Vic", "--role", "viewer", "--site", site.ID, "--password-stdin", "--json"); err != nil {
		t.Fatal(err)
	}
	if owner.Email != "ann@example.com" || owner.Role != "owner" || len(viewer.Sites) != 1 || viewer.Sites[0] != site.ID {
		t.Fatalf("created %+v and %+v", owner, viewer)
	}
	for _, tc := range []struct {
		name, stdin, want string
		args              []string
	}{
		{"taken email", "a long password", "has an account already",
			[]string{"--email", "ann@example.com", "--name", "A", "--role", "admin", "--password-stdin"}},
		{"short password", "short", "at least 10",
			[]string{"--email", "b@example.com", "--name", "B", "--role", "admin", "--password-stdin"}},
		{"no stdin flag", "", "--password-stdin",
			[]string{"--email", "c@example.com", "--name", "C", "--role", "admin"}},
		{"unknown role", "a long password", "unknown role",
			[]string{"--email", "d@example.com", "--name", "D", "--role", "boss", "--password-stdin"}},
		{"unknown site", "a long password", "no such site",
			[]string{"--email", "e@example.com", "--name", "E", "--role", "viewer", "--site", "s_nope", "--password-stdin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cli(t, dir, tc.stdin, nil, append([]string{"account", "create"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	var list []admin.AccountInfo
	if err := cli(t, dir, "", &list, "account", "list", "--json"); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != owner.ID || list[1].ID != viewer.ID {
		t.Fatalf("list = %+v", list)
	}
}

func TestTokenRevoke(t *testing.T) {
	dir := t.TempDir()
	var site admin.NewSite
	var tok admin.NewToken
	if err := cli(t, dir, "", &site, "site", "create", "Shop", "--json"); err != nil {
		t.Fatal(err)
	}
	if err := cli(t, dir, "", &tok, "token", "create", "--site", site.ID, "--scope", "read", "--json"); err != nil {
		t.Fatal(err)
	}
	if err := cli(t, dir, "", nil, "token", "revoke", tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := cli(t, dir, "", nil, "token", "revoke", "tok_unknown"); err == nil {
		t.Fatal("revoking an unknown token succeeded")
	}
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(dir, "sightline.duckdb"), duckstore.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.TokenBySecret(ctx, tok.Token); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked token: %v, want not found", err)
	}
}
