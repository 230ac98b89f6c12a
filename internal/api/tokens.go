package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// Credentials manages a site's API tokens and write key.
type Credentials interface {
	Tokens(ctx context.Context, siteID int64) ([]store.Token, error)
	TokenByID(ctx context.Context, id string) (store.Token, error)
	CreateNamedToken(ctx context.Context, siteID int64, scope store.Scope, name string) (store.Token, string, error)
	RevokeToken(ctx context.Context, id string) error
	RotateWriteKey(ctx context.Context, siteID int64) (string, error)
	WriteKey(ctx context.Context, siteID int64) (string, error)
}

func (a *API) registerCredentials(mux *http.ServeMux, p string) {
	mux.Handle("GET "+p+"/tokens", a.auth(store.ScopeAdmin, a.listTokens))
	mux.Handle("POST "+p+"/tokens", a.auth(store.ScopeAdmin, a.createToken))
	mux.Handle("DELETE "+p+"/tokens/{id}", a.auth(store.ScopeAdmin, a.revokeToken))
	mux.Handle("POST "+p+"/write-key", a.auth(store.ScopeAdmin, a.rotateWriteKey))
	mux.Handle("GET "+p+"/write-key", a.auth(store.ScopeAdmin, a.getWriteKey))
}

// getWriteKey shows admins the site's write key, for the install snippet;
// "" for a site made before keys were kept, until it is rotated.
func (a *API) getWriteKey(w http.ResponseWriter, r *http.Request, site store.Site) error {
	key, err := a.store.WriteKey(r.Context(), site.ID)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"write_key": key})
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request, site store.Site) error {
	toks, err := a.store.Tokens(r.Context(), site.ID)
	if err != nil {
		return err
	}
	if toks == nil {
		toks = []store.Token{}
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"tokens": toks})
	return nil
}

// createToken makes a token; its secret is in the answer, and only there.
func (a *API) createToken(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var body struct {
		Scope string `json:"scope"`
		Name  string `json:"name"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	scope := store.Scope(body.Scope)
	if !scope.Allows(store.ScopeRead) {
		return apierr.Invalid("invalid_field", "scope", "scope must be read, write or admin")
	}
	name := strings.TrimSpace(body.Name)
	if len(name) > 200 {
		return apierr.Invalid("invalid_field", "name", "a token's name has at most 200 bytes")
	}
	tok, secret, err := a.store.CreateNamedToken(r.Context(), site.ID, scope, name)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusCreated, map[string]any{"token": tok, "secret": secret})
	return nil
}

// revokeToken revokes a token of the site; it stops working at once.
func (a *API) revokeToken(w http.ResponseWriter, r *http.Request, site store.Site) error {
	id := r.PathValue("id")
	tok, err := a.store.TokenByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && tok.SiteID != site.ID) {
		return &apierr.Error{Status: http.StatusNotFound, Code: "token_not_found", Field: "id", Message: "no such token: " + id}
	}
	if err != nil {
		return err
	}
	if err := a.store.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateWriteKey gives the site a new write key, shown only in this answer;
// the old key stops working at once.
func (a *API) rotateWriteKey(w http.ResponseWriter, r *http.Request, site store.Site) error {
	key, err := a.store.RotateWriteKey(r.Context(), site.ID)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"site": site.PublicID, "write_key": key})
	return nil
}
