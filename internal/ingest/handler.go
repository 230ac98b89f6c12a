// Package ingest receives data: the Segment HTTP tracking API (identify,
// track, page, screen, group, alias, batch), validated message by message
// and group-committed to the store before it is acknowledged.
package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/admit"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/jsoncheck"
	"github.com/sightline/sightline/internal/scrub"
	"github.com/sightline/sightline/internal/store"
)

// SiteFinder finds the site a write key belongs to.
type SiteFinder interface {
	SiteByWriteKey(ctx context.Context, writeKey string) (store.Site, error)
}

// Config configures the ingestion handler.
type Config struct {
	Sites      SiteFinder
	Pipeline   *Pipeline
	Limits     Limits
	UA         *enrich.UAParser
	Geo        *enrich.Geo // nil: no country lookup
	TrustProxy bool        // read the client IP from X-Forwarded-For
	// MaxConcurrent bounds requests being read and decoded at once; more
	// are answered 429.
	MaxConcurrent int
	Metrics       *Metrics
	Log           *slog.Logger
	Now           func() time.Time

	// MaxConcurrentPerIP bounds those of one client address (an IPv6
	// /64); more are answered 429 too_many_requests_from_client.
	MaxConcurrentPerIP int
	// Body bounds how long a request body may take to arrive.
	Body admit.BodyLimits
}

// Handler serves the Segment-spec endpoints.
type Handler struct {
	cfg  Config
	norm normalizer
	// receiving bounds requests whose bodies are arriving; gate bounds
	// those being decoded and stored, whose bodies are in.
	receiving *admit.Gate
	gate      *admit.Gate
}

// NewHandler returns an ingestion handler.
func NewHandler(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 64
	}
	return &Handler{
		cfg:       cfg,
		norm:      normalizer{limits: cfg.Limits, ua: cfg.UA, geo: cfg.Geo, trustProxy: cfg.TrustProxy, newID: newMessageID},
		gate:      admit.NewGate(cfg.MaxConcurrent, cfg.MaxConcurrentPerIP, "ingestion requests"),
		receiving: admit.NewReceivers(cfg.MaxConcurrent, cfg.MaxConcurrentPerIP, "ingestion requests"),
	}
}

// Register adds the endpoints to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, k := range []store.Kind{store.KindIdentify, store.KindTrack, store.KindPage, store.KindScreen,
		store.KindGroup, store.KindAlias} {
		mux.HandleFunc("POST /v1/"+k.String(), h.serve(k))
	}
	mux.HandleFunc("POST /v1/batch", h.serve(0))
	mux.HandleFunc("POST /v1/import", h.serve(0)) // older libraries' name for batch
}

func newMessageID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "sl-" + hex.EncodeToString(b[:])
}

// wireBatch is a batch request's envelope. Its context applies to every
// message of the batch; Segment's server libraries (analytics-go's
// DefaultContext) send context only there.
type wireBatch struct {
	Batch    []json.RawMessage `json:"batch"`
	SentAt   string            `json:"sentAt"`
	WriteKey string            `json:"writeKey"`
	Context  wireContext       `json:"context"`
}

// Rejected reports one refused message of a batch.
type Rejected struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Warned reports an attribute value refused inside an accepted message.
type Warned struct {
	Index int `json:"index"`
	store.Warning
}

// Response is the answer to an accepted request.
type Response struct {
	Success    bool       `json:"success"`
	Accepted   int        `json:"accepted"`
	Duplicates int        `json:"duplicates"`
	Rejected   []Rejected `json:"rejected,omitempty"`
	Warnings   []Warned   `json:"warnings,omitempty"`
}

// serve handles one endpoint; kind 0 is a batch.
func (h *Handler) serve(kind store.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, h.handle(w, r, kind))
	}
}

// ServeBrowserBatch stores a batch that a browser sent for site, which the
// caller has already authenticated (the tracker's endpoint checks the key
// and the page's origin) and whose body it has paced (admit.BodyLimits).
// The body is a batch as /v1/batch takes it and goes through the same
// validation and pipeline; any writeKey in it is ignored. The device comes
// from the request's User-Agent header unless the batch's context names
// another: a browser's own header is the one to trust.
func (h *Handler) ServeBrowserBatch(w http.ResponseWriter, r *http.Request, site store.Site) {
	h.fail(w, h.handleBrowser(w, r, site))
}

func (h *Handler) handleBrowser(w http.ResponseWriter, r *http.Request, site store.Site) error {
	body, slot, err := h.receive(w, r)
	if err != nil {
		return err
	}
	defer slot.Release()
	b, err := h.decode(body, 0)
	if err != nil {
		return err
	}
	if b.context.UserAgent == "" {
		// A header may hold any bytes; it is the browser's, so it is
		// mended rather than refused.
		b.context.UserAgent = strings.ToValidUTF8(r.UserAgent(), "\uFFFD")
	}
	return h.accept(w, r, site, 0, b, store.SourceTracker)
}

// fail answers with err, if there is one, counting it as a rejection.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	if err == nil {
		return
	}
	var e *apierr.Error
	if errors.As(err, &e) {
		h.cfg.Metrics.Rejected.WithLabelValues(e.Code).Inc()
	}
	apierr.Write(w, h.cfg.Log, err)
}

// acquire takes one of the MaxConcurrent slots for reading and decoding a
// request, within the client address's share, or answers 429 at once
// without reading the body.
func (h *Handler) acquire(w http.ResponseWriter, r *http.Request, g *admit.Gate) (admit.Slot, error) {
	slot, err := g.Acquire(admit.Client(r, h.cfg.TrustProxy))
	if err != nil {
		admit.DropBody(w, r)
	}
	return slot, err
}

// receive reads a request's body holding a place among the requests being
// received, then takes a decode slot for the rest of the request, which
// the caller releases. A slow body never holds a decode slot.
func (h *Handler) receive(w http.ResponseWriter, r *http.Request) ([]byte, admit.Slot, error) {
	in, err := h.acquire(w, r, h.receiving)
	if err != nil {
		return nil, admit.Slot{}, err
	}
	body, err := h.readBody(r)
	in.Release()
	if err != nil {
		return nil, admit.Slot{}, err
	}
	slot, err := h.acquire(w, r, h.gate)
	return body, slot, err
}

// handle serves a Segment call. A write key in the Authorization header is
// checked before anything else, so that an unknown key costs no slot and
// no reading; a key only in the body is checked once the body is in, read
// within the client's share of slots and the body limits.
func (h *Handler) handle(w http.ResponseWriter, r *http.Request, kind store.Kind) error {
	var site store.Site
	headerKey := basicKey(r)
	if headerKey != "" {
		var err error
		if site, err = h.authenticate(r, headerKey); err != nil {
			admit.DropBody(w, r)
			return err
		}
	}
	r.Body = h.cfg.Body.Body(w, r)
	body, slot, err := h.receive(w, r)
	if err != nil {
		return err
	}
	defer slot.Release()
	b, err := h.decode(body, kind)
	if err != nil {
		return err
	}
	if headerKey == "" {
		if site, err = h.authenticate(r, b.writeKey); err != nil {
			return err
		}
	}
	return h.accept(w, r, site, kind, b, store.SourceServer)
}

// decoded is a request body split into its messages; for a batch, with the
// envelope's fields that apply to every message.
type decoded struct {
	raws     []json.RawMessage
	sentAt   string
	writeKey string
	context  wireContext
}

// decode splits a body into messages: a batch's list for kind 0, else the
// body itself as the one message. A body that holds no message is refused:
// answering 200 to it would tell a broken client that all is well.
func (h *Handler) decode(body []byte, kind store.Kind) (decoded, error) {
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		return decoded{}, apierr.Invalid("malformed_json", "", "the body must be a JSON object")
	}
	if kind != 0 {
		var probe struct {
			WriteKey string `json:"writeKey"`
		}
		if err := json.Unmarshal(body, &probe); err != nil {
			return decoded{}, apierr.Invalid("malformed_json", "", "the body is not a JSON object: %v", err)
		}
		return decoded{raws: []json.RawMessage{body}, writeKey: probe.WriteKey}, nil
	}
	var b wireBatch
	if err := json.Unmarshal(body, &b); err != nil {
		return decoded{}, apierr.Invalid("malformed_json", "", "the body is not a JSON batch object: %v", err)
	}
	switch {
	case b.Batch == nil:
		return decoded{}, apierr.Invalid("missing_batch", "batch", "a batch body is {\"batch\": [message, ...]}")
	case len(b.Batch) == 0:
		return decoded{}, apierr.Invalid("empty_batch", "batch", "the batch holds no message")
	case len(b.Batch) > h.cfg.Limits.MaxBatchMessages:
		return decoded{}, &apierr.Error{Status: http.StatusRequestEntityTooLarge, Code: "batch_too_large", Field: "batch",
			Message: fmt.Sprintf("%d messages in one batch; the limit is %d", len(b.Batch), h.cfg.Limits.MaxBatchMessages)}
	}
	// The envelope's strings apply to every message: each message's own
	// are checked with the message.
	for _, f := range []struct{ name, value string }{{"sentAt", b.SentAt}, {"writeKey", b.WriteKey}} {
		if p := jsoncheck.String(f.name, f.value); p != nil {
			return decoded{}, apierr.Invalid(p.Code, p.Field, "%s", p.Message)
		}
	}
	if p := b.Context.check("context"); p != nil {
		return decoded{}, apierr.Invalid(p.Code, p.Field, "%s", p.Message)
	}
	return decoded{raws: b.Batch, sentAt: b.SentAt, writeKey: b.WriteKey, context: b.Context}, nil
}

// accept validates every message for site, submits the valid ones to the
// pipeline and answers once they are durable.
func (h *Handler) accept(w http.ResponseWriter, r *http.Request, site store.Site, kind store.Kind, b decoded,
	source store.Source) error {
	req := request{site: site.ID, receivedAt: h.cfg.Now().UTC(), sentAt: b.sentAt, context: b.context,
		remoteAddr: r.RemoteAddr, xff: r.Header.Get("X-Forwarded-For"), source: source,
		scrub: scrub.New(site.KeepParams, site.ScrubParams)}
	msgs := make([]store.Message, 0, len(b.raws))
	index := make([]int, 0, len(b.raws))
	var resp Response
	for i, raw := range b.raws {
		m, ferr := h.norm.normalize(raw, kind, req)
		if ferr != nil {
			if kind != 0 {
				return &apierr.Error{Status: http.StatusBadRequest, Code: ferr.Code, Field: ferr.Field, Message: ferr.Message}
			}
			h.cfg.Metrics.Rejected.WithLabelValues(ferr.Code).Inc()
			resp.Rejected = append(resp.Rejected, Rejected{Index: i, Code: ferr.Code, Field: ferr.Field, Message: ferr.Message})
			continue
		}
		msgs = append(msgs, m)
		index = append(index, i)
	}
	if len(msgs) == 0 {
		if len(resp.Rejected) > 0 {
			apierr.WriteJSON(w, http.StatusBadRequest, map[string]any{
				"error":    apierr.Invalid("all_rejected", "batch", "no message of the batch was valid"),
				"rejected": resp.Rejected})
			return nil
		}
		resp.Success = true
		apierr.WriteJSON(w, http.StatusOK, resp)
		return nil
	}
	outcomes, err := h.cfg.Pipeline.Submit(r.Context(), msgs)
	if err != nil {
		return h.submitError(err)
	}
	for j, o := range outcomes {
		if o.Refused != nil {
			// Ingestion checks what the store checks: this is a defect,
			// reported as a refusal rather than lost.
			h.cfg.Metrics.Rejected.WithLabelValues(o.Refused.Code).Inc()
			resp.Rejected = append(resp.Rejected, Rejected{Index: index[j], Code: o.Refused.Code,
				Field: o.Refused.Field, Message: o.Refused.Message})
			continue
		}
		if o.Duplicate {
			resp.Duplicates++
			h.cfg.Metrics.Duplicates.Inc()
			continue
		}
		resp.Accepted++
		h.cfg.Metrics.Accepted.WithLabelValues(msgs[j].Kind.String()).Inc()
		for _, wn := range o.Warnings {
			h.cfg.Metrics.Warnings.WithLabelValues(wn.Code).Inc()
			resp.Warnings = append(resp.Warnings, Warned{Index: index[j], Warning: wn})
		}
	}
	resp.Success = true
	apierr.WriteJSON(w, http.StatusOK, resp)
	return nil
}

func (h *Handler) submitError(err error) error {
	switch {
	case errors.Is(err, ErrOverloaded):
		return &apierr.Error{Status: http.StatusTooManyRequests, Code: "overloaded",
			Message: "the ingestion queue is full; retry later", RetryAfter: time.Second}
	case errors.Is(err, store.ErrUnavailable):
		return &apierr.Error{Status: http.StatusServiceUnavailable, Code: "storage_unavailable",
			Message:    "the data could not be stored (is the disk full?); nothing was acknowledged, retry later",
			RetryAfter: 5 * time.Second}
	case errors.Is(err, store.ErrBusy):
		return &apierr.Error{Status: http.StatusServiceUnavailable, Code: "busy",
			Message: "the database is catching up; retry shortly", RetryAfter: time.Second}
	case errors.Is(err, ErrStopped), errors.Is(err, store.ErrClosed):
		return &apierr.Error{Status: http.StatusServiceUnavailable, Code: "shutting_down",
			Message: "the server is shutting down; retry later", RetryAfter: 5 * time.Second}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &apierr.Error{Status: http.StatusServiceUnavailable, Code: "cancelled",
			Message: "the request ended before its commit was confirmed; retry (duplicates are dropped by messageId)"}
	}
	// The pipeline logged the failed commit: one line for all its requests.
	return &apierr.Error{Status: http.StatusServiceUnavailable, Code: "storage_unavailable",
		Message: "the data could not be stored; nothing was acknowledged, retry later", RetryAfter: time.Second}
}

// readBody reads the request body, gunzipping it when needed, within the
// request size limit.
func (h *Handler) readBody(r *http.Request) ([]byte, error) {
	limit := h.cfg.Limits.MaxRequestBytes
	var src io.Reader = http.MaxBytesReader(nil, r.Body, limit)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(src)
		if errors.Is(err, admit.ErrBodyTimeout) {
			return nil, admit.ErrBodyTimeout
		}
		if err != nil {
			return nil, apierr.Invalid("malformed_body", "", "the body is not valid gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	}
	body, err := io.ReadAll(io.LimitReader(src, limit+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || int64(len(body)) > limit {
		return nil, &apierr.Error{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large",
			Message: fmt.Sprintf("the request body exceeds the limit of %d bytes", limit)}
	}
	if errors.Is(err, admit.ErrBodyTimeout) {
		return nil, admit.ErrBodyTimeout
	}
	if err != nil {
		return nil, apierr.Invalid("malformed_body", "", "the body could not be read: %v", err)
	}
	return body, nil
}

// basicKey is the write key as the HTTP Basic user name, as Segment's
// libraries send it; "" when there is none.
func basicKey(r *http.Request) string {
	key, _, _ := r.BasicAuth()
	return key
}

// authenticate finds the site of a write key: the HTTP Basic user name or
// the body's writeKey.
func (h *Handler) authenticate(r *http.Request, key string) (store.Site, error) {
	if key == "" {
		return store.Site{}, &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
			Message: "send the site's write key as the HTTP Basic user name"}
	}
	site, err := h.cfg.Sites.SiteByWriteKey(r.Context(), key)
	if err != nil {
		return store.Site{}, &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
			Message: "unknown write key"}
	}
	return site, nil
}
