// Package audit keeps the audit log: who did what and when, for every
// administrative request the server answers (sign-ins, token and key
// changes, role and type changes, deletions, exports, imports, site
// settings), readable by owners and kept for a configured time.
package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// Accounts finds the account signed in on a request, and the owner
// (account.Service).
type Accounts interface {
	Who(r *http.Request) (store.Account, bool)
	Owner(w http.ResponseWriter, r *http.Request) (store.Account, error)
}

// Tokens finds an API token by its secret.
type Tokens interface {
	TokenBySecret(ctx context.Context, secret string) (store.Token, error)
}

// Log records administrative requests.
type Log struct {
	store    store.Auditor
	accounts Accounts
	tokens   Tokens
	keep     time.Duration
	now      func() time.Time
	log      *slog.Logger
}

// New returns the audit log; entries older than keep are deleted.
func New(st store.Auditor, accounts Accounts, tokens Tokens, keep time.Duration, now func() time.Time, log *slog.Logger) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{store: st, accounts: accounts, tokens: tokens, keep: keep, now: now, log: log}
}

// audited says whether a request is an administrative action: every
// request of the API that changes something, and exports.
func audited(r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return strings.HasSuffix(r.URL.Path, "/export") || strings.HasSuffix(r.URL.Path, "/responses.csv")
	}
	// Previews and trend queries are reads sent as POST.
	return !strings.HasSuffix(r.URL.Path, "/preview") && !strings.HasSuffix(r.URL.Path, "/segments/trend")
}

// Middleware records every audited request once it is answered.
func (l *Log) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !audited(r) {
			next.ServeHTTP(w, r)
			return
		}
		signIn := r.Method == http.MethodPost && (r.URL.Path == "/api/v1/session" || r.URL.Path == "/api/v1/setup")
		var email string
		if signIn {
			// The actor of a sign-in is the email it names.
			b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
			r.Body = io.NopCloser(bytes.NewReader(b))
			var body struct {
				Email string `json:"email"`
			}
			json.Unmarshal(b, &body)
			email = strings.ToLower(strings.TrimSpace(body.Email))
		}
		actor := l.actor(r)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if signIn {
			actor = email
		}
		action := r.Pattern
		if action == "" {
			action = r.Method + " " + r.URL.Path
		}
		e := store.AuditEntry{ID: newID(), At: l.now().UTC(), Actor: actor, Action: action, Site: r.PathValue("site"), Status: sw.status}
		if err := l.store.AddAudit(context.WithoutCancel(r.Context()), e); err != nil {
			l.log.Warn("audit log entry not saved", "action", action, "err", err)
		}
	})
}

// actor names who sends r: the signed-in account's email, or the API
// token's ID.
func (l *Log) actor(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		if tok, err := l.tokens.TokenBySecret(r.Context(), strings.TrimPrefix(h, "Bearer ")); err == nil {
			return "token " + tok.ID
		}
		return "an unknown token"
	}
	if a, ok := l.accounts.Who(r); ok {
		return a.Email
	}
	return "anonymous"
}

// Register adds GET /api/v1/audit, for owners.
func (l *Log) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/audit", func(w http.ResponseWriter, r *http.Request) {
		if err := l.list(w, r); err != nil {
			apierr.Write(w, l.log, err)
		}
	})
}

func (l *Log) list(w http.ResponseWriter, r *http.Request) error {
	if _, err := l.accounts.Owner(w, r); err != nil {
		return err
	}
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return apierr.Invalid("invalid_parameter", "limit", "limit is a number from 1 to 1000")
		}
		limit = n
	}
	var before time.Time
	if s := r.URL.Query().Get("before"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return apierr.Invalid("invalid_parameter", "before", "before is the at of the last entry of the previous page")
		}
		before = t
	}
	entries, err := l.store.AuditLog(r.Context(), before, limit)
	if err != nil {
		return err
	}
	next := ""
	if len(entries) == limit {
		next = entries[len(entries)-1].At.Format(time.RFC3339Nano)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"entries": entries, "next_before": next,
		"kept_days": int(l.keep.Hours() / 24)})
	return nil
}

// Run deletes entries past the keeping time, at start and then hourly,
// until ctx ends.
func (l *Log) Run(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := l.store.ExpireAudit(ctx, l.now().Add(-l.keep)); err != nil && ctx.Err() == nil {
			l.log.Warn("audit log expiry failed", "err", err)
		} else if n > 0 {
			l.log.Info("expired audit log entries", "entries", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Flush passes flushes on (exports stream).
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return "au_" + hex.EncodeToString(b[:])
}
