// Package server wires Sightline's parts into a running server and stops
// them in order: stop accepting requests, commit everything acknowledged,
// stop workers, close the store.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/api"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/ingest"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/survey"
	"github.com/sightline/sightline/internal/tracker"
	"github.com/sightline/sightline/internal/web"
)

// Run serves until ctx ends, then shuts down gracefully. ready, when not
// nil, receives the listening address once the server accepts requests.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, ready chan<- string) error {
	start := time.Now()
	db, err := duckstore.Open(ctx, cfg.DBPath(), duckstore.Options{
		MemoryLimit:  cfg.DBMemoryLimit,
		Threads:      cfg.DBThreads,
		MaxAttrKeys:  cfg.MaxAttrKeys,
		DedupeWindow: cfg.DedupeWindow,
	}, log)
	if err != nil {
		return err
	}
	log.Info("store open", "path", cfg.DBPath(), "took", time.Since(start).Round(time.Millisecond))
	var geo *enrich.Geo
	if p := cfg.GeoPath(); p != "" {
		if geo, err = enrich.OpenGeo(p); err != nil {
			db.Close()
			return fmt.Errorf("open country database: %w", err)
		}
		log.Info("country lookup on", "mmdb", p)
	} else {
		log.Warn("no country database: countries will be empty; run scripts/fetch-geo.sh or set SIGHTLINE_GEO_DB")
	}
	defer geo.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := ingest.NewMetrics(reg)
	pipe := ingest.NewPipeline(db, cfg.QueueMessages, cfg.CommitBatch, metrics, log)
	go pipe.Run()

	mux := http.NewServeMux()
	ing := ingest.NewHandler(ingest.Config{
		Sites: db, Pipeline: pipe, Limits: cfg.Limits, UA: enrich.NewUAParser(), Geo: geo,
		TrustProxy: cfg.TrustProxy, MaxConcurrent: cfg.MaxConcurrent, Metrics: metrics, Log: log,
	})
	ing.Register(mux)
	blobs, err := blob.OpenDisk(cfg.RecordingsPath())
	if err != nil {
		pipe.Stop(context.Background())
		db.Close()
		return fmt.Errorf("open the recordings folder: %w", err)
	}
	rec, err := recording.New(recording.Config{Store: db, Blobs: blobs, Limits: cfg.Recording, Registerer: reg, Log: log})
	if err != nil {
		pipe.Stop(context.Background())
		db.Close()
		return err
	}
	defer rec.Close()
	segs := engine.New(db, compiler.DuckDB{}, nil).WithQueryTimeout(cfg.QueryTimeout)
	surveys := survey.New(db, segs, log, cfg.Now)
	fb := feedback.New(db, surveys, log, cfg.Now)
	endpoints := survey.NewBrowser(surveys, ing, log).Endpoints()
	maps.Copy(endpoints, feedback.NewBrowser(fb, ing, log).Endpoints())
	trk, err := tracker.New(tracker.Config{Sites: db, Ingest: ing, Recordings: rec, Registerer: reg, Log: log,
		Endpoints: endpoints, ConfigParts: map[string]tracker.ConfigPart{
			"recording": func(ctx context.Context, site int64) (any, error) { return rec.TrackerConfig(ctx, site) },
			"feedback":  func(ctx context.Context, site int64) (any, error) { return fb.Settings(ctx, site) },
			"surveys":   func(ctx context.Context, site int64) (any, error) { return surveys.HasLive(ctx, site) },
		}})
	if err != nil {
		pipe.Stop(context.Background())
		db.Close()
		return fmt.Errorf("load the tracker: %w", err)
	}
	trk.Register(mux)
	accounts := account.New(db, account.Config{TrustProxy: cfg.TrustProxy, Log: log,
		Limiter: account.LimiterConfig{MaxFailures: cfg.SignInFailures, Window: cfg.SignInWindow}})
	accounts.Register(mux)
	a := api.New(db, segs, accounts, log).WithRecordings(rec)
	a.UseSurveys(surveys, fb, db)
	a.Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		apierr.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	dashboard, err := web.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apierr.Write(w, log, &apierr.Error{Status: http.StatusNotFound, Code: "not_found",
			Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	}))
	if err != nil {
		pipe.Stop(context.Background())
		db.Close()
		return fmt.Errorf("load the dashboard: %w", err)
	}
	mux.Handle("/", dashboard)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		pipe.Stop(context.Background())
		db.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	os.Remove(cfg.SocketPath())
	adminLn, err := net.Listen("unix", cfg.SocketPath())
	if err != nil {
		ln.Close()
		pipe.Stop(context.Background())
		db.Close()
		return fmt.Errorf("listen on admin socket: %w", err)
	}
	os.Chmod(cfg.SocketPath(), 0o600)

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	adminSrv := &http.Server{Handler: admin.Handler(admin.Local{Store: db, Accounts: accounts}, log), ReadHeaderTimeout: 10 * time.Second}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serve(srv, ln) })
	g.Go(func() error { return serve(adminSrv, adminLn) })
	janitorCtx, stopJanitor := context.WithCancel(context.Background())
	janitorDone := make(chan struct{})
	go func() {
		defer close(janitorDone)
		rec.RunJanitor(janitorCtx, cfg.RecordingSweep)
	}()
	janitor := func(ctx context.Context) error {
		stopJanitor()
		select {
		case <-janitorDone:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("recording janitor: %w", ctx.Err())
		}
	}
	log.Info("sightline serving", "addr", ln.Addr().String(), "data", cfg.DataDir, "started_in", time.Since(start).Round(time.Millisecond))
	if len(db.Sites(ctx)) == 0 {
		log.Info("no sites yet: create one with `sightline site create NAME --data " + cfg.DataDir +
			"` and a token with `sightline token create --site ID --scope read --data " + cfg.DataDir + "`")
	}
	if list, err := db.ListAccounts(ctx); err == nil && len(list) == 0 {
		log.Info("no dashboard account yet: set up the owner in the dashboard at http://" + ln.Addr().String() +
			"/ (POST /api/v1/setup) or with `sightline account create --role owner --password-stdin ...`")
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	g.Go(func() error {
		<-gctx.Done()
		return shutdown(cfg.ShutdownTimeout, log, srv, adminSrv, pipe, janitor, db, cfg.SocketPath())
	})
	return g.Wait()
}

func serve(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdown stops in order, each step bounded and logged: HTTP (waiting for
// in-flight requests, whose messages the pipeline still commits), then the
// pipeline (committing what is queued), then the recording janitor, then
// the store (checkpointing).
func shutdown(timeout time.Duration, log *slog.Logger, srv, adminSrv *http.Server, pipe *ingest.Pipeline,
	janitor func(context.Context) error, db *duckstore.DB, socket string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	step := func(name string, fn func() error) {
		t := time.Now()
		err := fn()
		log.Info("shutdown step", "step", name, "took", time.Since(t).Round(time.Millisecond), "err", err)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	log.Info("shutting down")
	step("http", func() error { return errors.Join(srv.Shutdown(ctx), adminSrv.Shutdown(ctx)) })
	step("pipeline", func() error { return pipe.Stop(ctx) })
	step("recording janitor", func() error { return janitor(ctx) })
	step("store", db.Close)
	os.Remove(socket)
	return errors.Join(errs...)
}
