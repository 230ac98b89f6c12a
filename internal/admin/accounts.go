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

// NewAccount is an account to create from the command line.
type NewAccount struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Sites    []string `json:"sites"`
	Password string   `json:"password"`
}

// AccountInfo is an account as the command line shows it.
type AccountInfo struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Sites      []string   `json:"sites"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSeenAt *time.Time `json:"last_seen_at"`
}

// CreateAccount creates an account.
func (l Local) CreateAccount(ctx context.Context, a NewAccount) (AccountInfo, error) {
	acc, err := l.Accounts.Create(ctx, a.Email, a.Name, a.Password, store.Role(a.Role), a.Sites)
	if err != nil {
		return AccountInfo{}, err
	}
	return l.info(ctx, acc), nil
}

// ListAccounts lists every account.
func (l Local) ListAccounts(ctx context.Context) ([]AccountInfo, error) {
	accounts, err := l.Store.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AccountInfo, 0, len(accounts))
	for _, a := range accounts {
		out = append(out, l.info(ctx, a))
	}
	return out, nil
}

// RevokeToken revokes an API token of any site.
func (l Local) RevokeToken(ctx context.Context, id string) error {
	return l.Store.RevokeToken(ctx, id)
}

func (l Local) info(ctx context.Context, a store.Account) AccountInfo {
	public := map[int64]string{}
	for _, s := range l.Store.Sites(ctx) {
		public[s.ID] = s.PublicID
	}
	info := AccountInfo{ID: a.ID, Email: a.Email, Name: a.Name, Role: string(a.Role), Sites: []string{}, CreatedAt: a.CreatedAt}
	for _, id := range a.SiteIDs {
		info.Sites = append(info.Sites, public[id])
	}
	if !a.LastSeenAt.IsZero() {
		info.LastSeenAt = &a.LastSeenAt
	}
	return info
}

func (l Local) registerAccounts(mux *http.ServeMux, log *slog.Logger) {
	mux.HandleFunc("POST /accounts", func(w http.ResponseWriter, r *http.Request) {
		var body NewAccount
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			apierr.Write(w, log, apierr.Invalid("malformed_json", "", "%v", err))
			return
		}
		a, err := l.CreateAccount(r.Context(), body)
		if err != nil {
			apierr.Write(w, log, err)
			return
		}
		apierr.WriteJSON(w, http.StatusCreated, a)
	})
	mux.HandleFunc("GET /accounts", func(w http.ResponseWriter, r *http.Request) {
		a, err := l.ListAccounts(r.Context())
		if err != nil {
			apierr.Write(w, log, err)
			return
		}
		apierr.WriteJSON(w, http.StatusOK, a)
	})
	mux.HandleFunc("DELETE /tokens/{id}", func(w http.ResponseWriter, r *http.Request) {
		err := l.RevokeToken(r.Context(), r.PathValue("id"))
		if errors.Is(err, store.ErrNotFound) {
			apierr.Write(w, log, &apierr.Error{Status: http.StatusNotFound, Code: "token_not_found", Field: "id", Message: err.Error()})
			return
		}
		if err != nil {
			apierr.Write(w, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// CreateAccount creates an account.
func (c *Client) CreateAccount(ctx context.Context, a NewAccount) (AccountInfo, error) {
	var info AccountInfo
	err := c.call(ctx, http.MethodPost, "/accounts", a, &info)
	return info, err
}

// ListAccounts lists every account.
func (c *Client) ListAccounts(ctx context.Context) ([]AccountInfo, error) {
	var out []AccountInfo
	err := c.call(ctx, http.MethodGet, "/accounts", nil, &out)
	return out, err
}

// RevokeToken revokes an API token.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, "/tokens/"+id, nil, nil)
}
