package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// loopbackClient is the HTTP client of a run: keep-alive connections to
// loopback addresses only, at most one per worker.
type loopbackClient struct {
	client    *http.Client
	transport *http.Transport
	dials     atomic.Int64 // connections opened
}

func newLoopbackClient(cfg Config) *loopbackClient {
	c := &loopbackClient{}
	dialer := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   loopbackOnly,
	}
	c.transport = &http.Transport{
		Proxy: nil, // never route through a proxy from the environment
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err == nil {
				c.dials.Add(1)
			}
			return conn, err
		},
		MaxIdleConns:          cfg.Concurrency,
		MaxIdleConnsPerHost:   cfg.Concurrency,
		MaxConnsPerHost:       cfg.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
		DisableCompression:    true,
	}
	c.client = &http.Client{
		Transport: c.transport,
		Timeout:   cfg.Timeout,
		// A redirect could point anywhere: report it as the answer instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// loopbackOnly refuses, at dial time, any address that is not loopback,
// whatever a host name resolved to.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("dial %s: %w", address, ErrNotLoopback)
	}
	return nil
}

// pending is a body and the transport's hold on it: a body is stamped again
// only once the transport has closed the reader of its previous send.
type pending struct {
	body     *Body
	inFlight sync.WaitGroup
}

func (p *pending) waitIdle() { p.inFlight.Wait() }

// bodyReader reads a body and tells its pending when the transport is done.
type bodyReader struct {
	bytes.Reader
	once sync.Once
	done func()
}

// Close releases the body for stamping. The transport may call it more than
// once.
func (r *bodyReader) Close() error {
	r.once.Do(r.done)
	return nil
}

// outcome is the result of one request.
type outcome struct {
	status     int // 0 when err is set
	err        error
	end        time.Time
	latency    time.Duration
	retryAfter time.Duration // negative when the server did not say
	confirmed  bool          // the body said "success":true
	snippet    string        // the start of a refusal's body
}

// retryable reports whether the same batch should be sent again.
func (o outcome) retryable() bool {
	return o.err != nil || o.status == http.StatusTooManyRequests || o.status >= 500
}

// maxResponse bounds how much of a response is kept; the rest is drained so
// the connection can be reused.
const maxResponse = 64 << 10

// send posts p's body once and waits for the whole response.
func (r *runner) send(ctx context.Context, p *pending) outcome {
	p.waitIdle()
	p.inFlight.Add(1)
	br := &bodyReader{done: p.inFlight.Done}
	br.Reset(p.body.Bytes())
	start := time.Now()
	endpoint := r.endpoints[int(r.next.Add(1))%len(r.endpoints)]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, br)
	if err != nil {
		br.Close()
		return outcome{err: fmt.Errorf("make request: %w", err), end: time.Now(), retryAfter: -1}
	}
	req.ContentLength = int64(br.Len())
	req.Header.Set("Authorization", r.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sightline-load")

	resp, err := r.http.client.Do(req)
	if err != nil {
		end := time.Now()
		return outcome{err: err, end: end, latency: end.Sub(start), retryAfter: -1}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	end := time.Now()
	out := outcome{status: resp.StatusCode, end: end, latency: end.Sub(start), retryAfter: -1}
	if err != nil {
		// Without the whole answer the batch may or may not be committed.
		out.status, out.err = 0, fmt.Errorf("read response: %w", err)
		return out
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var ack struct {
			Success bool `json:"success"`
		}
		out.confirmed = json.Unmarshal(data, &ack) == nil && ack.Success
		return out
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), end); ok {
		out.retryAfter = d
	}
	out.snippet = strings.TrimSpace(string(data[:min(len(data), 300)]))
	return out
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date
// (RFC 9110, section 10.2.3). A date in the past means now.
func parseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n < 0 || n > 24*3600 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
