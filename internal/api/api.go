// Package api serves the read and administration REST API under
// /api/v1/sites/{site}/: users and their attributes, history, events and
// sessions, the attribute catalog, rejections, type changes, merges,
// the event catalog, segments, the site's settings, API tokens and write key,
// and the site's overview.
// Every endpoint needs a bearer token of the site with a sufficient scope,
// or a signed-in dashboard session whose account has that scope there.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/csvimport"
	"github.com/sightline/sightline/internal/erase"
	"github.com/sightline/sightline/internal/insight"
	"github.com/sightline/sightline/internal/notify"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// Store is what the API needs of storage.
type Store interface {
	store.Reader
	store.Merger
	store.TypeChanger
	store.Segments
	store.RecentActivity
	store.Quarantine
	store.EventCatalog
	store.Overview
	Credentials
	InsightStore
	// CurrentAttributes reads the named current attributes of users.
	CurrentAttributes(ctx context.Context, site int64, keys []int64, names []string) (map[int64][]store.AttrState, error)
	Site(ctx context.Context, publicID string) (store.Site, error)
	UpdateSite(ctx context.Context, publicID string, u store.SiteUpdate) (store.Site, error)
	TokenBySecret(ctx context.Context, secret string) (store.Token, error)
}

// Sessions finds the dashboard account a browser's session cookie signs
// in (package account provides it).
type Sessions interface {
	// SiteScope returns the scope the browser signed in on r has on a
	// site, "" when its account may not see the site. signedIn is false
	// when r has no valid session. A state-changing request that fails the
	// CSRF check gets an error to answer with.
	SiteScope(w http.ResponseWriter, r *http.Request, siteID int64) (scope store.Scope, signedIn bool, err error)
}

// API is the REST API's handler set.
type API struct {
	store       Store
	segments    *engine.Engine
	sessions    Sessions
	recordings  Recordings     // nil: no recording endpoints
	heatmaps    Heatmaps       // nil: no heatmap endpoints
	backgrounds Backgrounds    // nil: heatmaps without backgrounds
	survey      *surveyDeps    // nil until UseSurveys
	compare     *compareDeps   // nil until UseCompare
	erasure     *erase.Service // nil: no deletion or export endpoints
	// submissions reads a user's survey responses and feedback, for exports.
	submissions store.Submissions
	retainer    store.Retainer    // nil: no retention endpoints
	importer    csvimport.Store   // nil: no import endpoint
	siteDeleter store.SiteDeleter // nil: sites cannot be deleted
	alerts      *notify.Service   // nil until UseAlerts
	overview    *overviewKeeps
	insights    *insight.Engine // set by registerInsights
	log         *slog.Logger
}

// New returns the API over st, evaluating segments with seg. sessions, when
// not nil, lets signed-in browsers in besides bearer tokens.
func New(st Store, seg *engine.Engine, sessions Sessions, log *slog.Logger) *API {
	return &API{store: st, segments: seg, sessions: sessions, overview: newOverviewKeeps(), log: log}
}

// handlerFunc is an endpoint that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request, site store.Site) error

// Register adds the endpoints to mux.
func (a *API) Register(mux *http.ServeMux) {
	const p = "/api/v1/sites/{site}"
	mux.Handle("GET "+p, a.auth(store.ScopeRead, a.getSite))
	mux.Handle("PATCH "+p, a.auth(store.ScopeAdmin, a.patchSite))
	mux.Handle("GET "+p+"/users", a.auth(store.ScopeRead, a.searchUsers))
	mux.Handle("GET "+p+"/users/{id}", a.auth(store.ScopeRead, a.getUser))
	mux.Handle("GET "+p+"/users/{id}/history", a.auth(store.ScopeRead, a.getHistory))
	mux.Handle("GET "+p+"/users/{id}/events", a.auth(store.ScopeRead, a.getEvents))
	mux.Handle("GET "+p+"/users/{id}/sessions", a.auth(store.ScopeRead, a.getSessions))
	mux.Handle("GET "+p+"/attributes", a.auth(store.ScopeRead, a.getCatalog))
	mux.Handle("PATCH "+p+"/attributes/{key}", a.auth(store.ScopeAdmin, a.patchAttribute))
	mux.Handle("GET "+p+"/rejections", a.auth(store.ScopeRead, a.getRejections))
	mux.Handle("GET "+p+"/quarantine", a.auth(store.ScopeRead, a.getQuarantine))
	mux.Handle("POST "+p+"/merge", a.auth(store.ScopeWrite, a.postMerge))
	mux.Handle("GET "+p+"/install", a.auth(store.ScopeRead, a.getInstall))
	a.registerEvents(mux, p)
	a.registerSegments(mux, p)
	a.registerCredentials(mux, p)
	if a.recordings != nil {
		a.registerRecordings(mux, p)
	}
	a.registerSurveys(mux, p)
	a.registerOverview(mux, p)
	if a.heatmaps != nil {
		a.registerHeatmaps(mux, p)
	}
	a.registerInsights(mux, p)
	a.registerCompare(mux, p)
	if a.erasure != nil {
		a.registerErasure(mux, p)
	}
	if a.retainer != nil {
		a.registerRetention(mux, p)
	}
	if a.importer != nil {
		a.registerImport(mux, p)
	}
	if a.siteDeleter != nil {
		a.registerSiteDeletion(mux, p)
	}
	a.registerAlerts(mux, p)
}

// auth checks the caller: a bearer token, which must belong to the site in
// the path, or else a signed-in browser session, whose account must have
// access to the site; either needs at least scope need. A token of another
// site, or an account without access, gets 404, as if the site did not
// exist, so that site IDs cannot be probed.
func (a *API) auth(need store.Scope, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope, siteID, err := a.caller(w, r)
		if err != nil {
			apierr.Write(w, a.log, err)
			return
		}
		site, err := a.store.Site(r.Context(), r.PathValue("site"))
		if err != nil || site.ID != siteID || scope == "" {
			apierr.Write(w, a.log, errSiteNotFound)
			return
		}
		if !scope.Allows(need) {
			apierr.Write(w, a.log, &apierr.Error{Status: http.StatusForbidden, Code: "forbidden",
				Message: "this needs scope " + string(need) + "; yours is " + string(scope)})
			return
		}
		if err := h(w, r, site); err != nil {
			apierr.Write(w, a.log, translate(err))
		}
	})
}

var errSiteNotFound = &apierr.Error{Status: http.StatusNotFound, Code: "site_not_found",
	Field: "site", Message: "no such site for these credentials"}

// caller returns the scope of r's credentials on the site in the path, and
// that site's internal ID as far as the credentials reach (0 when they
// cannot say). A bearer token wins over a cookie: requests with a token are
// not cookie-authenticated and need no CSRF token.
func (a *API) caller(w http.ResponseWriter, r *http.Request) (store.Scope, int64, error) {
	if h := r.Header.Get("Authorization"); h != "" || a.sessions == nil {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || secret == "" {
			return "", 0, &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "send an API token as Authorization: Bearer TOKEN, or sign in"}
		}
		tok, err := a.store.TokenBySecret(r.Context(), secret)
		if err != nil {
			return "", 0, &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "unknown or revoked API token"}
		}
		return tok.Scope, tok.SiteID, nil
	}
	site, err := a.store.Site(r.Context(), r.PathValue("site"))
	if err != nil {
		site.ID = -1
	}
	scope, signedIn, err := a.sessions.SiteScope(w, r, site.ID)
	if err != nil {
		return "", 0, err
	}
	if !signedIn {
		return "", 0, &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
			Message: "send an API token as Authorization: Bearer TOKEN, or sign in"}
	}
	return scope, site.ID, nil
}

// translate maps store and engine errors to API errors. A segment query
// that went beyond the server's bounds (time, memory) is a 503: the
// definition is valid, and the server could not afford it now.
func translate(err error) error {
	var e *apierr.Error
	var fe *store.FieldError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &fe):
		return apierr.Invalid(fe.Code, fe.Field, "%s", fe.Msg)
	case errors.Is(err, store.ErrNotFound):
		return &apierr.Error{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()}
	case errors.Is(err, store.ErrConflict):
		return &apierr.Error{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
	case errors.Is(err, engine.ErrInvalid): // such as a saved segment grown beyond the limits
		return segmentError(err)
	case errors.Is(err, engine.ErrTimeout):
		return &apierr.Error{Status: http.StatusServiceUnavailable, Code: "query_timeout",
			Message: "evaluating the segment took longer than the server's query timeout allows, and was stopped; " +
				"narrow it (fewer conditions, shorter periods) or try again when the server is less busy"}
	case errors.Is(err, engine.ErrTooExpensive):
		return &apierr.Error{Status: http.StatusServiceUnavailable, Code: "query_too_expensive",
			Message: "the segment needs more memory than the database may use; narrow it (fewer conditions, shorter periods) " +
				"or try again when the server is less busy"}
	}
	return err
}

// intParam reads an optional positive integer query parameter, capped at
// max.
func intParam(r *http.Request, name string, def, max int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, apierr.Invalid("invalid_parameter", name, "%s must be a positive integer", name)
	}
	return min(n, max), nil
}

// identity reads the user in the path: a user ID, or an anonymous ID with
// ?kind=anonymous.
func identity(r *http.Request) (store.Identity, error) {
	kind := r.URL.Query().Get("kind")
	switch kind {
	case "", "user":
		kind = "user"
	case "anonymous":
	default:
		return store.Identity{}, apierr.Invalid("invalid_parameter", "kind", "kind must be user or anonymous")
	}
	return store.Identity{Kind: kind, ID: r.PathValue("id")}, nil
}
