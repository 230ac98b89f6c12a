package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/store/pgstore"
	"github.com/sightline/sightline/internal/testsvc"
)

// controlTables are the tables `migrate --postgres` copies: each is
// compared on both sides after the copy.
var controlTables = []string{"sites", "tokens", "accounts", "account_sessions", "invites", "segments", "surveys",
	"feedback_settings", "recording_settings", "recordings", "alert_config", "alert_messages", "alert_attempts",
	"alert_destination_state", "alert_members", "audit_log", "insights", "annotations", "experiments", "site_retention"}

// A demo data folder, with control data of every kind added, moves into
// PostgreSQL with every control table's count equal and the site IDs
// kept; running it again keeps the copy; --check compares; a target that
// lost a row fails the check, and one holding other data is refused.
func TestMigrateControlDataToPostgres(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run([]string{"demo", "--data", dir, "--users", "200"}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s", err, errOut.String())
	}
	addControlData(t, dir)
	dsn := testsvc.Postgres(t)
	migrateRun := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(append([]string{"migrate", "--data", dir}, args...), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	start := time.Now()
	got, err := migrateRun("--postgres", dsn)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, got)
	}
	t.Logf("migrate --postgres took %s, printed:\n%s", time.Since(start).Round(time.Millisecond), got)
	for _, table := range controlTables {
		if !regexp.MustCompile(`(?m)^migrate: ` + table + ` +\d+ rows in `).MatchString(got) {
			t.Errorf("no progress line for %s", table)
		}
		if !regexp.MustCompile(`(?m)^control data +` + table + ` +\d+ +\d+  ok$`).MatchString(got) {
			t.Errorf("no ok count for %s", table)
		}
	}
	if !strings.Contains(got, "every count matches") {
		t.Fatalf("migrate printed:\n%s", got)
	}

	// Independently of the command: every table has rows, as many on
	// both sides, and the sites kept their IDs.
	ctx := context.Background()
	src, err := duckstore.Open(ctx, filepath.Join(dir, "sightline.duckdb"), duckstore.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, table := range controlTables {
		var a, b int64
		if err := src.SQL().QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&a); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if a == 0 || a != b {
			t.Errorf("%s: %d rows in the folder, %d in PostgreSQL (want equal and more than 0)", table, a, b)
		}
	}
	sites := src.Sites(ctx)
	src.Close()
	pg, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var maxID int64
	for _, s := range sites {
		p, err := pg.Site(ctx, s.PublicID)
		if err != nil || p.ID != s.ID || p.Name != s.Name || len(p.Origins) != len(s.Origins) {
			t.Errorf("site %s in PostgreSQL: %+v %v, want %+v", s.PublicID, p, err, s)
		}
		if wk, err := pg.SiteByWriteKey(ctx, mustWriteKey(t, dir, s.ID)); err != nil || wk.ID != s.ID {
			t.Errorf("site %d's write key in PostgreSQL: %+v %v", s.ID, wk, err)
		}
		maxID = max(maxID, s.ID)
	}
	// The sequence moved past the copied IDs.
	next, _, err := pg.CreateSite(ctx, "After the move", nil)
	if err != nil || next.ID != maxID+1 {
		t.Errorf("a site created after the move: %+v %v, want ID %d", next, err, maxID+1)
	}
	pg.Close()

	// A new site in PostgreSQL: the target is no longer this folder's copy.
	if got, err := migrateRun("--postgres", dsn); err == nil || !strings.Contains(got, "DIFFERS") {
		t.Errorf("migrate into a database holding other data: %v\n%s", err, got)
	}
	if _, err := conn.Exec(ctx, "DELETE FROM sites WHERE name = 'After the move'"); err != nil {
		t.Fatal(err)
	}
	// Again: the copy is there, kept as it is.
	if got, err := migrateRun("--postgres", dsn); err != nil || !strings.Contains(got, "already copied") {
		t.Errorf("second migrate: %v\n%s", err, got)
	}
	if got, err := migrateRun("--postgres", dsn, "--check"); err != nil || !strings.Contains(got, "every count matches") {
		t.Errorf("migrate --check: %v\n%s", err, got)
	}
	if _, err := conn.Exec(ctx, "DELETE FROM tokens WHERE id IN (SELECT id FROM tokens LIMIT 1)"); err != nil {
		t.Fatal(err)
	}
	if got, err := migrateRun("--postgres", dsn, "--check"); err == nil || !regexp.MustCompile(`(?m)^control data +tokens .*DIFFERS$`).MatchString(got) {
		t.Errorf("migrate --check after a token was lost: %v\n%s", err, got)
	}
}

// mustWriteKey reads a site's write key from the folder's database.
func mustWriteKey(t *testing.T, dir string, site int64) string {
	t.Helper()
	db, err := duckstore.Open(context.Background(), filepath.Join(dir, "sightline.duckdb"), duckstore.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, err := db.WriteKey(context.Background(), site)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// addControlData gives a folder a row in each control table the demo
// leaves empty.
func addControlData(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(dir, "sightline.duckdb"), duckstore.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site := db.Sites(ctx)[0].ID
	now := time.Now().UTC()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	acc := store.Account{ID: "acc_owner", Email: "owner@example.com", Name: "Owner", Role: store.RoleOwner, CreatedAt: now}
	must("account", db.CreateAccount(ctx, acc, "hash"))
	must("member", db.CreateAccount(ctx, store.Account{ID: "acc_member", Email: "m@example.com", Name: "M",
		Role: store.RoleMember, SiteIDs: []int64{site}, CreatedAt: now}, "hash"))
	must("session", db.CreateSession(ctx, store.BrowserSession{IDHash: "h1", AccountID: acc.ID, CreatedAt: now,
		ExpiresAt: now.Add(time.Hour), LastSeenAt: now}))
	must("invite", db.CreateInvite(ctx, store.Invite{ID: "inv_1", Email: "new@example.com", Role: store.RoleViewer,
		SiteIDs: []int64{site}, CreatedBy: acc.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, "tokhash"))
	_, _, err = db.CreateNamedToken(ctx, site, store.ScopeRead, "CI")
	must("token", err)
	must("alert config", db.SaveAlertConfig(ctx, site, []byte(`{"rules":[]}`), []string{store.CauseFeedback}))
	must("alert message", db.ResolveAlerts(ctx, nil, []store.AlertMessage{{ID: "msg_1", SiteID: site, RuleID: "rule_1",
		DestinationID: "dst_1", Type: "feedback.new", Summary: "s", Body: []byte(`{}`), Status: "pending", CreatedAt: now, NextAt: now}},
		[]store.AlertMember{{RuleID: "rule_1", UserKey: 7, In: true}}))
	must("alert attempt", db.FinishAttempt(ctx, store.AlertAttempt{MessageID: "msg_1", SiteID: site, DestinationID: "dst_1",
		Attempt: 1, At: now, Status: 500, Error: "boom"},
		store.AlertMessage{ID: "msg_1", SiteID: site, RuleID: "rule_1", DestinationID: "dst_1", Type: "feedback.new",
			Summary: "s", Body: []byte(`{}`), Status: "pending", Attempts: 1, CreatedAt: now, NextAt: now.Add(time.Minute)},
		store.DestinationState{Failures: 1}))
	must("audit", db.AddAudit(ctx, store.AuditEntry{ID: "aud_1", At: now, Actor: "owner@example.com", Action: "POST /x", Status: 200}))
	_, err = db.SaveInsight(ctx, store.SavedInsight{SiteID: site, Name: "Trend", Kind: "trend", Definition: []byte(`{}`), Author: "o"})
	must("insight", err)
	_, err = db.AddAnnotation(ctx, store.Annotation{SiteID: site, Day: now.Format(time.DateOnly), Text: "Deploy", Source: "api"})
	must("annotation", err)
	_, err = db.SaveExperiment(ctx, store.SavedExperiment{SiteID: site, Name: "E", Definition: []byte(`{}`)})
	must("experiment", err)
	_, err = db.SetRetention(ctx, site, store.Retention{EventsDays: 400})
	must("retention", err)
	must("feedback settings", db.SaveFeedbackSettings(ctx, site, []byte(`{"enabled":true}`)))
	_, err = db.SetRecordingSettings(ctx, site, store.RecordingSettings{Enabled: true, SampleRate: 1, DailyQuota: 100, RetentionDays: 30})
	must("recording settings", err)

}
