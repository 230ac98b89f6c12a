package testsvc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ClickHouse returns the DSN (clickhouse://…, for clickhouse-go v2) of a new
// database on a ClickHouse server started for the test binary, dropped when
// the test ends. See the package comment for sharing and skipping.
func ClickHouse(t testing.TB) string {
	t.Helper()
	srv := serverFor(t, "ClickHouse", "ensure-clickhouse.sh", startClickHouse)
	name := databaseName()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := clickHouseExec(ctx, srv.dsn, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create ClickHouse database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := clickHouseExec(ctx, srv.dsn, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop ClickHouse database: %v", err)
		}
	})
	return withPath(srv.dsn, name)
}

// startClickHouse starts a ClickHouse server, or returns the external one
// named by SIGHTLINE_TEST_CLICKHOUSE.
func startClickHouse() (*server, error) {
	if dsn := os.Getenv("SIGHTLINE_TEST_CLICKHOUSE"); dsn != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := clickHousePing(ctx, dsn); err != nil {
			return nil, fmt.Errorf("SIGHTLINE_TEST_CLICKHOUSE: %w", err)
		}
		return &server{kind: "ClickHouse", dsn: dsn}, nil
	}
	// Debian's 18.16 installs clickhouse-server in /usr/sbin, outside a
	// user's PATH; current releases ship one clickhouse program.
	prog, err := findProgram("clickhouse-server", "/usr/sbin/clickhouse-server", "clickhouse")
	if err != nil {
		return nil, err
	}
	return retry(func() (*server, error) { return launchClickHouse(prog) })
}

func launchClickHouse(prog string) (*server, error) {
	dir, err := os.MkdirTemp("", "sightline-clickhouse-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	config := filepath.Join(dir, "config.xml")
	if err := writeClickHouseConfig(dir, port); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var cmd *exec.Cmd
	if filepath.Base(prog) == "clickhouse" {
		cmd = exec.Command(prog, "server", "--config-file="+config)
	} else {
		cmd = exec.Command(prog, "--config-file="+config)
	}
	cmd.Dir = dir
	dsn := "clickhouse://127.0.0.1:" + strconv.Itoa(port) + "/default?dial_timeout=2s"
	srv, err := launch("ClickHouse", dir, filepath.Join(dir, "server.out"), cmd,
		func(ctx context.Context) error { return clickHousePing(ctx, dsn) }, 60*time.Second)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv.addr, srv.dsn = "127.0.0.1:"+strconv.Itoa(port), dsn
	return srv, nil
}

// writeClickHouseConfig writes the smallest configuration 18.16 and current
// releases both accept: the native protocol only (no HTTP or interserver
// port), on loopback, everything under dir, one passwordless user limited
// to loopback, and UTC as the server's time zone. max_threads is 2 because
// 18.16 counts one core on this kind of machine and would use one thread.
func writeClickHouseConfig(dir string, port int) error {
	for _, d := range []string{"data", "tmp", "user_files", "format_schemas", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	config := `<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>` + filepath.Join(dir, "log", "server.log") + `</log>
        <errorlog>` + filepath.Join(dir, "log", "server.err.log") + `</errorlog>
        <console>0</console>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>` + strconv.Itoa(port) + `</tcp_port>
    <path>` + filepath.Join(dir, "data") + `/</path>
    <tmp_path>` + filepath.Join(dir, "tmp") + `/</tmp_path>
    <user_files_path>` + filepath.Join(dir, "user_files") + `/</user_files_path>
    <format_schema_path>` + filepath.Join(dir, "format_schemas") + `/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
`
	users := `<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_threads>2</max_threads>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default></default>
    </quotas>
</yandex>
`
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(config), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "users.xml"), []byte(users), 0o644)
}

func clickHousePing(ctx context.Context, dsn string) error {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return err
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Ping(ctx)
}

func clickHouseExec(ctx context.Context, dsn, query string) error {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return err
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Exec(ctx, query)
}

// withPath returns dsn with its path (the database) replaced by name.
func withPath(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		// Not a URL: a key=value DSN (PostgreSQL's other form).
		return strings.TrimSpace(dsn) + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

// StartClickHouse starts a ClickHouse server of its own, as the tests get
// one, for the benchmark tools (make bench-vs-clickhouse): it returns the
// DSN of its default database and a function that stops it and removes
// its folder. A missing server is reported naming the script that
// installs it.
func StartClickHouse() (dsn string, stop func() error, err error) {
	srv, err := startClickHouse()
	if errors.Is(err, errMissing) {
		return "", nil, fmt.Errorf("ClickHouse %w: scripts/ensure-clickhouse.sh installs it", err)
	}
	if err != nil {
		return "", nil, err
	}
	return srv.dsn, srv.stop, nil
}
