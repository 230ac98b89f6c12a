package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// answer is what the server said to one request.
type answer struct {
	status     int    // 0 when err is set
	code       string // a refusal's error code
	body       []byte // a 2xx answer's body
	latency    time.Duration
	retryAfter time.Duration // 0 when not given
	err        error
}

// ok reports a 2xx answer.
func (a answer) ok() bool { return a.err == nil && a.status >= 200 && a.status < 300 }

// retryable reports whether a client should send the same request again.
func (a answer) retryable() bool {
	return a.err != nil || a.status == http.StatusTooManyRequests || a.status >= 500
}

// timedOut reports a request that hit the client's timeout: a hang.
func (a answer) timedOut() bool {
	var ne net.Error
	return a.err != nil && (errors.Is(a.err, context.DeadlineExceeded) || errors.As(a.err, &ne) && ne.Timeout())
}

// kind names the answer for the tallies: "200", "503 storage_unavailable",
// "timeout" or "transport".
func (a answer) kind() string {
	switch {
	case a.timedOut():
		return "timeout"
	case a.err != nil:
		return "transport"
	case a.code != "":
		return strconv.Itoa(a.status) + " " + a.code
	}
	return strconv.Itoa(a.status)
}

// maxAnswer bounds what is kept of an answer.
const maxAnswer = 1 << 20

// do sends req and reads the whole answer.
func do(client *http.Client, req *http.Request) answer {
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err, latency: time.Since(start)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	a := answer{status: resp.StatusCode, latency: time.Since(start)}
	if err != nil {
		// Without the whole answer, the request may or may not have been
		// acknowledged.
		return answer{err: fmt.Errorf("read the answer: %w", err), latency: a.latency}
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		a.retryAfter = time.Duration(s) * time.Second
	}
	if a.ok() {
		a.body = body
		return a
	}
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
		a.code = e.Error.Code
	} else {
		a.code = "no_error_code"
	}
	return a
}

// target is a server and the site the scenario writes to.
type target struct {
	url  string
	site site
}

// batchRequest makes a request posting body to /v1/batch with Basic auth
// as a server library does, or to /t/batch with the key in the address and
// the page's Origin as the tracker does.
func (t target) batchRequest(ctx context.Context, browser bool, body []byte) (*http.Request, error) {
	if browser {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url+"/t/batch?k="+url.QueryEscape(t.site.WriteKey),
			bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		req.Header.Set("Origin", origin)
		req.Header.Set("User-Agent", browserUA)
		return req, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url+"/v1/batch", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "analytics-go (version: 3.3.0)")
	req.SetBasicAuth(t.site.WriteKey, "")
	return req, nil
}

// get reads path of the site's read API into v; it reports false on 404.
func (t target) get(ctx context.Context, client *http.Client, path string, v any) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url+"/api/v1/sites/"+t.site.ID+path, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+t.site.Token)
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return false, nil
	default:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 600))
		return false, fmt.Errorf("GET %s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return false, fmt.Errorf("GET %s: %w", path, err)
	}
	return true, nil
}

// browserUA is the User-Agent of the browser requests.
const browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

// tally counts answers by kind.
type tally map[string]int64

// String lists the kinds, most frequent first: "200×1200, 503 busy×3".
func (t tally) String() string {
	keys := slices.Collect(maps.Keys(t))
	slices.SortFunc(keys, func(a, b string) int {
		if t[a] != t[b] {
			return int(t[b] - t[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, t[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// add adds u's counts to t.
func (t tally) add(u tally) {
	for k, n := range u {
		t[k] += n
	}
}

// count returns the answers whose kind satisfies keep.
func (t tally) count(keep func(kind string) bool) int64 {
	var n int64
	for k, v := range t {
		if keep(k) {
			n += v
		}
	}
	return n
}

// is2xx reports whether an answer's kind is a 2xx status.
func is2xx(kind string) bool { return len(kind) == 3 && kind[0] == '2' }

// percentile returns the p-th percentile (0-100) of ds, sorting ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return -1
	}
	slices.Sort(ds)
	i := int(math.Ceil(float64(len(ds))*p/100)) - 1 // nearest rank
	return ds[min(max(i, 0), len(ds)-1)]
}

// sleepCtx waits d and reports whether ctx is still alive.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
