// Package api serves the read and administration REST API under
// /api/v1/sites/{site}/: users and their attributes, history, events and
// sessions, the attribute catalog, rejections, type changes, merges and the
// site's settings.
// Every endpoint needs a bearer token of the site with a sufficient scope.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// Store is what the API needs of storage.
type Store interface {
	store.Reader
	store.Merger
	store.TypeChanger
	store.Segments
	Site(ctx context.Context, publicID string) (store.Site, error)
	UpdateSite(ctx context.Context, publicID string, u store.SiteUpdate) (store.Site, error)
	TokenBySecret(ctx context.Context, secret string) (store.Token, error)
}

// API is the REST API's handler set.
type API struct {
	store    Store
	segments *engine.Engine
	log      *slog.Logger
	survey   *surveyDeps // nil until UseSurveys
}

// New returns the API over st, evaluating segments with seg.
func New(st Store, seg *engine.Engine, log *slog.Logger) *API {
	return &API{store: st, segments: seg, log: log}
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
	mux.Handle("POST "+p+"/merge", a.auth(store.ScopeWrite, a.postMerge))
	a.registerSegments(mux, p)
	a.registerSurveys(mux, p)
}

// auth checks the bearer token: it must belong to the site in the path and
// have at least scope need. A token of another site gets 404, as if the
// site did not exist, so that site IDs cannot be probed.
func (a *API) auth(need store.Scope, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" {
			apierr.Write(w, a.log, &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "send an API token as Authorization: Bearer TOKEN"})
			return
		}
		tok, err := a.store.TokenBySecret(r.Context(), secret)
		if err != nil {
			apierr.Write(w, a.log, &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "unknown or revoked API token"})
			return
		}
		site, err := a.store.Site(r.Context(), r.PathValue("site"))
		if err != nil || site.ID != tok.SiteID {
			apierr.Write(w, a.log, &apierr.Error{Status: http.StatusNotFound, Code: "site_not_found",
				Field: "site", Message: "no such site for this token"})
			return
		}
		if !tok.Scope.Allows(need) {
			apierr.Write(w, a.log, &apierr.Error{Status: http.StatusForbidden, Code: "forbidden",
				Message: "this needs a token with scope " + string(need) + "; yours has " + string(tok.Scope)})
			return
		}
		if err := h(w, r, site); err != nil {
			apierr.Write(w, a.log, translate(err))
		}
	})
}

// translate maps store errors to API errors.
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
