package server_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/testsvc"
)

// TestMain shares one server of each kind (PostgreSQL, ClickHouse)
// between the tests, started by the first that asks, and runs one
// shard of them when SIGHTLINE_SERVER_SHARD says so (make test runs this
// package as two processes side by side: scripts/test.sh).
func TestMain(m *testing.M) {
	if err := testsvc.Shard("SIGHTLINE_SERVER_SHARD"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(testsvc.Run(m))
}

// forBackends runs a scenario on each backend: the embedded store alone;
// the control data in PostgreSQL (serve --postgres); and the analytics in
// ClickHouse beside it (serve --clickhouse --postgres). Every server the
// scenario starts gets fresh databases and folders, so the runs go side
// by side (up to -parallel at once): they mostly wait on disks and
// services, and this package's time is make test's longest.
func forBackends(t *testing.T, scenario func(t *testing.T)) {
	for _, backend := range []string{"embedded", "postgres", "clickhouse"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			scenario(t)
		})
	}
}

// onPostgres reports whether t is a run of forBackends (or a subtest of
// one) with the control data in PostgreSQL: the PostgreSQL run or the
// ClickHouse one.
func onPostgres(t testing.TB) bool {
	name := t.Name() + "/"
	return strings.Contains(name, "/postgres/") || onClickHouse(t)
}

// onClickHouse reports whether t is the ClickHouse run of forBackends (or
// a subtest of it).
func onClickHouse(t testing.TB) bool {
	return strings.Contains(t.Name()+"/", "/clickhouse/")
}
