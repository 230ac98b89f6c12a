// Package tracker serves the browser tracker: the script that sites embed
// with the snippet (built from web/tracker into dist/ by
// scripts/build-tracker.sh, and embedded so that `go build` alone gives a
// complete binary), and the endpoint its batches go to, which checks the
// site's key and allowed origins and hands the batch to ingestion.
package tracker

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/admit"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

//go:embed dist
var dist embed.FS

// StablePath is the script's address that never changes, for the snippet.
// It is cached briefly, so that sites pick up a new version within minutes.
const StablePath = "/t/sightline.js"

// SiteFinder finds the site a write key belongs to.
type SiteFinder interface {
	SiteByWriteKey(ctx context.Context, writeKey string) (store.Site, error)
}

// BatchServer stores a batch a browser sent for an authenticated site;
// *ingest.Handler is one.
type BatchServer interface {
	ServeBrowserBatch(w http.ResponseWriter, r *http.Request, site store.Site)
}

// ChunkServer stores a session-recording chunk a browser sent for an
// authenticated site; *recording.Service is one.
type ChunkServer interface {
	ServeRecordingChunk(w http.ResponseWriter, r *http.Request, site store.Site)
}

// Config configures the tracker's handler.
type Config struct {
	Sites  SiteFinder
	Ingest BatchServer
	// Recordings, when not nil, takes recording chunks at POST /t/rec.
	Recordings ChunkServer
	// Body bounds how long the body of a batch, chunk or other post may
	// take to arrive.
	Body admit.BodyLimits
	// Registerer, when not nil, gets the tracker's metrics.
	Registerer prometheus.Registerer
	Log        *slog.Logger
	// Endpoints are further endpoints by pattern ("GET /t/surveys"),
	// checked like the batch endpoint: the write key in k and an allowed
	// Origin, answered with CORS headers for it.
	Endpoints map[string]SiteHandler
	// ConfigParts add the settings of other features to GET /t/config,
	// each under its name ("recording", "feedback").
	ConfigParts map[string]ConfigPart
}

// ConfigPart returns one feature's settings for the tracker on a site.
type ConfigPart func(ctx context.Context, siteID int64) (any, error)

// Handler serves the tracker's scripts, config and batch endpoint.
type Handler struct {
	cfg     Config
	script  Script
	chunks  map[string]Script // by file name
	refused *prometheus.CounterVec
}

// Script is a built tracker script: the core, or a chunk it loads lazily.
type Script struct {
	Name string // sightline-VERSION-HASH.js, or NAME-HASH.js for a chunk
	Body []byte
	gz   []byte // Body gzipped once, at start
	etag string // quoted; the gzipped copy's has a -gz suffix
}

// LoadScript returns the core script embedded in the binary.
func LoadScript() (Script, error) {
	return loadScript(dist)
}

func loadScript(fsys fs.FS) (Script, error) {
	names, err := fs.Glob(fsys, "dist/sightline-*.js")
	if err != nil {
		return Script{}, fmt.Errorf("find the tracker script: %w", err)
	}
	if len(names) != 1 {
		return Script{}, fmt.Errorf("BUG: want one dist/sightline-*.js embedded, found %d; run scripts/build-tracker.sh", len(names))
	}
	return readScript(fsys, names[0])
}

// readScript reads a built script and gzips it.
func readScript(fsys fs.FS, name string) (Script, error) {
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return Script{}, fmt.Errorf("read the tracker script %s: %w", name, err)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return Script{}, fmt.Errorf("compress the tracker script %s: %w", name, err)
	}
	if _, err := zw.Write(body); err != nil {
		return Script{}, fmt.Errorf("compress the tracker script %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return Script{}, fmt.Errorf("compress the tracker script %s: %w", name, err)
	}
	sum := sha256.Sum256(body)
	return Script{Name: path.Base(name), Body: body, gz: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8])}, nil
}

// GzipSize is the size of the script as it is sent to browsers that accept
// gzip, which is what the size budget counts.
func (s Script) GzipSize() int { return len(s.gz) }

// Path is the script's versioned address, cached for a year.
func (s Script) Path() string { return "/t/" + s.Name }

// New returns the tracker's handler.
func New(cfg Config) (*Handler, error) {
	return newHandler(cfg, dist)
}

// newHandler returns a handler serving the scripts built into fsys's dist/.
func newHandler(cfg Config, fsys fs.FS) (*Handler, error) {
	s, err := loadScript(fsys)
	if err != nil {
		return nil, err
	}
	chunks, err := loadChunks(fsys)
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, script: s, chunks: chunks, refused: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sightline_tracker_refused_total",
		Help: "Tracker batches and config requests refused, by reason (key, origin).",
	}, []string{"reason"})}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(h.refused); err != nil {
			return nil, fmt.Errorf("register tracker metrics: %w", err)
		}
	}
	return h, nil
}

// Register adds the tracker's endpoints to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /t/{file}", h.serveScript)
	mux.HandleFunc("GET /t/chunks/{file}", h.serveChunk)
	mux.HandleFunc("GET /t/config", h.config)
	mux.HandleFunc("OPTIONS /t/batch", h.preflight)
	mux.HandleFunc("POST /t/batch", h.batch)
	if h.cfg.Recordings != nil {
		mux.HandleFunc("OPTIONS /t/rec", h.preflight)
		mux.HandleFunc("POST /t/rec", h.recording)
	}
	for pattern, fn := range h.cfg.Endpoints {
		mux.HandleFunc(pattern, h.siteEndpoint(fn))
	}
}

// serveScript serves the script under its versioned name (immutable, a
// year) and under StablePath (five minutes, then revalidated by ETag),
// gzipped when the browser accepts it.
func (h *Handler) serveScript(w http.ResponseWriter, r *http.Request) {
	s := &h.script
	hdr := w.Header()
	switch r.PathValue("file") {
	case s.Name:
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	case path.Base(StablePath):
		hdr.Set("Cache-Control", "public, max-age=300")
	default:
		apierr.Write(w, h.cfg.Log, &apierr.Error{Status: http.StatusNotFound, Code: "not_found",
			Message: "no such tracker file; the script is " + StablePath})
		return
	}
	writeScript(w, r, s)
}

// writeScript sends a script, gzipped when the browser accepts it, with an
// ETag; the caller has set Cache-Control.
func writeScript(w http.ResponseWriter, r *http.Request, s *Script) {
	hdr := w.Header()
	body, etag := s.Body, s.etag+`"`
	hdr.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = s.gz, s.etag+`-gz"`
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("ETag", etag)
	hdr.Set("Content-Type", "text/javascript; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	// Public and the same for everyone: any page may load it, also with
	// crossorigin (for error details) or behind Cross-Origin-Embedder-Policy.
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == "*" || strings.Contains(inm, etag)) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (not
// refused with q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if strings.HasPrefix(q, "q=") {
			if v, err := strconv.ParseFloat(q[2:], 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}
