package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/api"
	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/compare"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/csvimport"
	"github.com/sightline/sightline/internal/heatmap"
	"github.com/sightline/sightline/internal/notify"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/composite"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/store/pgstore"
	"github.com/sightline/sightline/internal/store/scaled"
	"github.com/sightline/sightline/internal/survey"
)

// backend is every role Run hands its services: the embedded store
// alone, or the composite of the embedded analytics and the control data
// in PostgreSQL (--postgres).
type backend interface {
	api.Store
	api.SurveyStore
	recording.Store
	recording.Importer
	engine.Store
	survey.Store
	store.Feedback
	account.Store
	notify.Store
	store.Auditor
	store.Eraser
	store.Submissions
	store.Retainer
	store.SiteDeleter
	store.Experiments
	heatmap.Store
	compare.Store
	admin.Catalog
	csvimport.Store
	SetAlertWake(fn func())
}

var (
	_ backend = (*duckstore.DB)(nil)
	_ backend = (*composite.Store)(nil)
)

// controlStore is the control half when --postgres is set: the store, the
// sign-in limiter's windows, the loop that relays alert causes, and how
// to close it. Without --postgres, the embedded store serves every role
// itself, through no other layer.
type controlStore struct {
	backend backend
	limits  account.LimitStore // nil: the limiter counts in memory
	run     func(ctx context.Context)
	close   func() error
	ping    func(ctx context.Context) error // nil: nothing to reach
}

// ready returns why the control half cannot serve, for /readyz: nothing
// when it answers within readyPing.
func (c controlStore) ready(ctx context.Context) []string {
	if c.ping == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, readyPing)
	defer cancel()
	// A connection the server closed fails one ping and leaves the pool:
	// a few tries tell a database that is back from one that is not.
	var err error
	for range 3 {
		if err = c.ping(ctx); err == nil {
			return nil
		}
	}
	return []string{"PostgreSQL does not answer: " + err.Error()}
}

// readyPing bounds the check of PostgreSQL in /readyz.
const readyPing = 2 * time.Second

// analytics is the store of the analytics that the server's ingestion,
// queries and health read: duckstore in the data folder, or the scaled
// store on ClickHouse and PostgreSQL (--clickhouse).
type analytics interface {
	store.Writer
	csvimport.Store
	// SQL and Sync serve the engines that compile queries (segments,
	// heatmaps, comparison, experiments) in the store's dialect.
	SQL() *sql.DB
	Sync(ctx context.Context) error
	Health() store.Health
	Quarantined() int64
	// Dead is closed when the store must be reopened (DeadErr says why).
	Dead() <-chan struct{}
	DeadErr() error
	// RunLayout keeps the store's layout until ctx ends.
	RunLayout(ctx context.Context, interval time.Duration)
	Close() error
}

var (
	_ analytics = (*duckstore.DB)(nil)
	_ analytics = (*scaled.DB)(nil)
)

// openStores opens the analytics store, the store the services use and
// the dialect their queries are compiled in: duckstore alone; duckstore
// joined to PostgreSQL (--postgres); or the scaled store on ClickHouse
// joined to PostgreSQL (--clickhouse, which needs --postgres), with
// nothing in the data folder but the node's write-ahead log.
func openStores(ctx context.Context, cfg config.Config, log *slog.Logger) (analytics, controlStore, compiler.CompareDialect, error) {
	if cfg.ClickHouse != "" {
		return openScaled(ctx, cfg, log)
	}
	db, err := duckstore.Open(ctx, cfg.DBPath(), duckstore.Options{
		MemoryLimit:  cfg.DBMemoryLimit,
		Threads:      cfg.DBThreads,
		MaxAttrKeys:  cfg.MaxAttrKeys,
		DedupeWindow: cfg.DedupeWindow,
		SyncWait:     cfg.ReadWait,
	}, log)
	if err != nil {
		return nil, controlStore{}, nil, err
	}
	log.Info("analytics in the data folder", "path", cfg.DBPath())
	cs, err := openBackend(ctx, cfg, db, log)
	if err != nil {
		db.Close()
		return nil, controlStore{}, nil, err
	}
	return db, cs, compiler.DuckDB{}, nil
}

// openScaled opens the scaled store: analytics in ClickHouse with
// PostgreSQL deciding, control data in the same PostgreSQL.
func openScaled(ctx context.Context, cfg config.Config, log *slog.Logger) (analytics, controlStore, compiler.CompareDialect, error) {
	if cfg.Postgres == "" {
		return nil, controlStore{}, nil, errors.New("--clickhouse needs --postgres: PostgreSQL decides what the nodes share (keys, merges, sessions) and keeps the control data")
	}
	node, err := nodeName(cfg)
	if err != nil {
		return nil, controlStore{}, nil, err
	}
	pg, err := pgstore.OpenWith(ctx, cfg.Postgres, pgstore.Options{Node: node, Now: cfg.Now, Log: log.With("part", "postgres")})
	if err != nil {
		return nil, controlStore{}, nil, err
	}
	sc, err := scaled.Open(ctx, cfg.ClickHouse, cfg.Postgres, scaled.Options{Now: cfg.Now, MaxAttrKeys: cfg.MaxAttrKeys,
		Node: node, WALDir: filepath.Join(cfg.DataDir, "wal"), SyncWait: cfg.ReadWait, Log: log.With("part", "scaled")})
	if err != nil {
		pg.Close()
		return nil, controlStore{}, nil, err
	}
	st, err := composite.New(ctx, sc, pg, log.With("part", "composite"))
	if err != nil {
		sc.Close()
		pg.Close()
		return nil, controlStore{}, nil, err
	}
	if cfg.RecordingsS3 == "" {
		log.Warn("recordings are kept in the data folder: other nodes will not play them back; set --s3 to share them")
	}
	log.Info("analytics in ClickHouse, control data in PostgreSQL", "node", node)
	return sc, controlStore{backend: st, limits: pg, run: st.Run, close: st.Close, ping: pg.Ping}, compiler.ClickHouse{}, nil
}

// openBackend returns the store the services use: db, or db joined to
// PostgreSQL when cfg.Postgres is set.
func openBackend(ctx context.Context, cfg config.Config, db *duckstore.DB, log *slog.Logger) (controlStore, error) {
	if cfg.Postgres == "" {
		return controlStore{backend: db, run: func(context.Context) {}, close: func() error { return nil }}, nil
	}
	node, err := nodeName(cfg)
	if err != nil {
		return controlStore{}, err
	}
	pg, err := pgstore.OpenWith(ctx, cfg.Postgres, pgstore.Options{Node: node, Now: cfg.Now,
		Log: log.With("part", "postgres")})
	if err != nil {
		return controlStore{}, err
	}
	if err := checkSites(ctx, db, pg); err != nil {
		pg.Close()
		return controlStore{}, err
	}
	st, err := composite.New(ctx, db, pg, log.With("part", "composite"))
	if err != nil {
		pg.Close()
		return controlStore{}, fmt.Errorf("copy control data to the data folder: %w", err)
	}
	log.Info("control data in PostgreSQL", "node", pg.Node())
	return controlStore{backend: st, limits: pg, run: st.Run, close: st.Close, ping: pg.Ping}, nil
}

// checkSites refuses a data folder whose database knows a site that
// PostgreSQL may yet give to another (an ID it has not handed out), or
// gave to another: its analytics would be read as that site's. `sightline
// migrate --postgres` copies the folder's sites, keeping their IDs. A
// site PostgreSQL no longer has but whose ID it handed out was deleted
// through another node: its ID is never given again.
func checkSites(ctx context.Context, db *duckstore.DB, pg *pgstore.DB) error {
	byID := map[int64]store.Site{}
	for _, s := range pg.Sites(ctx) {
		byID[s.ID] = s
	}
	last, err := pg.LastSiteID(ctx)
	if err != nil {
		return err
	}
	for _, s := range db.Sites(ctx) {
		p, ok := byID[s.ID]
		if (ok && p.PublicID != s.PublicID) || (!ok && s.ID > last) {
			return fmt.Errorf("the data folder has site %d (%s, %q) that PostgreSQL does not have: "+
				"copy the folder's control data first with `sightline migrate --data DIR --postgres DSN`", s.ID, s.PublicID, s.Name)
		}
	}
	return nil
}

// nodeName is the name this process leases alert work under in
// PostgreSQL: --node, else one drawn at the first start and kept in the
// data folder. Two processes never share a data folder, so the name is
// distinct per process; kept across restarts, it lets a node that was
// killed take up its own leases at once rather than after they run out.
func nodeName(cfg config.Config) (string, error) {
	if cfg.Node != "" {
		return cfg.Node, nil
	}
	path := filepath.Join(cfg.DataDir, "node-name")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	host, _ := os.Hostname()
	name := auth.NewID("node_")
	if host != "" {
		name = host + "-" + name
	}
	if err := os.WriteFile(path, []byte(name+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep the node's name: %w", err)
	}
	return name, nil
}
