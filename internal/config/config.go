// Package config holds Sightline's one Config, filled from command-line
// flags and SIGHTLINE_* environment variables, with defaults that work out
// of the box.
package config

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/admit"
	"github.com/sightline/sightline/internal/ingest"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/segment/engine"
)

// Config is the server's configuration.
type Config struct {
	Addr       string
	DataDir    string
	GeoDB      string
	TrustProxy bool
	// SignInFailures failed sign-ins for one email from one client
	// address within SignInWindow make further attempts from there wait;
	// so do SignInFailuresPerIP from one address and SignInFailuresPerEmail
	// for one email.
	SignInFailures int
	SignInWindow   time.Duration
	DBMemoryLimit  string
	GoMemoryLimit  string
	DBThreads      int
	// QueryTimeout bounds each query of a segment; a query still running
	// then is interrupted and answered 503 query_timeout.
	QueryTimeout    time.Duration
	MaxAttrKeys     int
	DedupeWindow    int
	QueueMessages   int
	CommitBatch     int
	MaxConcurrent   int
	ShutdownTimeout time.Duration
	// ReadWait bounds how long a read waits for acknowledged writes to be
	// applied before it answers 503 store_lagging.
	ReadWait  time.Duration
	LogFormat string
	LogLevel  string
	Limits    ingest.Limits
	// Recording bounds uploaded recording chunks.
	Recording recording.Limits
	// RecordingsS3, when set, is the S3 URL (s3://bucket/prefix?endpoint=…)
	// the recordings' chunks are kept under instead of DATA/recordings.
	RecordingsS3 string
	// Postgres, when set, is the DSN of the PostgreSQL database that keeps
	// the control data (sites, tokens, accounts, settings, alerts, the
	// audit log…) instead of the data folder's database; several nodes may
	// share it. Analytics stay in the data folder.
	Postgres string
	// ClickHouse, when set, is the DSN of the ClickHouse database that
	// keeps the analytics (events, sessions, attributes…) instead of the
	// data folder, with Postgres deciding what the nodes share; it needs
	// Postgres. The data folder keeps the node's write-ahead log.
	ClickHouse string
	// Node names this process to the other nodes sharing Postgres (the
	// alert outbox's leases); a random name at each start by default.
	Node string
	// RecordingSweep is how often recordings past their site's retention
	// are deleted.
	RecordingSweep time.Duration
	// AuditKeep is how long the audit log keeps its entries.
	AuditKeep time.Duration
	// Now is the clock of survey frequency windows and feedback times;
	// nil means time.Now. Not a flag: tests set it to move time.
	Now func() time.Time

	// MaxConcurrentPerIP bounds the ingestion requests of one client
	// address (an IPv6 /64) among the MaxConcurrent.
	MaxConcurrentPerIP int
	// Body bounds how long an ingestion or tracker request's body may
	// take to arrive.
	Body admit.BodyLimits
	// MetricsAddr is where Prometheus metrics are served, apart from the
	// main port; "off" (or "") serves none there.
	MetricsAddr string
	// MetricsToken, when set, also serves the metrics on the main port to
	// requests bearing it (Authorization: Bearer TOKEN).
	MetricsToken string
	// SignInFailuresPerIP and SignInFailuresPerEmail: see SignInFailures.
	SignInFailuresPerIP    int
	SignInFailuresPerEmail int

	// PublicURL is the dashboard's address as alert messages link to it;
	// empty: http:// and Addr.
	PublicURL string
	// Alerts says which destinations alerts may reach and how they retry.
	Alerts AlertsConfig
	// WrapHandler, when set, wraps the main port's handler, given the mux
	// that routes it: tests list the registered routes and check every
	// response against the OpenAPI document. Not a flag.
	WrapHandler func(mux *http.ServeMux, h http.Handler) http.Handler
}

// AlertsConfig is the administrator's say over alert deliveries.
type AlertsConfig struct {
	// AllowHTTP allows http:// destination URLs besides https://.
	AllowHTTP bool
	// AllowPrivate allows destinations on loopback, private and
	// link-local addresses (checked when connecting, after DNS).
	AllowPrivate bool
	// RetryBase is the first retry's delay; 0 means the default (5 s).
	// Not a flag: tests shorten it.
	RetryBase time.Duration
	// Poll is how often alert work is looked for without a wake-up; 0
	// means the default.
	Poll time.Duration
	// DisableAfter failed attempts in a row disable a destination; 0
	// means the default (10). Not a flag.
	DisableAfter int
	// ClockCheck is how often "enters a segment" rules are checked for
	// users who entered by the clock alone; 0 means the default (5 min).
	ClockCheck time.Duration
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "data",
		DBMemoryLimit:   "256MB",
		GoMemoryLimit:   "256MiB",
		MaxAttrKeys:     1000,
		QueryTimeout:    engine.DefaultQueryTimeout,
		DedupeWindow:    1 << 20,
		QueueMessages:   20_000,
		CommitBatch:     20_000,
		MaxConcurrent:   64,
		SignInFailures:  10,
		SignInWindow:    15 * time.Minute,
		ShutdownTimeout: 30 * time.Second,
		ReadWait:        5 * time.Second,
		LogFormat:       "text",
		LogLevel:        "info",
		Limits:          ingest.DefaultLimits(),
		Recording:       recording.DefaultLimits(),
		RecordingSweep:  time.Hour,
		AuditKeep:       365 * 24 * time.Hour,

		MaxConcurrentPerIP: 16,
		Body:               admit.DefaultBodyLimits(),
		MetricsAddr:        "127.0.0.1:8081",

		SignInFailuresPerIP:    30,
		SignInFailuresPerEmail: 100,
	}
}

// DBPath is the database file inside the data folder.
func (c Config) DBPath() string { return filepath.Join(c.DataDir, "sightline.duckdb") }

// SocketPath is the administration socket inside the data folder.
func (c Config) SocketPath() string { return filepath.Join(c.DataDir, "admin.sock") }

// RecordingsPath is the folder of the recordings' blobs inside the data
// folder.
func (c Config) RecordingsPath() string { return filepath.Join(c.DataDir, "recordings") }

// GeoPath returns the country database to use: the configured one, else the
// one scripts/fetch-geo.sh puts in the data folder when it exists, else "".
func (c Config) GeoPath() string {
	if c.GeoDB != "" {
		return c.GeoDB
	}
	p := filepath.Join(c.DataDir, "geo", "country.mmdb")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// Bind defines c's flags on fs. Call ApplyEnv after fs.Parse.
func (c *Config) Bind(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data folder (database, admin socket)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "address to serve Prometheus metrics on (off: none)")
	fs.StringVar(&c.MetricsToken, "metrics-token", c.MetricsToken, "also serve the metrics on --addr to this bearer token (prefer SIGHTLINE_METRICS_TOKEN: flags show in ps)")
	fs.StringVar(&c.GeoDB, "geo-db", c.GeoDB, "country mmdb file (default: DATA/geo/country.mmdb when present)")
	fs.StringVar(&c.RecordingsS3, "s3", c.RecordingsS3, "keep recordings in S3 at this URL, s3://bucket/prefix?endpoint=host:port (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; see docs/scale-out.md); default: DATA/recordings")
	fs.StringVar(&c.Postgres, "postgres", c.Postgres, "keep control data (sites, tokens, accounts, settings, alerts, audit log) in PostgreSQL at this DSN, postgres://USER:PASSWORD@HOST:5432/DB (prefer SIGHTLINE_POSTGRES: flags show in ps; see docs/scale-out.md); default: the data folder")
	fs.StringVar(&c.ClickHouse, "clickhouse", c.ClickHouse, "keep analytics (events, sessions, attributes, identities) in ClickHouse at this DSN, clickhouse://USER:PASSWORD@HOST:9000/DB, with --postgres deciding what nodes share (prefer SIGHTLINE_CLICKHOUSE; see docs/scale-out.md); default: the data folder")
	fs.StringVar(&c.Node, "node", c.Node, "this node's name among the nodes sharing --postgres (default: a random name at each start)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "take the client IP from X-Forwarded-For")
	fs.IntVar(&c.SignInFailures, "signin-failures", c.SignInFailures, "failed sign-ins for one email from one client address before further attempts from there wait")
	fs.IntVar(&c.SignInFailuresPerIP, "signin-failures-per-ip", c.SignInFailuresPerIP, "failed sign-ins from one client address, for any emails, before its attempts wait")
	fs.IntVar(&c.SignInFailuresPerEmail, "signin-failures-per-email", c.SignInFailuresPerEmail, "failed sign-ins for one email, from any addresses, before its attempts wait (keep it far above --signin-failures)")
	fs.DurationVar(&c.SignInWindow, "signin-window", c.SignInWindow, "how long failed sign-ins are counted")
	fs.StringVar(&c.DBMemoryLimit, "db-memory", c.DBMemoryLimit, "database memory limit, e.g. 256MB")
	fs.StringVar(&c.GoMemoryLimit, "go-memory", c.GoMemoryLimit, "soft limit of the Go heap (GOMEMLIMIT syntax; off to disable); the GC works harder near it")
	fs.IntVar(&c.DBThreads, "db-threads", c.DBThreads, "database threads (0: one per core)")
	fs.DurationVar(&c.QueryTimeout, "query-timeout", c.QueryTimeout, "longest a query of a segment may run before it is stopped (0: no limit)")
	fs.IntVar(&c.MaxAttrKeys, "max-attr-keys", c.MaxAttrKeys, "attribute keys per site")
	fs.IntVar(&c.DedupeWindow, "dedupe-window", c.DedupeWindow, "recent message IDs remembered to drop retries")
	fs.IntVar(&c.QueueMessages, "queue", c.QueueMessages, "messages waiting for commit before answering 429")
	fs.IntVar(&c.CommitBatch, "commit-batch", c.CommitBatch, "most messages in one commit")
	fs.IntVar(&c.MaxConcurrent, "max-concurrent", c.MaxConcurrent, "ingestion requests decoded at once before answering 429")
	fs.DurationVar(&c.ReadWait, "read-wait", c.ReadWait, "longest wait of a read for acknowledged writes to be applied before it answers 503 store_lagging")
	fs.IntVar(&c.MaxConcurrentPerIP, "max-concurrent-per-ip", c.MaxConcurrentPerIP, "of those, from one client address (an IPv6 /64)")
	fs.DurationVar(&c.Body.Timeout, "body-timeout", c.Body.Timeout, "longest time an ingestion or tracker request's body may take (0: no limit)")
	fs.DurationVar(&c.Body.Grace, "body-grace", c.Body.Grace, "time a body may take before --body-min-rate applies")
	fs.Int64Var(&c.Body.MinRate, "body-min-rate", c.Body.MinRate, "bytes a second a body must average after --body-grace (0: no minimum)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "time allowed for a graceful shutdown")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
	l := &c.Limits
	fs.Int64Var(&l.MaxRequestBytes, "max-request-bytes", l.MaxRequestBytes, "largest request body")
	fs.IntVar(&l.MaxMessageBytes, "max-message-bytes", l.MaxMessageBytes, "largest message")
	fs.IntVar(&l.MaxBatchMessages, "max-batch", l.MaxBatchMessages, "most messages in one batch request")
	fs.IntVar(&l.MaxIDLength, "max-id-length", l.MaxIDLength, "longest user, anonymous, group or message ID")
	fs.IntVar(&l.MaxEventName, "max-event-name", l.MaxEventName, "longest event or page name")
	fs.IntVar(&l.MaxKeyLength, "max-key-length", l.MaxKeyLength, "longest attribute key")
	fs.IntVar(&l.MaxValueLength, "max-value-length", l.MaxValueLength, "longest string attribute value")
	fs.IntVar(&l.MaxTraits, "max-traits", l.MaxTraits, "most attributes in one message")
	fs.IntVar(&l.MaxDepth, "max-depth", l.MaxDepth, "deepest nesting of objects and arrays in a message")
	rl := &c.Recording
	fs.Int64Var(&rl.MaxChunkBytes, "max-recording-chunk", rl.MaxChunkBytes, "largest gzip-compressed recording chunk as sent")
	fs.Int64Var(&rl.MaxRawBytes, "max-recording-chunk-raw", rl.MaxRawBytes, "largest recording chunk as JSON (plain, or after gunzip)")
	fs.IntVar(&rl.MaxConcurrent, "max-recording-uploads", rl.MaxConcurrent, "recording chunks decoded at once before answering 429")
	fs.IntVar(&rl.MaxConcurrentPerIP, "max-recording-uploads-per-ip", rl.MaxConcurrentPerIP, "of those, from one client address (an IPv6 /64)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "the dashboard's public address, for links in alerts (default: http:// and --addr)")
	fs.BoolVar(&c.Alerts.AllowHTTP, "alerts-allow-http", c.Alerts.AllowHTTP, "allow http:// alert destinations besides https://")
	fs.DurationVar(&c.Alerts.ClockCheck, "alerts-clock-check", c.Alerts.ClockCheck, "how often segment.entered rules are checked for users who entered by the clock alone (inactive for 30 days, a trial ending); 0 means 5m")
	fs.BoolVar(&c.Alerts.AllowPrivate, "alerts-allow-private", c.Alerts.AllowPrivate, "allow alert destinations on loopback, private and link-local addresses (refused by default, checked after DNS resolution)")
	fs.DurationVar(&c.RecordingSweep, "recording-sweep", c.RecordingSweep, "how often recordings past their site's retention are deleted")
	fs.DurationVar(&c.AuditKeep, "audit-keep", c.AuditKeep, "how long the audit log keeps its entries")
}

// ApplyEnv sets every flag not given on the command line from its
// environment variable: -db-memory is SIGHTLINE_DB_MEMORY.
func ApplyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := EnvName(f.Name)
		if v, ok := lookup(name); ok {
			if serr := f.Value.Set(v); serr != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, serr)
			}
		}
	})
	return err
}

// EnvName is the environment variable of a flag.
func EnvName(flagName string) string {
	return "SIGHTLINE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
