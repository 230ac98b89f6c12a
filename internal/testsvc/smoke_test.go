package testsvc_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/testsvc"
)

func TestMain(m *testing.M) { os.Exit(testsvc.Run(m)) }

// row is what both smoke tests write and read back.
type row struct {
	site int64
	name string
	at   time.Time
}

var rows = []row{
	{1, "signup", time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
	{1, "buy", time.Date(2024, 5, 1, 10, 5, 0, 0, time.UTC)},
	{2, "é ü ✓", time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)},
}

// TestClickHouse connects with clickhouse-go over the native protocol,
// inserts a batch (with the explicit column list 18.16 needs) and reads it
// back, through the driver's own API and through database/sql.
func TestClickHouse(t *testing.T) {
	t.Parallel()
	start := time.Now()
	dsn := testsvc.ClickHouse(t)
	t.Logf("ClickHouse ready in %s", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	v, err := conn.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ClickHouse %d.%d.%d", v.Version.Major, v.Version.Minor, v.Version.Patch)

	if err := conn.Exec(ctx, `CREATE TABLE events (site_id Int64, name String, ts DateTime('UTC'), extra UInt8 DEFAULT 7)
		ENGINE = MergeTree ORDER BY (site_id, ts)`); err != nil {
		t.Fatal(err)
	}
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO events (site_id, name, ts)")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := batch.Append(r.site, r.name, r.at); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}

	rs, err := conn.Query(ctx, "SELECT site_id, name, ts, extra FROM events ORDER BY ts")
	if err != nil {
		t.Fatal(err)
	}
	var got []row
	for rs.Next() {
		var r row
		var extra uint8
		if err := rs.Scan(&r.site, &r.name, &r.at, &extra); err != nil {
			t.Fatal(err)
		}
		if extra != 7 {
			t.Errorf("extra = %d, want the column's default 7", extra)
		}
		r.at = r.at.UTC()
		got = append(got, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, rows) {
		t.Errorf("read back %v, want %v", got, rows)
	}

	// database/sql with ? arguments, as the segment engine queries.
	db := clickhouse.OpenDB(opts)
	defer db.Close()
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT count() FROM events WHERE site_id = ? AND name IN (?, ?)", int64(1), "buy", "x").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("count = %d, want 1", n)
	}
}

// TestPostgres connects with pgx, inserts with an explicit column list
// (one statement and a COPY) and reads the rows back.
func TestPostgres(t *testing.T) {
	t.Parallel()
	start := time.Now()
	dsn := testsvc.Postgres(t)
	t.Logf("PostgreSQL ready in %s", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL %s", version)

	if _, err := conn.Exec(ctx, `CREATE TABLE events (id bigserial PRIMARY KEY, site_id bigint NOT NULL,
		name text NOT NULL, ts timestamptz NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO events (site_id, name, ts) VALUES ($1, $2, $3)", rows[0].site, rows[0].name, rows[0].at); err != nil {
		t.Fatal(err)
	}
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"site_id", "name", "ts"},
		pgx.CopyFromSlice(len(rows)-1, func(i int) ([]any, error) {
			r := rows[i+1]
			return []any{r.site, r.name, r.at}, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	if copied != int64(len(rows)-1) {
		t.Errorf("copied %d rows, want %d", copied, len(rows)-1)
	}

	rs, err := conn.Query(ctx, "SELECT site_id, name, ts FROM events ORDER BY ts")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.site, &x.name, &x.at)
		x.at = x.at.UTC()
		return x, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, rows) {
		t.Errorf("read back %v, want %v", got, rows)
	}
}

// TestDatabasesAreSeparate checks that two tests on the shared server each
// get a database of their own.
func TestDatabasesAreSeparate(t *testing.T) {
	t.Parallel()
	a, b := testsvc.ClickHouse(t), testsvc.ClickHouse(t)
	if a == b {
		t.Errorf("two ClickHouse DSNs are the same: %s", a)
	}
	p, q := testsvc.Postgres(t), testsvc.Postgres(t)
	if p == q {
		t.Errorf("two PostgreSQL DSNs are the same: %s", p)
	}
}
