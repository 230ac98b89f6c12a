// Package loadgen drives a Sightline server with Segment batches, as fast as
// it acknowledges them, and reports what it acknowledged.
//
// Request bodies are rendered before the clock starts and only stamped with
// new IDs, users and times before each send, so that the generator takes
// little of the CPU it shares with the server. It only ever connects to
// loopback addresses.
package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Config is what a run does. Start from DefaultConfig and set URL and
// WriteKey, which have no default.
type Config struct {
	// URL is the server's base URL (http://127.0.0.1:8080) or its full
	// /v1/batch URL; several, separated by commas, take the requests in
	// turn (the nodes of a scaled deployment behind no load balancer).
	URL string
	// WriteKey is the site's write key, sent as the Basic auth user name.
	WriteKey string
	// Warmup is sent but not counted; Duration is measured after it.
	Warmup   time.Duration
	Duration time.Duration
	// Concurrency is the number of workers, each with one keep-alive
	// connection and at most one request in flight.
	Concurrency int
	// MaxRequests, if positive, stops the run after that many HTTP requests,
	// retries and warmup included.
	MaxRequests int64
	// Timeout bounds one request, from dial to the end of the response.
	Timeout time.Duration
	// Bodies is the number of distinct bodies rendered for each worker.
	Bodies int
	// Seed determines the rendered bodies and the users drawn. Message IDs
	// are unique whatever it is.
	Seed uint64
	// Mix sets the batch size, users and message types.
	Mix MessageMix
}

// DefaultConfig returns the defaults: 8 connections sending batches of 100
// messages for 20s after a 3s warmup.
func DefaultConfig() Config {
	return Config{
		Warmup:      3 * time.Second,
		Duration:    20 * time.Second,
		Concurrency: 8,
		Timeout:     30 * time.Second,
		Bodies:      16,
		Seed:        1,
		Mix: MessageMix{
			Batch:     100,
			Users:     100_000,
			Identify:  0.05,
			Page:      0.35,
			Anonymous: 0.2,
		},
	}
}

// ErrNotLoopback is returned for a target that is not a loopback address.
var ErrNotLoopback = errors.New("target is not a loopback address")

// segmentBatchLimit is the largest batch body Segment accepts; servers that
// follow it may answer 413 above it.
const segmentBatchLimit = 500 << 10

// endpoints validates c and returns the URLs to post batches to.
func (c Config) endpoints() ([]string, error) {
	var out []string
	for _, u := range strings.Split(c.URL, ",") {
		one := c
		one.URL = strings.TrimSpace(u)
		e, err := one.endpoint()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// endpoint validates c and returns the URL to post batches to.
func (c Config) endpoint() (string, error) {
	if c.WriteKey == "" {
		return "", errors.New("no write key")
	}
	switch {
	case c.Duration <= 0:
		return "", errors.New("duration must be positive")
	case c.Warmup < 0:
		return "", errors.New("warmup must not be negative")
	case c.Concurrency < 1 || c.Concurrency > 1024:
		return "", errors.New("concurrency must be between 1 and 1024")
	case c.Mix.Batch < 1:
		return "", errors.New("batch must be at least 1")
	case c.Mix.Users < 1:
		return "", errors.New("users must be at least 1")
	case c.Mix.Identify < 0 || c.Mix.Page < 0 || c.Mix.Identify+c.Mix.Page > 1:
		return "", errors.New("identify and page fractions must be between 0 and 1 and add up to at most 1")
	case c.Mix.Anonymous < 0 || c.Mix.Anonymous > 1:
		return "", errors.New("anonymous fraction must be between 0 and 1")
	case c.Bodies < 1:
		return "", errors.New("bodies must be at least 1")
	case c.Timeout <= 0:
		return "", errors.New("timeout must be positive")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return "", fmt.Errorf("parse url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("url %q: scheme must be http or https", c.URL)
	}
	if !loopbackHost(u.Hostname()) {
		return "", fmt.Errorf("url %q: %w", c.URL, ErrNotLoopback)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("url %q: give a plain base URL, with the key in -key", c.URL)
	}
	if !strings.HasSuffix(u.Path, "/v1/batch") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/batch"
	}
	return u.String(), nil
}

// loopbackHost reports whether host names the local machine: a loopback IP
// literal or localhost. Dialing checks the resolved address again.
func loopbackHost(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}
