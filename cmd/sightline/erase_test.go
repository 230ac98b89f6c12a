package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestDeleteUserCommand deletes a user with the database opened by the
// command (no server running) and checks the receipt and what is left.
func TestDeleteUserCommand(t *testing.T) {
	dir := t.TempDir()
	cli := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(append(args, "--data", dir), &out, &errOut)
		return out.String(), err
	}
	out, err := cli("site", "create", "Shop", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var site admin.NewSite
	if err := json.Unmarshal([]byte(out), &site); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	openDB := func() (*duckstore.DB, store.Site) {
		db, err := duckstore.Open(ctx, filepath.Join(dir, "sightline.duckdb"), duckstore.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		s, err := db.Site(ctx, site.ID)
		if err != nil {
			t.Fatal(err)
		}
		return db, s
	}
	db, s := openDB()
	now := time.Now().UTC()
	var msgs []store.Message
	for i, u := range []string{"gone", "kept"} {
		msgs = append(msgs, store.Message{SiteID: s.ID, Kind: store.KindTrack, UserID: u, AnonymousID: "anon-" + u, Name: "signed_up",
			MessageID: "m" + u, Timestamp: now.Add(time.Duration(i) * time.Second), ReceivedAt: now})
	}
	if _, err := db.Write(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	db.Close()

	zipPath := filepath.Join(t.TempDir(), "gone.zip")
	if _, err := cli("export-user", "--site", site.ID, "--user", "gone", "--out", zipPath); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	zr.Close()
	if !strings.Contains(files["user.json"], `"user_id": "gone"`) || strings.Count(files["events.jsonl"], "\n") != 1 ||
		!strings.Contains(files["events.jsonl"], "signed_up") {
		t.Errorf("the export: %v", files)
	}
	if _, err := cli("export-user", "--site", site.ID, "--user", "nobody", "--out", zipPath+"2"); err == nil {
		t.Error("an unknown user was exported")
	}

	if _, err := cli("delete-user", "--site", site.ID); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("without --user: %v", err)
	}
	if _, err := cli("delete-user", "--site", site.ID, "--user", "nobody"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("an unknown user: %v", err)
	}
	out, err = cli("delete-user", "--site", site.ID, "--user", "gone", "--suppress", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r store.Erasure
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if r.Identities != 2 || r.Deleted["events"] != 1 || !r.Rewritten || !r.Suppressed {
		t.Errorf("receipt = %s", out)
	}
	db, s = openDB()
	defer db.Close()
	if _, err := db.User(ctx, s.ID, store.Identity{Kind: "user", ID: "gone"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted user: %v", err)
	}
	if _, err := db.User(ctx, s.ID, store.Identity{Kind: "user", ID: "kept"}); err != nil {
		t.Errorf("the other user: %v", err)
	}
	outs, _ := db.Write(ctx, []store.Message{{SiteID: s.ID, Kind: store.KindTrack, AnonymousID: "anon-gone", Name: "back",
		MessageID: "again", Timestamp: now, ReceivedAt: now}})
	if len(outs) != 1 || outs[0].Refused == nil || outs[0].Refused.Code != "suppressed" {
		t.Errorf("a message for a suppressed ID after a restart: %+v", outs)
	}
}
