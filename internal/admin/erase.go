package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// DeleteUserRequest names a user to delete from the command line.
type DeleteUserRequest struct {
	Site     string `json:"site"`
	User     string `json:"user"`
	Kind     string `json:"kind"` // "user" (default) or "anonymous"
	Suppress bool   `json:"suppress"`
}

// DeleteUser deletes a user everywhere and scrubs the files, and returns
// the receipt.
func (l Local) DeleteUser(ctx context.Context, req DeleteUserRequest) (store.Erasure, error) {
	if l.Eraser == nil {
		return store.Erasure{}, errors.New("user deletion is not available here")
	}
	s, err := l.Store.Site(ctx, req.Site)
	if err != nil {
		return store.Erasure{}, err
	}
	kind := req.Kind
	if kind == "" {
		kind = "user"
	}
	return l.Eraser.Erase(ctx, s.ID, store.Identity{Kind: kind, ID: req.User}, store.EraseOptions{Suppress: req.Suppress})
}

func (l Local) registerErase(mux *http.ServeMux, log *slog.Logger) {
	l.registerExport(mux, log)
	mux.HandleFunc("POST /deletions", func(w http.ResponseWriter, r *http.Request) {
		var req DeleteUserRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			apierr.Write(w, log, apierr.Invalid("malformed_json", "", "%v", err))
			return
		}
		receipt, err := l.DeleteUser(r.Context(), req)
		switch {
		case errors.Is(err, store.ErrNotFound):
			apierr.Write(w, log, &apierr.Error{Status: http.StatusNotFound, Code: "not_found", Field: "user", Message: err.Error()})
			return
		case errors.Is(err, store.ErrInvalid):
			apierr.Write(w, log, apierr.Invalid("invalid_identity", "kind", "%v", err))
			return
		case err != nil:
			apierr.Write(w, log, err)
			return
		}
		apierr.WriteJSON(w, http.StatusOK, receipt)
	})
}

// DeleteUser deletes a user through the running server; it waits as long
// as the deletion takes (the database file is rewritten).
func (c *Client) DeleteUser(ctx context.Context, req DeleteUserRequest) (store.Erasure, error) {
	var r store.Erasure
	long := *c
	hc := *c.http
	hc.Timeout = time.Hour
	long.http = &hc
	err := long.post(ctx, "/deletions", req, &r)
	return r, err
}

// Exporter writes the zip of everything held about a user (api.API).
type Exporter interface {
	ExportUser(ctx context.Context, site store.Site, id store.Identity, w io.Writer, begin func()) error
}

// ExportUser writes the zip of everything held about a user to w.
func (l Local) ExportUser(ctx context.Context, req DeleteUserRequest, w io.Writer) error {
	if l.Exporter == nil {
		return errors.New("user export is not available here")
	}
	s, err := l.Store.Site(ctx, req.Site)
	if err != nil {
		return err
	}
	kind := req.Kind
	if kind == "" {
		kind = "user"
	}
	return l.Exporter.ExportUser(ctx, s, store.Identity{Kind: kind, ID: req.User}, w, func() {})
}

func (l Local) registerExport(mux *http.ServeMux, log *slog.Logger) {
	mux.HandleFunc("POST /exports", func(w http.ResponseWriter, r *http.Request) {
		var req DeleteUserRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			apierr.Write(w, log, apierr.Invalid("malformed_json", "", "%v", err))
			return
		}
		if l.Exporter == nil {
			apierr.Write(w, log, errors.New("user export is not available here"))
			return
		}
		s, err := l.Store.Site(r.Context(), req.Site)
		if err != nil {
			apierr.Write(w, log, SiteError(err))
			return
		}
		begun := false
		err = l.Exporter.ExportUser(r.Context(), s, store.Identity{Kind: req.Kind, ID: req.User}, w, func() {
			w.Header().Set("Content-Type", "application/zip")
			w.WriteHeader(http.StatusOK)
			begun = true
		})
		switch {
		case err != nil && begun:
			log.Warn("user export cut short", "err", err)
			panic(http.ErrAbortHandler)
		case errors.Is(err, store.ErrNotFound):
			apierr.Write(w, log, &apierr.Error{Status: http.StatusNotFound, Code: "not_found", Field: "user", Message: err.Error()})
		case err != nil:
			apierr.Write(w, log, err)
		}
	})
}

// ExportUser writes the zip of everything held about a user to w, through
// the running server.
func (c *Client) ExportUser(ctx context.Context, req DeleteUserRequest, w io.Writer) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://admin/exports", bytes.NewReader(b))
	if err != nil {
		return err
	}
	hc := *c.http
	hc.Timeout = 0 // as long as the export takes
	resp, err := hc.Do(hreq)
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error apierr.Error `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return errors.New(e.Error.Message)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}
