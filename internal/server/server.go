// Package server wires Sightline's parts into a running server and stops
// them in order: stop accepting requests, commit everything acknowledged,
// stop workers, close the store.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/sightline/sightline/docs"
	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/api"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/audit"
	"github.com/sightline/sightline/internal/compare"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/erase"
	"github.com/sightline/sightline/internal/experiment"
	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/heatmap"
	"github.com/sightline/sightline/internal/ingest"
	"github.com/sightline/sightline/internal/manual"
	"github.com/sightline/sightline/internal/openapi"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/retention"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
	"github.com/sightline/sightline/internal/tracker"
	"github.com/sightline/sightline/internal/web"
)

// Addrs are the addresses a started server listens on.
type Addrs struct {
	HTTP    string // the API, ingestion, the tracker and the dashboard
	Metrics string // Prometheus metrics; "" when their listener is off
}

// Run serves until ctx ends, then shuts down gracefully. ready, when not
// nil, receives the listening addresses once the server accepts requests.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, ready chan<- Addrs) error {
	start := time.Now()
	if err := dataDir(cfg.DataDir, log); err != nil {
		return err
	}
	db, cs, dialect, err := openStores(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("store open", "took", time.Since(start).Round(time.Millisecond))
	st := cs.backend
	// The control half closes after the analytics store, which may still
	// apply writes that read it (Close runs in shutdown's last step).
	defer cs.close()
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
		Sites: st, Pipeline: pipe, Limits: cfg.Limits, UA: enrich.NewUAParser(), Geo: geo,
		TrustProxy: cfg.TrustProxy, MaxConcurrent: cfg.MaxConcurrent, MaxConcurrentPerIP: cfg.MaxConcurrentPerIP,
		Body: cfg.Body, Metrics: metrics, Log: log,
	})
	ing.Register(mux)
	blobs, err := OpenRecordings(ctx, cfg)
	if err != nil {
		pipe.Stop(context.Background())
		db.Close()
		return err
	}
	rec, err := recording.New(recording.Config{Store: st, Blobs: blobs, Limits: cfg.Recording,
		TrustProxy: cfg.TrustProxy, Registerer: reg, Log: log})
	if err != nil {
		pipe.Stop(context.Background())
		db.Close()
		return err
	}
	defer rec.Close()
	segs := engine.New(st, dialect, cfg.Now).WithQueryTimeout(cfg.QueryTimeout)
	surveys := survey.New(st, segs, log, cfg.Now)
	fb := feedback.New(st, surveys, log, cfg.Now)
	endpoints := survey.NewBrowser(surveys, ing, log).Endpoints()
	maps.Copy(endpoints, feedback.NewBrowser(fb, ing, log).Endpoints())
	// Heatmap backgrounds the tracker captures: asked for, then posted.
	backgrounds := heatmap.NewBackgrounds(rec, cfg.Now, log)
	endpoints["GET /t/bg"] = backgrounds.ServeWant
	endpoints["POST /t/bg"] = rec.BackgroundHandler(backgrounds.Take)
	trk, err := tracker.New(tracker.Config{Sites: st, Ingest: ing, Recordings: rec, Body: cfg.Body, Registerer: reg, Log: log,
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
	accounts := account.New(st, account.Config{TrustProxy: cfg.TrustProxy, Log: log,
		Limiter: account.LimiterConfig{MaxFailures: cfg.SignInFailures, MaxPerIP: cfg.SignInFailuresPerIP,
			MaxPerEmail: cfg.SignInFailuresPerEmail, Window: cfg.SignInWindow, Store: cs.limits}})
	accounts.Register(mux)
	alerts, err := newAlerts(cfg, st, segs, log)
	if err != nil {
		pipe.Stop(context.Background())
		db.Close()
		return err
	}
	auditLog := audit.New(st, accounts, st, cfg.AuditKeep, cfg.Now, log)
	auditLog.Register(mux)
	eraser := erase.New(st, rec, log).WithJournal(filepath.Join(cfg.DataDir, "erase-queue.jsonl"))
	if err := eraser.Resume(ctx); err != nil {
		log.Warn("interrupted user deletions not resumed", "err", err)
	}
	a := api.New(st, segs, accounts, log).WithRecordings(rec).WithHeatmaps(heatmap.New(db, dialect)).WithBackgrounds(backgrounds).
		WithErasure(eraser, st).WithRetention(st).WithImport(db).WithSiteDeletion(st)
	a.UseSurveys(surveys, fb, st)
	a.UseCompare(compare.New(db, segs, dialect, nil), experiment.NewReader(db, segs, dialect, nil), st)
	a.UseAlerts(alerts.svc)
	a.Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		apierr.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { readiness(w, db.Health(), cs.ready(r.Context())...) })
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sightline_quarantined_messages_total",
		Help: "Acknowledged messages the database refused, set aside in the quarantine (GET .../quarantine)."},
		func() float64 { return float64(db.Quarantined()) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sightline_apply_lag_messages",
		Help: "Acknowledged messages waiting to be applied to the database."},
		func() float64 { return float64(db.Health().Lag) }))
	if cfg.MetricsToken != "" {
		mux.Handle("GET /metrics", bearerMetrics(cfg.MetricsToken, reg, log))
	}
	manualPages, err := manual.New(docs.Files)
	if err != nil {
		pipe.Stop(context.Background())
		db.Close()
		return fmt.Errorf("load the documentation: %w", err)
	}
	manualPages.Register(mux)
	contract, err := openapi.NewHandler()
	if err != nil {
		pipe.Stop(context.Background())
		db.Close()
		return fmt.Errorf("build the OpenAPI document: %w", err)
	}
	contract.Register(mux)
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
	metricsSrv, metricsLn, err := listenMetrics(cfg.MetricsAddr, reg, log)
	if err != nil {
		ln.Close()
		pipe.Stop(context.Background())
		db.Close()
		return err
	}
	os.Remove(cfg.SocketPath())
	adminLn, err := net.Listen("unix", cfg.SocketPath())
	if err != nil {
		ln.Close()
		if metricsLn != nil {
			metricsLn.Close()
		}
		pipe.Stop(context.Background())
		db.Close()
		return fmt.Errorf("listen on admin socket: %w", err)
	}
	os.Chmod(cfg.SocketPath(), 0o600)

	var handler http.Handler = withHeaders(textOnly(auditLog.Middleware(mux), log))
	if cfg.WrapHandler != nil {
		handler = cfg.WrapHandler(mux, handler)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	adminSrv := &http.Server{Handler: auditLog.Socket(admin.Handler(admin.Local{Store: st, Accounts: accounts, Eraser: eraser, Exporter: a, Importer: db}, log)), ReadHeaderTimeout: 10 * time.Second}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serve(srv, ln) })
	g.Go(func() error { return serve(adminSrv, adminLn) })
	servers := []*http.Server{srv, adminSrv}
	addrs := Addrs{HTTP: ln.Addr().String()}
	if metricsSrv != nil {
		g.Go(func() error { return serve(metricsSrv, metricsLn) })
		servers = append(servers, metricsSrv)
		addrs.Metrics = metricsLn.Addr().String()
	}
	go alerts.run()
	janitorCtx, stopJanitor := context.WithCancel(context.Background())
	janitorDone := make(chan struct{})
	var janitors sync.WaitGroup
	janitors.Go(func() { rec.RunJanitor(janitorCtx, cfg.RecordingSweep) })
	janitors.Go(func() { retention.New(st, cfg.Now, log).Run(janitorCtx, cfg.RecordingSweep) })
	janitors.Go(func() { cs.run(janitorCtx) })
	janitors.Go(func() { auditLog.Run(janitorCtx) })
	janitors.Go(func() { db.RunLayout(janitorCtx, 5*time.Minute) })
	go func() {
		defer close(janitorDone)
		janitors.Wait()
	}()
	janitor := func(ctx context.Context) error {
		eraser.Wait() // a deletion finishes before the store closes
		stopJanitor()
		select {
		case <-janitorDone:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("recording janitor: %w", ctx.Err())
		}
	}
	log.Info("sightline serving", "addr", addrs.HTTP, "metrics", cmp.Or(addrs.Metrics, "off"), "data", cfg.DataDir,
		"started_in", time.Since(start).Round(time.Millisecond))
	if len(st.Sites(ctx)) == 0 {
		log.Info("no sites yet: create one with `sightline site create NAME --data " + cfg.DataDir +
			"` and a token with `sightline token create --site ID --scope read --data " + cfg.DataDir + "`")
	}
	if list, err := st.ListAccounts(ctx); err == nil && len(list) == 0 {
		log.Info("no dashboard account yet: set up the owner in the dashboard at http://" + ln.Addr().String() +
			"/ (POST /api/v1/setup) or with `sightline account create --role owner --password-stdin ...`")
	}
	// The first person to sign in after a start lands on an overview
	// already computed (or being computed).
	a.WarmOverviews(ctx, st.Sites(ctx))
	if ready != nil {
		ready <- addrs
	}
	g.Go(func() error {
		select {
		case <-db.Dead():
			return fmt.Errorf("%w: %w", ErrRestart, db.DeadErr())
		case <-gctx.Done():
			return nil
		}
	})
	g.Go(func() error {
		<-gctx.Done()
		return shutdown(cfg.ShutdownTimeout, log, servers, pipe, func(ctx context.Context) error {
			return errors.Join(alerts.stop(ctx), janitor(ctx))
		}, a.Stop, db, cfg.SocketPath())
	})
	return g.Wait()
}

// ErrRestart means Run stopped because the database became unusable
// until it is reopened (DuckDB invalidates itself after a fatal error,
// such as a checkpoint on a full disk): everything acknowledged is in the
// write-ahead log, and running again reopens the database and applies it.
var ErrRestart = errors.New("the store must be reopened")

// dataDir creates the data folder owner-only, and warns when an existing
// one lets others in. It does not change an existing folder: an operator
// may have opened it to a backup group on purpose.
func dataDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the data folder: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		log.Warn("the data folder is open to other users; it holds every tracked user's data: chmod 700 "+dir,
			"data", dir, "mode", fmt.Sprintf("%#o", perm))
	}
	return nil
}

// withHeaders sets the headers every answer carries: nosniff, so that no
// browser takes a JSON answer, an uploaded text or a script for another
// type than the one it is sent as.
func withHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

func serve(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdown stops in order, each step bounded and logged: HTTP (waiting for
// in-flight requests, whose messages the pipeline still commits), then the
// pipeline (committing what is queued), then the recording janitor and
// the overview's background counts, then the store (checkpointing).
func shutdown(timeout time.Duration, log *slog.Logger, servers []*http.Server, pipe *ingest.Pipeline,
	janitor, counts func(context.Context) error, db analytics, socket string) error {
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
	step("http", func() error {
		var errs []error
		for _, s := range servers {
			errs = append(errs, s.Shutdown(ctx))
		}
		return errors.Join(errs...)
	})
	step("pipeline", func() error { return pipe.Stop(ctx) })
	step("alerts and recording janitor", func() error { return janitor(ctx) })
	step("overview counts", func() error { return counts(ctx) })
	step("store", db.Close)
	os.Remove(socket)
	return errors.Join(errs...)
}

// readyLag is the applier lag beyond which the server reports not ready:
// reads would wait for it.
const readyLag = 50_000

// readiness answers /readyz: 200 when the server can take writes and answer
// reads at once, else 503 with the reasons, so that a load balancer can
// send traffic elsewhere. /healthz stays a liveness check.
func readiness(w http.ResponseWriter, h store.Health, reasons ...string) {
	if h.WriteError != "" {
		reasons = append(reasons, "writes refused: "+h.WriteError)
	}
	if h.ApplyError != "" {
		reasons = append(reasons, "applier failing: "+h.ApplyError)
	}
	if h.Lag > readyLag {
		reasons = append(reasons, fmt.Sprintf("applier lagging: %d messages behind", h.Lag))
	}
	status, code := http.StatusOK, "ready"
	if len(reasons) > 0 {
		status, code = http.StatusServiceUnavailable, "not_ready"
	}
	apierr.WriteJSON(w, status, map[string]any{"status": code, "reasons": reasons, "store": h})
}

// textOnly refuses a request whose path or query parameters are not UTF-8
// text (%FF decodes to a byte that is not): no handler has a use for it,
// and the database's driver crashes binding such a string in a list.
func textOnly(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !utf8.ValidString(r.URL.Path) {
			apierr.Write(w, log, apierr.Invalid("invalid_utf8", "", "the path is not valid UTF-8"))
			return
		}
		for k, vs := range r.URL.Query() {
			ok := utf8.ValidString(k)
			for _, v := range vs {
				ok = ok && utf8.ValidString(v)
			}
			if !ok {
				apierr.Write(w, log, apierr.Invalid("invalid_utf8", strings.ToValidUTF8(k, "\uFFFD"),
					"the query parameter is not valid UTF-8"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
