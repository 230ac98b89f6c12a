package server

import (
	"context"
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
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/composite"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/store/pgstore"
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
