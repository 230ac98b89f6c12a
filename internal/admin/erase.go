package admin

import (
	"context"
	"encoding/json"
	"errors"
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
