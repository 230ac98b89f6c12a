// Package testsvc gives tests the database servers that Sightline's scaled
// backends run against (issue 19): ClickHouse for analytics and PostgreSQL
// for control data, each a real server process on loopback, never a mock.
//
// ClickHouse(t) and Postgres(t) return the DSN of a database of the test's
// own, created on a server started on a free port in a temporary folder.
// A test package that calls Run from its TestMain shares one server of each
// kind between all its tests (startup is the slow part: seconds, where a
// database takes milliseconds); without Run, each call starts its own
// server and stops it when the test ends.
//
// When a server's programs are not installed the test is skipped with a
// message naming the script that installs them (scripts/ensure-*.sh),
// unless CI=true or SIGHTLINE_REQUIRE_SERVICES=1, which make it fail: CI
// must not pass by skipping the backends. A server that is installed but
// does not start always fails the test.
//
// SIGHTLINE_TEST_CLICKHOUSE and SIGHTLINE_TEST_POSTGRES name a running
// server to use instead (a DSN whose user may create databases), such as a
// current ClickHouse release next to Debian's 18.16.
//
// Only _test files import this package, and the benchmark tool that
// compares with ClickHouse (StartClickHouse).
package testsvc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// errMissing marks a server whose programs are not installed: the test
// skips, unless services are required.
var errMissing = errors.New("not installed")

// Required reports whether a missing server fails the test instead of
// skipping it: in CI (CI=true) or when SIGHTLINE_REQUIRE_SERVICES=1.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("SIGHTLINE_REQUIRE_SERVICES") == "1"
}

// servers holds the servers a test binary shares between its tests, and
// is the package's only state: one test binary, one set of servers. It
// is shared only while Run runs the tests.
var servers = registry{started: map[string]*startOnce{}}

type registry struct {
	mu      sync.Mutex
	shared  bool
	started map[string]*startOnce
	// databases numbers the databases made for tests.
	databases atomic.Int64
}

// startOnce starts one kind of server once and remembers the outcome, so
// that a server that failed to start fails every test quickly.
type startOnce struct {
	once sync.Once
	srv  *server
	err  error
}

// Run runs m's tests with one server of each kind shared between them and
// stops the servers afterwards; it returns m.Run's exit code. Call it from
// the package's TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testsvc.Run(m)) }
func Run(m *testing.M) int {
	servers.mu.Lock()
	servers.shared = true
	servers.mu.Unlock()
	code := m.Run()
	servers.mu.Lock()
	defer servers.mu.Unlock()
	servers.shared = false
	for kind, s := range servers.started {
		if s.srv != nil {
			if err := s.srv.stop(); err != nil {
				fmt.Fprintf(os.Stderr, "testsvc: stop %s: %v\n", kind, err)
			}
		}
		delete(servers.started, kind)
	}
	return code
}

// serverFor returns a running server of a kind for t: the shared one under
// Run, else a new one stopped when t ends. It skips or fails t when the
// server cannot be had.
func serverFor(t testing.TB, kind, script string, start func() (*server, error)) *server {
	t.Helper()
	servers.mu.Lock()
	shared := servers.shared
	var once *startOnce
	if shared {
		once = servers.started[kind]
		if once == nil {
			once = &startOnce{}
			servers.started[kind] = once
		}
	}
	servers.mu.Unlock()

	var srv *server
	var err error
	if shared {
		once.once.Do(func() { once.srv, once.err = start() })
		srv, err = once.srv, once.err
	} else {
		srv, err = start()
		if err == nil {
			t.Cleanup(func() {
				if err := srv.stop(); err != nil {
					t.Errorf("stop %s: %v", kind, err)
				}
			})
		}
	}
	switch {
	case errors.Is(err, errMissing) && !Required():
		t.Skipf("%s: %v; install it with scripts/%s (CI=true or SIGHTLINE_REQUIRE_SERVICES=1 make this a failure)", kind, err, script)
	case errors.Is(err, errMissing):
		t.Fatalf("%s: %v, and CI=true or SIGHTLINE_REQUIRE_SERVICES=1 requires it; install it with scripts/%s", kind, err, script)
	case err != nil:
		t.Fatalf("start %s: %v", kind, err)
	}
	return srv
}

// databaseName returns a new database name for a test, unique within the
// server (the process ID keeps two test binaries on one external server
// apart).
func databaseName() string {
	return "sightline_test_" + strconv.Itoa(os.Getpid()) + "_" + strconv.FormatInt(servers.databases.Add(1), 10)
}

// server is a database server process started for tests.
type server struct {
	kind string
	addr string // host:port on loopback; "" for an external server
	dsn  string // the DSN of its administrative database
	dir  string // the temporary folder it keeps everything in; removed at stop
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // the process's exit status, once done
	log  string        // the file its output goes to
}

// launch starts cmd with its output in logFile and returns it running; ready
// then says whether it accepts work, and is polled until it does, the
// process exits or timeout passes.
func launch(kind, dir, logFile string, cmd *exec.Cmd, ready func(ctx context.Context) error, timeout time.Duration) (*server, error) {
	out, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	s := &server{kind: kind, dir: dir, cmd: cmd, done: make(chan struct{}), log: logFile}
	go func() {
		s.err = cmd.Wait()
		out.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = ready(ctx)
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited before it was ready (%v): %s", kind, s.err, tail(logFile))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready after %s (%v): %s", kind, timeout, err, tail(logFile))
		}
	}
}

// stop ends the server (SIGTERM, then SIGKILL after 10 s) and removes its
// folder.
func (s *server) stop() error {
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
	return os.RemoveAll(s.dir)
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now. The
// server is started on it right after; a server that lost the race exits,
// and the start is tried again.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// retry runs start up to three times while it fails for another reason
// than a missing program, such as a port taken in between.
func retry(start func() (*server, error)) (*server, error) {
	var err error
	for range 3 {
		var s *server
		if s, err = start(); err == nil || errors.Is(err, errMissing) {
			return s, err
		}
	}
	return nil, err
}

// tail returns the end of a log file, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// findProgram returns the first of the candidates that exists: a name
// looked up in PATH, or an absolute path (which may hold a glob, the
// highest match winning).
func findProgram(candidates ...string) (string, error) {
	for _, c := range candidates {
		if !filepath.IsAbs(c) {
			if p, err := exec.LookPath(c); err == nil {
				return p, nil
			}
			continue
		}
		matches, _ := filepath.Glob(c)
		for i := len(matches) - 1; i >= 0; i-- {
			if st, err := os.Stat(matches[i]); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				return matches[i], nil
			}
		}
	}
	return "", fmt.Errorf("%s %w", candidates[0], errMissing)
}
