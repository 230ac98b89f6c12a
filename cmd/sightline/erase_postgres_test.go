package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/store/pgstore"
	"github.com/sightline/sightline/internal/store/scaled"
	"github.com/sightline/sightline/internal/testsvc"
)

// TestDeleteUserCommandOnPostgres: with the server stopped and the
// control data in PostgreSQL, delete-user --postgres deletes the user's
// data in the folder and the alert messages naming them in PostgreSQL,
// and the receipt counts both.
func TestDeleteUserCommandOnPostgres(t *testing.T) {
	dir, dsn := t.TempDir(), testsvc.Postgres(t)
	cli := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(append(args, "--data", dir, "--postgres", dsn), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := cli("site", "create", "Shop", "--json")
	if err != nil {
		t.Fatalf("site create: %v %s", err, out)
	}
	var site admin.NewSite
	if err := json.Unmarshal([]byte(out), &site); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pg, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	s, err := pg.Site(ctx, site.ID)
	if err != nil {
		t.Fatalf("the site created with --postgres is not in PostgreSQL: %v", err)
	}
	db, err := duckstore.Open(ctx, filepath.Join(dir, "sightline.duckdb"), duckstore.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := db.Write(ctx, []store.Message{{SiteID: s.ID, Kind: store.KindTrack, UserID: "gone", Name: "signed_up",
		MessageID: "m1", Timestamp: now, ReceivedAt: now}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	msg := func(id, user string) store.AlertMessage {
		return store.AlertMessage{ID: id, SiteID: s.ID, RuleID: "r", DestinationID: "d", Type: "feedback.new", Summary: id,
			Body: []byte(`{"user":{"id":"` + user + `"}}`), Status: "delivered", CreatedAt: now, NextAt: now, DoneAt: now}
	}
	if err := pg.ResolveAlerts(ctx, nil, []store.AlertMessage{msg("msg_gone", "gone"), msg("msg_kept", "kept")}, nil); err != nil {
		t.Fatal(err)
	}

	out, err = cli("delete-user", "--site", site.ID, "--user", "gone", "--json")
	if err != nil {
		t.Fatalf("delete-user: %v %s", err, out)
	}
	var receipt store.Erasure
	if err := json.Unmarshal([]byte(out), &receipt); err != nil {
		t.Fatalf("receipt %q: %v", out, err)
	}
	if receipt.Deleted["events"] != 1 || receipt.Deleted["alert_messages"] != 1 {
		t.Errorf("receipt counts %v, want 1 event and 1 alert message", receipt.Deleted)
	}
	left, err := pg.AlertMessages(ctx, s.ID, 10)
	if err != nil || len(left) != 1 || left[0].ID != "msg_kept" {
		t.Errorf("alert messages left: %+v %v, want msg_kept only", left, err)
	}
}

// TestDeleteUserCommandOnClickHouse: with the server stopped and the
// analytics in ClickHouse, delete-user --clickhouse --postgres deletes the
// user's rows there and in PostgreSQL, and the user is gone for a node
// opened afterwards.
func TestDeleteUserCommandOnClickHouse(t *testing.T) {
	dir, pgDSN, chDSN := t.TempDir(), testsvc.Postgres(t), testsvc.ClickHouse(t)
	cli := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(append(args, "--data", dir, "--postgres", pgDSN), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := cli("site", "create", "Shop", "--json")
	if err != nil {
		t.Fatalf("site create: %v %s", err, out)
	}
	var site admin.NewSite
	if err := json.Unmarshal([]byte(out), &site); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pg, err := pgstore.Open(ctx, pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	s, err := pg.Site(ctx, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scaled.Open(ctx, chDSN, pgDSN, scaled.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := sc.Write(ctx, []store.Message{
		{SiteID: s.ID, Kind: store.KindTrack, UserID: "gone", Name: "signed_up", MessageID: "m1", Timestamp: now, ReceivedAt: now},
		{SiteID: s.ID, Kind: store.KindTrack, UserID: "kept", Name: "signed_up", MessageID: "m2", Timestamp: now, ReceivedAt: now},
	}); err != nil {
		t.Fatal(err)
	}
	sc.Close()

	out, err = cli("delete-user", "--site", site.ID, "--user", "gone", "--json", "--clickhouse", chDSN)
	if err != nil {
		t.Fatalf("delete-user: %v %s", err, out)
	}
	var receipt store.Erasure
	if err := json.Unmarshal([]byte(out), &receipt); err != nil {
		t.Fatalf("receipt %q: %v", out, err)
	}
	if receipt.Deleted["events"] != 1 || receipt.Identities != 1 {
		t.Errorf("receipt %+v, want 1 event and 1 identity", receipt)
	}
	sc, err = scaled.Open(ctx, chDSN, pgDSN, scaled.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if _, err := sc.User(ctx, s.ID, store.Identity{Kind: "user", ID: "gone"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted user: %v, want not found", err)
	}
	if u, err := sc.User(ctx, s.ID, store.Identity{Kind: "user", ID: "kept"}); err != nil || u.Events != 1 {
		t.Errorf("the other user: %+v %v", u, err)
	}
}
