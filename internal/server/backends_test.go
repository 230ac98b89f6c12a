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

// forBackends runs a scenario twice: on the embedded store alone, and
// with the control data in PostgreSQL (serve --postgres), where every
// server the scenario starts gets a fresh database.
func forBackends(t *testing.T, scenario func(t *testing.T)) {
	t.Run("embedded", scenario)
	t.Run("postgres", scenario)
}

// onPostgres reports whether t is the PostgreSQL run of forBackends (or
// a subtest of it).
func onPostgres(t testing.TB) bool {
	name := t.Name() + "/"
	return strings.Contains(name, "/postgres/")
}
