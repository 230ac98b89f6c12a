// Package admin performs administration that needs no UI (creating sites,
// API tokens and accounts, revoking tokens) either directly on the database, when no server runs, or
// through the running server's unix socket, which only the data folder's
// owner can reach.
package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/csvimport"
	"github.com/sightline/sightline/internal/erase"
	"github.com/sightline/sightline/internal/store"
)

// NewSite is a created site with its write key, shown once.
type NewSite struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Origins  []string `json:"origins"`
	WriteKey string   `json:"write_key"`
}

// NewToken is a created API token with its secret, shown once.
type NewToken struct {
	ID    string `json:"id"`
	Site  string `json:"site"`
	Scope string `json:"scope"`
	Token string `json:"token"`
}

// Admin creates, changes and lists sites, creates and revokes tokens, and
// creates and lists accounts.
type Admin interface {
	CreateSite(ctx context.Context, name string, origins []string) (NewSite, error)
	UpdateSite(ctx context.Context, site string, u store.SiteUpdate) (store.Site, error)
	Sites(ctx context.Context) ([]store.Site, error)
	CreateToken(ctx context.Context, site string, scope store.Scope) (NewToken, error)
	RevokeToken(ctx context.Context, id string) error
	CreateAccount(ctx context.Context, a NewAccount) (AccountInfo, error)
	ListAccounts(ctx context.Context) ([]AccountInfo, error)
	DeleteUser(ctx context.Context, req DeleteUserRequest) (store.Erasure, error)
	ExportUser(ctx context.Context, req DeleteUserRequest, w io.Writer) error
	ImportUsers(ctx context.Context, site string, r io.Reader) (csvimport.Report, error)
	ImportCompanies(ctx context.Context, site string, r io.Reader) (csvimport.Report, error)
}

// Catalog is the part of the store administration uses.
type Catalog interface {
	CreateSite(ctx context.Context, name string, origins []string) (store.Site, string, error)
	UpdateSite(ctx context.Context, publicID string, u store.SiteUpdate) (store.Site, error)
	Site(ctx context.Context, publicID string) (store.Site, error)
	Sites(ctx context.Context) []store.Site
	CreateToken(ctx context.Context, siteID int64, scope store.Scope) (store.Token, string, error)
	RevokeToken(ctx context.Context, id string) error
	ListAccounts(ctx context.Context) ([]store.Account, error)
}

// Local administers a store opened in this process; Accounts creates
// accounts in it.
type Local struct {
	Store    Catalog
	Accounts *account.Service
	// Eraser deletes users; nil refuses deletions.
	Eraser *erase.Service
	// Exporter exports users; nil refuses exports.
	Exporter Exporter
	// Importer takes CSV imports; nil refuses them.
	Importer csvimport.Store
}

var (
	_ Admin = Local{}
	_ Admin = (*Client)(nil)
)

// CreateSite creates a site.
func (l Local) CreateSite(ctx context.Context, name string, origins []string) (NewSite, error) {
	s, key, err := l.Store.CreateSite(ctx, name, origins)
	if err != nil {
		return NewSite{}, err
	}
	return NewSite{ID: s.PublicID, Name: s.Name, Origins: s.Origins, WriteKey: key}, nil
}

// UpdateSite changes a site's name, allowed origins or Do-Not-Track
// setting.
func (l Local) UpdateSite(ctx context.Context, site string, u store.SiteUpdate) (store.Site, error) {
	return l.Store.UpdateSite(ctx, site, u)
}

// Sites lists every site, oldest first.
func (l Local) Sites(ctx context.Context) ([]store.Site, error) {
	return l.Store.Sites(ctx), nil
}

// CreateToken creates an API token for a site.
func (l Local) CreateToken(ctx context.Context, site string, scope store.Scope) (NewToken, error) {
	s, err := l.Store.Site(ctx, site)
	if err != nil {
		return NewToken{}, err
	}
	tok, secret, err := l.Store.CreateToken(ctx, s.ID, scope)
	if err != nil {
		return NewToken{}, err
	}
	return NewToken{ID: tok.ID, Site: s.PublicID, Scope: string(tok.Scope), Token: secret}, nil
}

// Handler serves l on the admin socket, with Go's profiler under
// /debug/pprof/ (the socket is reachable only by the data folder's owner).
func Handler(l Local, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("POST /sites", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Name    string   `json:"name"`
			Origins []string `json:"origins"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			apierr.Write(w, log, apierr.Invalid("malformed_json", "", "%v", err))
			return
		}
		s, err := l.CreateSite(r.Context(), body.Name, body.Origins)
		if err != nil {
			apierr.Write(w, log, apierr.Invalid("invalid_site", "", "%v", err))
			return
		}
		apierr.WriteJSON(w, http.StatusCreated, s)
	})
	mux.HandleFunc("GET /sites", func(w http.ResponseWriter, r *http.Request) {
		sites, err := l.Sites(r.Context())
		if err != nil {
			apierr.Write(w, log, err)
			return
		}
		apierr.WriteJSON(w, http.StatusOK, sites)
	})
	mux.HandleFunc("PATCH /sites/{id}", func(w http.ResponseWriter, r *http.Request) {
		var u store.SiteUpdate
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&u); err != nil {
			apierr.Write(w, log, apierr.Invalid("malformed_json", "", "%v", err))
			return
		}
		s, err := l.UpdateSite(r.Context(), r.PathValue("id"), u)
		if err != nil {
			apierr.Write(w, log, SiteError(err))
			return
		}
		apierr.WriteJSON(w, http.StatusOK, s)
	})
	mux.HandleFunc("POST /tokens", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Site  string `json:"site"`
			Scope string `json:"scope"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			apierr.Write(w, log, apierr.Invalid("malformed_json", "", "%v", err))
			return
		}
		t, err := l.CreateToken(r.Context(), body.Site, store.Scope(body.Scope))
		if errors.Is(err, store.ErrNotFound) {
			apierr.Write(w, log, &apierr.Error{Status: http.StatusNotFound, Code: "site_not_found", Field: "site", Message: err.Error()})
			return
		}
		if err != nil {
			apierr.Write(w, log, apierr.Invalid("invalid_token", "scope", "%v", err))
			return
		}
		apierr.WriteJSON(w, http.StatusCreated, t)
	})
	l.registerAccounts(mux, log)
	l.registerErase(mux, log)
	l.registerImport(mux, log)
	return mux
}

// SiteError turns an error of UpdateSite into an API error: 404 for an
// unknown site, 400 naming the field for a refused value; others pass.
func SiteError(err error) error {
	var fe *store.FieldError
	switch {
	case errors.As(err, &fe):
		return apierr.Invalid(fe.Code, fe.Field, "%s", fe.Msg)
	case errors.Is(err, store.ErrNotFound):
		return &apierr.Error{Status: http.StatusNotFound, Code: "site_not_found", Field: "site", Message: err.Error()}
	}
	return err
}

// Client administers a running server through its socket.
type Client struct{ http *http.Client }

// Dial returns a client for the server listening on socket, or an error if
// none answers there.
func Dial(socket string) (*Client, error) {
	c := &Client{http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}}}}
	conn, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return nil, err
	}
	conn.Close()
	return c, nil
}

// CreateSite creates a site.
func (c *Client) CreateSite(ctx context.Context, name string, origins []string) (NewSite, error) {
	var s NewSite
	err := c.post(ctx, "/sites", map[string]any{"name": name, "origins": origins}, &s)
	return s, err
}

// UpdateSite changes a site's settings.
func (c *Client) UpdateSite(ctx context.Context, site string, u store.SiteUpdate) (store.Site, error) {
	var s store.Site
	err := c.call(ctx, http.MethodPatch, "/sites/"+url.PathEscape(site), u, &s)
	return s, err
}

// Sites lists every site, oldest first.
func (c *Client) Sites(ctx context.Context) ([]store.Site, error) {
	var s []store.Site
	err := c.call(ctx, http.MethodGet, "/sites", nil, &s)
	return s, err
}

// CreateToken creates an API token for a site.
func (c *Client) CreateToken(ctx context.Context, site string, scope store.Scope) (NewToken, error) {
	var t NewToken
	err := c.post(ctx, "/tokens", map[string]any{"site": site, "scope": scope}, &t)
	return t, err
}

func (c *Client) post(ctx context.Context, path string, body, out any) error {
	return c.call(ctx, http.MethodPost, path, body, out)
}

// call sends body (nil for none) and decodes the answer into out (nil to
// ignore it).
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://admin"+path, rd)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct {
			Error apierr.Error `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if e.Error.Field != "" {
			return fmt.Errorf("%s: %s", e.Error.Field, e.Error.Message)
		}
		return errors.New(e.Error.Message)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
