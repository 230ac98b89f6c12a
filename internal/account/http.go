package account

import (
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/admit"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

// Register adds the account endpoints to mux.
func (s *Service) Register(mux *http.ServeMux) {
	const p = "/api/v1"
	mux.Handle("GET "+p+"/setup", s.handle(s.getSetup))
	mux.Handle("POST "+p+"/setup", s.handle(s.postSetup))
	mux.Handle("POST "+p+"/session", s.handle(s.postSession))
	mux.Handle("DELETE "+p+"/session", s.handle(s.deleteSession))
	mux.Handle("GET "+p+"/me", s.handle(s.getMe))
	mux.Handle("PATCH "+p+"/me", s.handle(s.patchMe))
	s.registerTeam(mux, p)
	s.registerSites(mux, p)
}

// handle turns an endpoint that returns its error into a handler.
func (s *Service) handle(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			apierr.Write(w, s.cfg.Log, err)
		}
	})
}

func errInvalid(field, message string) *apierr.Error {
	return &apierr.Error{Status: http.StatusBadRequest, Code: "invalid_field", Field: field, Message: message}
}

func errNotFound(code, field, message string) *apierr.Error {
	return &apierr.Error{Status: http.StatusNotFound, Code: code, Field: field, Message: message}
}

func errForbidden(message string) *apierr.Error {
	return &apierr.Error{Status: http.StatusForbidden, Code: "forbidden", Message: message}
}

func errConflict(code, field, message string) *apierr.Error {
	return &apierr.Error{Status: http.StatusConflict, Code: code, Field: field, Message: message}
}

var errInvalidCredentials = &apierr.Error{Status: http.StatusUnauthorized, Code: "invalid_credentials",
	Message: "wrong email or password"}

// decodeJSON reads a JSON body of at most 64 KiB into v, refusing unknown
// fields.
func decodeJSON(r *http.Request, v any) error { return apierr.DecodeJSON(r, v, 64<<10) }

// accountJSON is an account as the API shows it.
type accountJSON struct {
	ID        string     `json:"id"`
	Email     string     `json:"email"`
	Name      string     `json:"name"`
	Role      store.Role `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
}

func toAccountJSON(a store.Account) accountJSON {
	return accountJSON{ID: a.ID, Email: a.Email, Name: a.Name, Role: a.Role, CreatedAt: a.CreatedAt}
}

// siteJSON is a site with the caller's access to it.
type siteJSON struct {
	store.Site
	Access store.Scope `json:"access"`
}

// meJSON is what /api/v1/me, sign-in, set-up and accepting an invitation
// answer.
type meJSON struct {
	Account   accountJSON `json:"account"`
	CSRFToken string      `json:"csrf_token"`
	Sites     []siteJSON  `json:"sites"`
}

// visibleSites lists the sites a may see with its access, oldest first.
func (s *Service) visibleSites(r *http.Request, a store.Account) []siteJSON {
	out := []siteJSON{}
	for _, site := range s.store.Sites(r.Context()) {
		if access := a.Access(site.ID); access != "" {
			out = append(out, siteJSON{Site: site, Access: access})
		}
	}
	sortSites(out)
	return out
}

func sortSites(sites []siteJSON) {
	sort.Slice(sites, func(i, j int) bool {
		if !sites[i].CreatedAt.Equal(sites[j].CreatedAt) {
			return sites[i].CreatedAt.Before(sites[j].CreatedAt)
		}
		return sites[i].ID < sites[j].ID
	})
}

func (s *Service) writeMe(w http.ResponseWriter, r *http.Request, status int, c caller) {
	apierr.WriteJSON(w, status, meJSON{Account: toAccountJSON(c.account), CSRFToken: c.csrf(),
		Sites: s.visibleSites(r, c.account)})
}

func (s *Service) getSetup(w http.ResponseWriter, r *http.Request) error {
	accounts, err := s.store.ListAccounts(r.Context())
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]bool{"needed": len(accounts) == 0})
	return nil
}

// newAccount checks the fields of a new account and hashes its password.
func (s *Service) newAccount(email, name, password string, role store.Role, sites []int64) (store.Account, string, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return store.Account{}, "", err
	}
	name, err = normalizeName(name)
	if err != nil {
		return store.Account{}, "", err
	}
	if err := CheckPasswordRules(password); err != nil {
		return store.Account{}, "", errInvalid("password", err.Error())
	}
	if role.AllSites() {
		sites = nil
	}
	a := store.Account{ID: auth.NewID("acc_"), Email: email, Name: name, Role: role, SiteIDs: sites, CreatedAt: s.now()}
	return a, s.hash(password), nil
}

var errAlreadySetUp = errConflict("already_set_up", "", "this server is set up already; sign in instead")

func (s *Service) postSetup(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	var body struct{ Email, Name, Password string }
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	accounts, err := s.store.ListAccounts(r.Context())
	if err != nil {
		return err
	}
	if len(accounts) > 0 {
		return errAlreadySetUp
	}
	a, hash, err := s.newAccount(body.Email, body.Name, body.Password, store.RoleOwner, nil)
	if err != nil {
		return err
	}
	if err := s.createFirst(r, a, hash); err != nil {
		return err
	}
	c, err := s.startSession(r.Context(), w, r, a)
	if err != nil {
		return err
	}
	s.writeMe(w, r, http.StatusCreated, c)
	return nil
}

// createFirst creates the first account, unless another request made one
// first.
func (s *Service) createFirst(r *http.Request, a store.Account, hash string) error {
	s.team.Lock()
	defer s.team.Unlock()
	accounts, err := s.store.ListAccounts(r.Context())
	if err != nil {
		return err
	}
	if len(accounts) > 0 {
		return errAlreadySetUp
	}
	return s.store.CreateAccount(r.Context(), a, hash)
}

func (s *Service) postSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	var body struct{ Email, Password string }
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	a, err := s.authenticate(r, body.Email, body.Password)
	if err != nil {
		return err
	}
	c, err := s.startSession(r.Context(), w, r, a)
	if err != nil {
		return err
	}
	s.writeMe(w, r, http.StatusOK, c)
	return nil
}

// authenticate checks an email and password, within the sign-in limit.
// Unknown emails and wrong passwords get the same answer, after the same
// work (a password hash).
func (s *Service) authenticate(r *http.Request, email, password string) (store.Account, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	client := admit.Client(r, s.cfg.TrustProxy)
	if wait := s.limiter.Wait(email, client); wait > 0 {
		return store.Account{}, &apierr.Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "too many failed sign-ins; try again later", RetryAfter: wait}
	}
	a, hash, err := s.store.AccountByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Account{}, err
	}
	if ok := s.check(hash, password); !ok || err != nil {
		s.limiter.Fail(email, client)
		return store.Account{}, errInvalidCredentials
	}
	s.limiter.Succeed(email, client)
	return a, nil
}

func (s *Service) deleteSession(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.fromCookie(w, r)
	if err != nil {
		return err
	}
	if ok {
		if err := s.checkCSRF(r, c); err != nil {
			return err
		}
		if err := s.store.DeleteSession(r.Context(), c.session.IDHash); err != nil {
			return err
		}
	}
	s.setCookie(w, r, "", 0)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) getMe(w http.ResponseWriter, r *http.Request) error {
	c, err := s.signedIn(w, r)
	if err != nil {
		return err
	}
	s.writeMe(w, r, http.StatusOK, c)
	return nil
}

// patchMe changes the caller's name or password. A new password needs the
// current one, ends every session of the account, and signs this browser
// in again (a new cookie and CSRF token).
func (s *Service) patchMe(w http.ResponseWriter, r *http.Request) error {
	c, err := s.signedIn(w, r)
	if err != nil {
		return err
	}
	var body struct {
		Name            *string `json:"name"`
		Password        *string `json:"password"`
		CurrentPassword string  `json:"current_password"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	a := c.account
	if body.Name != nil {
		if a.Name, err = normalizeName(*body.Name); err != nil {
			return err
		}
	}
	var hash string
	if body.Password != nil {
		if err := CheckPasswordRules(*body.Password); err != nil {
			return errInvalid("password", err.Error())
		}
		if _, err := s.authenticate(r, a.Email, body.CurrentPassword); err != nil {
			if errors.Is(err, errInvalidCredentials) {
				return &apierr.Error{Status: http.StatusForbidden, Code: "invalid_credentials",
					Field: "current_password", Message: "the current password is wrong"}
			}
			return err
		}
		hash = s.hash(*body.Password)
	}
	if err := s.updateName(r, a); err != nil {
		return err
	}
	if hash != "" {
		if err := s.store.SetPassword(r.Context(), a.ID, hash); err != nil {
			return err
		}
		if c, err = s.startSession(r.Context(), w, r, a); err != nil {
			return err
		}
	}
	c.account = a
	s.writeMe(w, r, http.StatusOK, c)
	return nil
}

// updateName stores a's name, keeping its role and sites as they are now.
func (s *Service) updateName(r *http.Request, a store.Account) error {
	s.team.Lock()
	defer s.team.Unlock()
	cur, _, err := s.store.AccountByID(r.Context(), a.ID)
	if err != nil {
		return err
	}
	cur.Name = a.Name
	return s.store.UpdateAccount(r.Context(), cur)
}
