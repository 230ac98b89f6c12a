package csvimport_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/csvimport"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

var now = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func openStore(t *testing.T) (*duckstore.DB, store.Site) {
	t.Helper()
	db, err := duckstore.Open(context.Background(), filepath.Join(t.TempDir(), "s.duckdb"),
		duckstore.Options{MemoryLimit: "256MB", Threads: 2}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, _, err := db.CreateSite(context.Background(), "Test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return db, s
}

// TestImportUsers imports a file with a byte-order mark, semicolons,
// quoting (a delimiter and a line break inside a field), a number column
// the catalog already types, a bad number, a row without an ID and a row
// with a field too many; then imports it again.
func TestImportUsers(t *testing.T) {
	ctx := context.Background()
	db, site := openStore(t)
	if _, err := db.Write(ctx, []store.Message{{SiteID: site.ID, Kind: store.KindIdentify, UserID: "seed", MessageID: "seed",
		Timestamp: now, ReceivedAt: now, Traits: []attr.Pair{{Key: "ltv", Raw: 1.0}}}}); err != nil {
		t.Fatal(err)
	}
	file := "\ufeffuser_id;plan;ltv;signed_up:datetime;note;zip\n" +
		"ann;pro;120.5;2026-01-02;\"semi; colon\";0150\n" +
		"bob;free;lots;2026-01-03;\"two\nlines\";\n" + // ltv is not a number: that cell alone is refused
		";free;1;;;\n" + // no user ID
		"cy;free;1;;;;extra\n" + // a field too many
		"dee;team;;not a date;;\n"
	import1 := func() csvimport.Report {
		t.Helper()
		rep, err := csvimport.Users(ctx, db, site.ID, strings.NewReader(file), csvimport.Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := import1()
	t.Logf("report: %+v", rep)
	if rep.Delimiter != ";" || rep.Rows != 5 || rep.Applied != 3 || rep.RejectedRows != 2 || rep.RejectedCells != 2 {
		t.Errorf("report = %+v", rep)
	}
	want := map[string]bool{"line 3 ltv": false, "line 5 row": false, "line 6 row": false, "line 7 signed_up": false}
	for _, r := range rep.Rejections {
		k := "line " + itoa(r.Line) + " " + r.Column
		if r.Column == "" {
			k = "line " + itoa(r.Line) + " row"
		}
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected rejection %+v", r)
		}
		want[k] = true
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("no rejection at %s in %+v", k, rep.Rejections)
		}
	}
	u, err := db.User(ctx, site.ID, store.Identity{Kind: "user", ID: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]attr.Value{}
	for _, a := range u.Attributes {
		got[a.Key] = a.Value
	}
	if got["plan"].Str != "pro" || got["ltv"].Num != 120.5 || got["note"].Str != "semi; colon" || got["zip"].Str != "0150" ||
		got["signed_up"].Type != attr.Datetime {
		t.Errorf("ann = %+v", got)
	}
	b, _ := db.User(ctx, site.ID, store.Identity{Kind: "user", ID: "bob"})
	for _, a := range b.Attributes {
		if a.Key == "ltv" {
			t.Errorf("bob's refused ltv was stored: %+v", a)
		}
		if a.Key == "note" && a.Value.Str != "two\nlines" {
			t.Errorf("bob's note = %q", a.Value.Str)
		}
	}
	hist := func() int {
		h, err := db.History(ctx, site.ID, store.Identity{Kind: "user", ID: "ann"}, "")
		if err != nil {
			t.Fatal(err)
		}
		return len(h)
	}
	before := hist()
	if before != 5 {
		t.Errorf("ann's history has %d changes, want 5 (one a key)", before)
	}
	if rep.Changed != 9 {
		t.Errorf("the import changed %d values, want 9", rep.Changed)
	}
	again := import1()
	if again.Changed != 0 || hist() != before {
		t.Errorf("re-import: %+v; history %d → %d", again, before, hist())
	}
	// A changed value is one more change in the history, and only it.
	rep, err = csvimport.Users(ctx, db, site.ID, strings.NewReader("user_id,plan,ltv\nann,team,120.5\n"), csvimport.Options{})
	if err != nil || rep.Changed != 1 || hist() != before+1 {
		t.Errorf("changing ann's plan: %+v %v; history %d → %d", rep, err, before, hist())
	}
}

// TestImportCompanies imports company attributes: a company known from a
// group call gets its values (seen on its user's profile), a new one is
// created, a cell of the wrong type is refused with its line, a row
// without an ID is refused, and a re-import changes nothing.
func TestImportCompanies(t *testing.T) {
	ctx := context.Background()
	db, site := openStore(t)
	if _, err := db.Write(ctx, []store.Message{{SiteID: site.ID, Kind: store.KindGroup, UserID: "ann", GroupID: "acme", MessageID: "g1",
		Timestamp: now, ReceivedAt: now, Traits: []attr.Pair{{Key: "seats", Raw: 3.0}}}}); err != nil {
		t.Fatal(err)
	}
	file := "company_id,name,seats,plan:string\nacme,Acme Inc,12,enterprise\nglobex,Globex,many,team\n,Nobody,1,free\n"
	imp := func() csvimport.Report {
		t.Helper()
		rep, err := csvimport.Companies(ctx, db, site.ID, strings.NewReader(file), csvimport.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := imp()
	t.Logf("report: %+v", rep)
	if rep.Rows != 3 || rep.Applied != 2 || rep.RejectedRows != 1 || rep.RejectedCells != 1 || rep.Changed != 5 ||
		len(rep.Rejections) != 2 || rep.Rejections[0].Line != 3 || rep.Rejections[0].Column != "seats" {
		t.Errorf("report = %+v", rep)
	}
	u, err := db.User(ctx, site.ID, store.Identity{Kind: "user", ID: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Groups) != 1 {
		t.Fatalf("ann's companies: %+v", u.Groups)
	}
	got := map[string]attr.Value{}
	for _, a := range u.Groups[0].Attributes {
		got[a.Key] = a.Value
	}
	if got["name"].Str != "Acme Inc" || got["seats"].Num != 12 || got["plan"].Str != "enterprise" {
		t.Errorf("acme = %+v", got)
	}
	if again := imp(); again.Changed != 0 || again.Applied != 2 {
		t.Errorf("re-import: %+v", again)
	}
	if _, err := csvimport.Companies(ctx, db, site.ID, strings.NewReader("user_id,name\nx,y\n"), csvimport.Options{}); !errors.Is(err, csvimport.ErrHeader) {
		t.Errorf("a file without a company ID column: %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
