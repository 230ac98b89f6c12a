package account

import (
	"errors"
	"net/http"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

// The team: owners and admins list, invite, change and remove accounts.
// An admin cannot touch an owner or make one; at least one owner remains.

func (s *Service) registerTeam(mux *http.ServeMux, p string) {
	mux.Handle("GET "+p+"/accounts", s.handle(s.listTeam))
	mux.Handle("PATCH "+p+"/accounts/{id}", s.handle(s.patchAccount))
	mux.Handle("DELETE "+p+"/accounts/{id}", s.handle(s.deleteAccount))
	mux.Handle("POST "+p+"/invites", s.handle(s.postInvite))
	mux.Handle("DELETE "+p+"/invites/{id}", s.handle(s.deleteInvite))
	mux.Handle("GET "+p+"/invites/{token}", s.handle(s.getInvite))
	mux.Handle("POST "+p+"/invites/{token}/accept", s.handle(s.acceptInvite))
}

// memberJSON is an account as the team list shows it.
type memberJSON struct {
	accountJSON
	Sites      []string   `json:"sites"`
	LastSeenAt *time.Time `json:"last_seen_at"`
}

// inviteJSON is a pending invitation.
type inviteJSON struct {
	ID        string     `json:"id"`
	Email     string     `json:"email"`
	Role      store.Role `json:"role"`
	Sites     []string   `json:"sites"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
}

// manager returns the signed-in caller when they may manage the team.
func (s *Service) manager(w http.ResponseWriter, r *http.Request) (caller, error) {
	c, err := s.signedIn(w, r)
	if err != nil {
		return caller{}, err
	}
	if !c.account.Role.AllSites() {
		return caller{}, errForbidden("only owners and admins manage the team")
	}
	return c, nil
}

// mayManage reports whether actor may change or remove target.
func mayManage(actor, target store.Role) bool {
	return actor == store.RoleOwner || (actor == store.RoleAdmin && target != store.RoleOwner)
}

// mayGrant reports whether actor may give role to someone.
func mayGrant(actor, role store.Role) bool {
	return actor == store.RoleOwner || (actor == store.RoleAdmin && role != store.RoleOwner)
}

// publicSites maps internal site IDs to public ones.
func (s *Service) publicSites(r *http.Request, ids []int64) []string {
	byID := map[int64]string{}
	for _, site := range s.store.Sites(r.Context()) {
		byID[site.ID] = site.PublicID
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if p, ok := byID[id]; ok {
			out = append(out, p)
		}
	}
	return out
}

// siteIDs maps public site IDs to internal ones; an unknown one is a 400.
func (s *Service) siteIDs(r *http.Request, public []string) ([]int64, error) {
	out := make([]int64, 0, len(public))
	for _, p := range public {
		site, err := s.store.Site(r.Context(), p)
		if err != nil {
			return nil, errInvalid("sites", "no such site: "+p)
		}
		out = append(out, site.ID)
	}
	return out, nil
}

func (s *Service) toMemberJSON(r *http.Request, a store.Account) memberJSON {
	m := memberJSON{accountJSON: toAccountJSON(a), Sites: s.publicSites(r, a.SiteIDs)}
	if !a.LastSeenAt.IsZero() {
		m.LastSeenAt = &a.LastSeenAt
	}
	return m
}

func (s *Service) toInviteJSON(r *http.Request, inv store.Invite) inviteJSON {
	return inviteJSON{ID: inv.ID, Email: inv.Email, Role: inv.Role, Sites: s.publicSites(r, inv.SiteIDs),
		CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
}

func (s *Service) listTeam(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.manager(w, r); err != nil {
		return err
	}
	accounts, err := s.store.ListAccounts(r.Context())
	if err != nil {
		return err
	}
	invites, err := s.store.ListInvites(r.Context(), s.now())
	if err != nil {
		return err
	}
	out := struct {
		Accounts []memberJSON `json:"accounts"`
		Invites  []inviteJSON `json:"invites"`
	}{Accounts: []memberJSON{}, Invites: []inviteJSON{}}
	for _, a := range accounts {
		out.Accounts = append(out.Accounts, s.toMemberJSON(r, a))
	}
	for _, inv := range invites {
		out.Invites = append(out.Invites, s.toInviteJSON(r, inv))
	}
	apierr.WriteJSON(w, http.StatusOK, out)
	return nil
}

func errAccountNotFound(id string) error {
	return errNotFound("account_not_found", "id", "no such account: "+id)
}

var errLastOwner = errConflict("last_owner", "role", "the last owner cannot be removed or demoted; make someone else owner first")

// owners counts the owners among accounts.
func owners(accounts []store.Account) int {
	n := 0
	for _, a := range accounts {
		if a.Role == store.RoleOwner {
			n++
		}
	}
	return n
}

// teamTarget loads the account in the path and every account, under
// s.team, and checks that actor may manage it.
func (s *Service) teamTarget(r *http.Request, actor store.Account) (store.Account, []store.Account, error) {
	accounts, err := s.store.ListAccounts(r.Context())
	if err != nil {
		return store.Account{}, nil, err
	}
	id := r.PathValue("id")
	for _, a := range accounts {
		if a.ID != id {
			continue
		}
		if !mayManage(actor.Role, a.Role) {
			return store.Account{}, nil, errForbidden("an admin cannot change or remove an owner")
		}
		return a, accounts, nil
	}
	return store.Account{}, nil, errAccountNotFound(id)
}

func (s *Service) patchAccount(w http.ResponseWriter, r *http.Request) error {
	c, err := s.manager(w, r)
	if err != nil {
		return err
	}
	var body struct {
		Role  *string   `json:"role"`
		Sites *[]string `json:"sites"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	var sites []int64
	if body.Sites != nil {
		if sites, err = s.siteIDs(r, *body.Sites); err != nil {
			return err
		}
	}
	s.team.Lock()
	defer s.team.Unlock()
	a, accounts, err := s.teamTarget(r, c.account)
	if err != nil {
		return err
	}
	if body.Role != nil {
		role, err := store.ParseRole(*body.Role)
		if err != nil {
			return errInvalid("role", err.Error())
		}
		if !mayGrant(c.account.Role, role) {
			return errForbidden("only an owner can make owners")
		}
		if a.Role == store.RoleOwner && role != store.RoleOwner && owners(accounts) == 1 {
			return errLastOwner
		}
		a.Role = role
	}
	if body.Sites != nil {
		a.SiteIDs = sites
	}
	if a.Role.AllSites() {
		a.SiteIDs = nil
	}
	if err := s.store.UpdateAccount(r.Context(), a); err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"account": s.toMemberJSON(r, a)})
	return nil
}

func (s *Service) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	c, err := s.manager(w, r)
	if err != nil {
		return err
	}
	s.team.Lock()
	defer s.team.Unlock()
	a, accounts, err := s.teamTarget(r, c.account)
	if err != nil {
		return err
	}
	if a.Role == store.RoleOwner && owners(accounts) == 1 {
		return errLastOwner
	}
	if err := s.store.DeleteAccount(r.Context(), a.ID); err != nil {
		return err
	}
	if a.ID == c.account.ID {
		s.setCookie(w, r, "", 0)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) postInvite(w http.ResponseWriter, r *http.Request) error {
	c, err := s.manager(w, r)
	if err != nil {
		return err
	}
	var body struct {
		Email string   `json:"email"`
		Role  string   `json:"role"`
		Sites []string `json:"sites"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	email, err := NormalizeEmail(body.Email)
	if err != nil {
		return err
	}
	role, err := store.ParseRole(body.Role)
	if err != nil {
		return errInvalid("role", err.Error())
	}
	if !mayGrant(c.account.Role, role) {
		return errForbidden("only an owner can make owners")
	}
	sites, err := s.siteIDs(r, body.Sites)
	if err != nil {
		return err
	}
	if role.AllSites() {
		sites = nil
	}
	if _, _, err := s.store.AccountByEmail(r.Context(), email); err == nil {
		return errConflict("email_taken", "email", email+" has an account already")
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	token := newSessionSecret()
	now := s.now()
	inv := store.Invite{ID: auth.NewID("inv_"), Email: email, Role: role, SiteIDs: sites, CreatedBy: c.account.ID,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.InviteTTL)}
	if err := s.store.CreateInvite(r.Context(), inv, auth.Hash(token)); err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusCreated, map[string]any{"invite": s.toInviteJSON(r, inv), "url": "/invite/" + token})
	return nil
}

func (s *Service) deleteInvite(w http.ResponseWriter, r *http.Request) error {
	c, err := s.manager(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	invites, err := s.store.ListInvites(r.Context(), time.Time{})
	if err != nil {
		return err
	}
	for _, inv := range invites {
		if inv.ID != id {
			continue
		}
		if !mayGrant(c.account.Role, inv.Role) {
			return errForbidden("an admin cannot withdraw an invitation to become owner")
		}
		if err := s.store.DeleteInvite(r.Context(), id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errNotFound("invite_not_found", "id", "no such invitation: "+id)
}

var errInviteNotFound = errNotFound("invite_not_found", "token",
	"this invitation does not exist, was used, or has expired; ask for a new one")

// invite returns the pending invitation whose token is in the path.
func (s *Service) invite(r *http.Request) (store.Invite, error) {
	inv, err := s.store.InviteByToken(r.Context(), auth.Hash(r.PathValue("token")))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.now().Before(inv.ExpiresAt)) {
		return store.Invite{}, errInviteNotFound
	}
	return inv, err
}

func (s *Service) getInvite(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.invite(r)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"email": inv.Email, "role": inv.Role})
	return nil
}

func (s *Service) acceptInvite(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	inv, err := s.invite(r)
	if err != nil {
		return err
	}
	var body struct{ Name, Password string }
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	a, hash, err := s.newAccount(inv.Email, body.Name, body.Password, inv.Role, inv.SiteIDs)
	if err != nil {
		return err
	}
	switch err := s.store.AcceptInvite(r.Context(), inv.ID, a, hash); {
	case errors.Is(err, store.ErrNotFound):
		return errInviteNotFound
	case errors.Is(err, store.ErrConflict):
		return errConflict("email_taken", "email", inv.Email+" has an account already")
	case err != nil:
		return err
	}
	c, err := s.startSession(r.Context(), w, r, a)
	if err != nil {
		return err
	}
	s.writeMe(w, r, http.StatusCreated, c)
	return nil
}
