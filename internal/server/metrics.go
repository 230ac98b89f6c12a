package server

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sightline/sightline/internal/apierr"
)

// Metrics are served on a listener of their own (--metrics-addr, loopback
// by default), so that the public port does not show them; and, when
// --metrics-token is set, also on the main port at GET /metrics to a
// bearer of the token, for a scraper that can only reach that port.

// metricsOff reports whether a --metrics-addr turns the listener off.
func metricsOff(addr string) bool { return addr == "" || strings.EqualFold(addr, "off") }

// listenMetrics starts listening for the metrics' own server; both are nil
// when addr turns it off.
func listenMetrics(addr string, reg *prometheus.Registry, log *slog.Logger) (*http.Server, net.Listener, error) {
	if metricsOff(addr) {
		return nil, nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen for metrics on %s (set --metrics-addr to another address, or off): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: withHeaders(mux), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	return srv, ln, nil
}

// bearerMetrics serves the metrics to requests that carry token as a
// bearer token, and 401 to others.
func bearerMetrics(token string, reg *prometheus.Registry, log *slog.Logger) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			apierr.Write(w, log, &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "send the metrics token as a bearer token"})
			return
		}
		h.ServeHTTP(w, r)
	})
}
