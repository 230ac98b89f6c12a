package server_test

import (
	"os"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/testsvc"
)

// One PostgreSQL server for the whole test binary, started by the first
// test that asks for a database.
func TestMain(m *testing.M) { os.Exit(testsvc.Run(m)) }

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
