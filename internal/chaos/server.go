package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// origin is the allowed origin of the sites the scenarios create: the
// browser endpoints want it in the Origin header.
const origin = "https://app.example.com"

// site is a site made through the CLI, with a read token.
type site struct {
	ID       string `json:"id"`
	WriteKey string `json:"write_key"`
	Token    string `json:"-"`
}

// createSite makes a site and a read token in data with the CLI, while no
// server runs.
func (e *env) createSite(ctx context.Context, data, name string) (site, error) {
	var s site
	if err := e.cli(ctx, &s, "site", "create", name, "--origin", origin, "--data", data, "--json"); err != nil {
		return s, err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := e.cli(ctx, &tok, "token", "create", "--site", s.ID, "--scope", "read", "--data", data, "--json"); err != nil {
		return s, err
	}
	s.Token = tok.Token
	if s.ID == "" || s.WriteKey == "" || s.Token == "" {
		return s, fmt.Errorf("the CLI gave no site ID, write key or token")
	}
	return s, nil
}

// cli runs the sightline CLI and decodes its JSON output into v.
func (e *env) cli(ctx context.Context, v any, args ...string) error {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, e.cfg.Bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("sightline %s %s: %w: %s", args[0], args[1], err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		return fmt.Errorf("sightline %s %s: %w in %q", args[0], args[1], err, stdout.Bytes())
	}
	return nil
}

// server is a running `sightline serve` process.
type server struct {
	cmd     *exec.Cmd
	url     string
	logPath string
	done    chan struct{} // closed once the process has exited
	err     error         // from Wait, once done is closed
}

// startTimeout bounds a start, WAL replay included.
const startTimeout = 60 * time.Second

// start runs `sightline serve` on data at a free loopback port and waits
// until it is ready; it returns how long that took. extra are more flags.
func (e *env) start(ctx context.Context, data string, extra ...string) (*server, time.Duration, error) {
	var lastErr error
	for range 3 { // the free port may be taken between finding and using it
		s, took, err := e.startOnce(ctx, data, extra)
		if err == nil {
			return s, took, nil
		}
		lastErr = err
		if !errors.Is(err, errExited) {
			break
		}
	}
	return nil, 0, lastErr
}

var errExited = errors.New("the server exited while starting")

func (e *env) startOnce(ctx context.Context, data string, extra []string) (*server, time.Duration, error) {
	addr, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	e.runs++
	logPath := filepath.Join(e.dir, fmt.Sprintf("server-%d.log", e.runs))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, 0, fmt.Errorf("create the server log: %w", err)
	}
	args := append([]string{"serve", "--addr", addr, "--data", data, "--log-format", "json",
		"--shutdown-timeout", "20s"}, extra...)
	cmd := exec.Command(e.cfg.Bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childAttr()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, 0, fmt.Errorf("start the server: %w", err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, logPath: logPath, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	took, err := s.waitReady(ctx, startTimeout)
	if err != nil {
		s.kill()
		return nil, 0, fmt.Errorf("%w (log %s: %s)", err, logPath, tail(logPath, 600))
	}
	e.log.Info("server ready", "url", s.url, "took", took.Round(time.Millisecond), "log", logPath)
	return s, time.Since(start), nil
}

// waitReady polls /readyz (or /healthz, where there is no /readyz) until
// it answers 200.
func (s *server) waitReady(ctx context.Context, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: loopbackDialer(nil).DialContext}}
	defer client.CloseIdleConnections()
	path := "/readyz"
	for {
		resp, err := client.Get(s.url + path)
		if err == nil {
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusOK:
				return time.Since(start), nil
			case resp.StatusCode == http.StatusNotFound && path == "/readyz":
				path = "/healthz"
				continue
			}
		}
		select {
		case <-s.done:
			return 0, fmt.Errorf("%w: %v", errExited, s.err)
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Since(start) > limit {
			return 0, fmt.Errorf("not ready within %v", limit)
		}
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (s *server) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// stop sends SIGTERM and waits up to limit for an exit, then kills. It
// reports an unclean or late exit.
func (s *server) stop(limit time.Duration) error {
	select {
	case <-s.done:
		return fmt.Errorf("the server had already exited: %v", s.err)
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if s.err != nil {
			return fmt.Errorf("the server exited with %v after SIGTERM%s", s.err, lastError(s.logPath))
		}
		return nil
	case <-time.After(limit):
		s.kill()
		return fmt.Errorf("the server did not exit within %v of SIGTERM; killed", limit)
	}
}

// exited reports whether the process has ended.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// lastError returns ": " and the message and error of the last ERROR line
// of a server's JSON log, or "".
func lastError(logPath string) string {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		var l struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Err   string `json:"err"`
		}
		if json.Unmarshal(lines[i], &l) == nil && l.Level == "ERROR" {
			msg := l.Msg + ": " + l.Err
			if len(msg) > 300 {
				msg = msg[:300] + "…"
			}
			return " (last error logged: " + msg + ")"
		}
	}
	return ""
}

// freePort returns a loopback address nobody listens on.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// tail returns the end of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}

// loopbackDialer dials loopback addresses only, from local when set.
func loopbackDialer(local net.Addr) *net.Dialer {
	return &net.Dialer{Timeout: 5 * time.Second, LocalAddr: local, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("dial %s: not a loopback address", address)
		}
		return nil
	}}
}

// newClient returns an HTTP client for conns concurrent requests to
// loopback, each bounded by timeout.
func newClient(conns int, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         loopbackDialer(nil).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		DisableCompression:  false,
	}}
}
