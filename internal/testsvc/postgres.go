package testsvc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres returns the DSN (postgres://…, for pgx v5) of a new database on
// a PostgreSQL server started for the test binary, dropped when the test
// ends. See the package comment for sharing and skipping.
func Postgres(t testing.TB) string {
	t.Helper()
	srv := serverFor(t, "PostgreSQL", "ensure-postgres.sh", startPostgres)
	name := databaseName()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := postgresExec(ctx, srv.dsn, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create PostgreSQL database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := postgresExec(ctx, srv.dsn, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop PostgreSQL database: %v", err)
		}
	})
	return withPath(srv.dsn, name)
}

// startPostgres starts a PostgreSQL server, or returns the external one
// named by SIGHTLINE_TEST_POSTGRES.
func startPostgres() (*server, error) {
	if dsn := os.Getenv("SIGHTLINE_TEST_POSTGRES"); dsn != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := postgresPing(ctx, dsn); err != nil {
			return nil, fmt.Errorf("SIGHTLINE_TEST_POSTGRES: %w", err)
		}
		return &server{kind: "PostgreSQL", dsn: dsn}, nil
	}
	// Debian keeps the server's programs in /usr/lib/postgresql/<major>/bin,
	// outside PATH.
	initdb, err := findProgram("initdb", "/usr/lib/postgresql/*/bin/initdb")
	if err != nil {
		return nil, err
	}
	postgres, err := findProgram(filepath.Join(filepath.Dir(initdb), "postgres"), "postgres")
	if err != nil {
		return nil, err
	}
	owner, err := serverUser()
	if err != nil {
		return nil, err
	}
	return retry(func() (*server, error) { return launchPostgres(initdb, postgres, owner) })
}

// osUser is the account the server runs as; nil for the current one.
type osUser struct {
	name     string
	uid, gid uint32
}

// serverUser returns who runs the server: PostgreSQL refuses to run as
// root, so root runs it as the postgres account Debian's package creates,
// else as nobody.
func serverUser() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 == nil && err2 == nil {
			return &osUser{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
		}
	}
	return nil, fmt.Errorf("PostgreSQL refuses to run as root, and there is no postgres or nobody account to run it as")
}

// launchPostgres initialises a cluster in a temporary folder and runs
// postgres on it in the foreground. The folder is not t.TempDir(): the
// server outlives the first test under Run, and when run as another
// account it needs a folder that account owns and can reach.
func launchPostgres(initdb, postgres string, owner *osUser) (*server, error) {
	dir, err := os.MkdirTemp("", "sightline-postgres-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if owner != nil {
		if err := os.Chown(dir, int(owner.uid), int(owner.gid)); err != nil {
			return fail(err)
		}
	}
	data := filepath.Join(dir, "data")
	// Durability is not wanted in tests: no fsync at initdb or later.
	cmd := exec.Command(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	runAs(cmd, owner)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v: %s", err, out))
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	cmd = exec.Command(postgres, "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	runAs(cmd, owner)
	dsn := "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/postgres?sslmode=disable&connect_timeout=2"
	srv, err := launch("PostgreSQL", dir, filepath.Join(dir, "server.out"), cmd,
		func(ctx context.Context) error { return postgresPing(ctx, dsn) }, 60*time.Second)
	if err != nil {
		return fail(err)
	}
	srv.addr, srv.dsn = "127.0.0.1:"+strconv.Itoa(port), dsn
	return srv, nil
}

func postgresPing(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

func postgresExec(ctx context.Context, dsn, query string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, query)
	return err
}

// StartPostgres starts a PostgreSQL server of its own, as the tests get
// one, for the benchmark tools (make bench-ingest BACKEND=clickhouse): it
// returns the DSN of its default database and a function that stops it
// and removes its folder.
func StartPostgres() (dsn string, stop func() error, err error) {
	srv, err := startPostgres()
	if errors.Is(err, errMissing) {
		return "", nil, fmt.Errorf("PostgreSQL %w: scripts/ensure-postgres.sh installs it", err)
	}
	if err != nil {
		return "", nil, err
	}
	return srv.dsn, srv.stop, nil
}
