// Package config holds Sightline's one Config, filled from command-line
// flags and SIGHTLINE_* environment variables, with defaults that work out
// of the box.
package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	// SignInFailures failed sign-ins per email and per client IP within
	// SignInWindow make further attempts wait.
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
	LogFormat       string
	LogLevel        string
	Limits          ingest.Limits
	// Recording bounds uploaded recording chunks.
	Recording recording.Limits
	// RecordingSweep is how often recordings past their site's retention
	// are deleted.
	RecordingSweep time.Duration
	// Now is the clock of survey frequency windows and feedback times;
	// nil means time.Now. Not a flag: tests set it to move time.
	Now func() time.Time
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
		LogFormat:       "text",
		LogLevel:        "info",
		Limits:          ingest.DefaultLimits(),
		Recording:       recording.DefaultLimits(),
		RecordingSweep:  time.Hour,
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
	fs.StringVar(&c.GeoDB, "geo-db", c.GeoDB, "country mmdb file (default: DATA/geo/country.mmdb when present)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "take the client IP from X-Forwarded-For")
	fs.IntVar(&c.SignInFailures, "signin-failures", c.SignInFailures, "failed sign-ins per email and per client IP before further attempts wait")
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
	rl := &c.Recording
	fs.Int64Var(&rl.MaxChunkBytes, "max-recording-chunk", rl.MaxChunkBytes, "largest gzip-compressed recording chunk as sent")
	fs.Int64Var(&rl.MaxRawBytes, "max-recording-chunk-raw", rl.MaxRawBytes, "largest recording chunk as JSON (plain, or after gunzip)")
	fs.IntVar(&rl.MaxConcurrent, "max-recording-uploads", rl.MaxConcurrent, "recording chunks decoded at once before answering 429")
	fs.DurationVar(&c.RecordingSweep, "recording-sweep", c.RecordingSweep, "how often recordings past their site's retention are deleted")
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
