package account

import (
	"net/http"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

// Owner returns the signed-in account when it is an owner: 401 when no one
// is signed in, 403 for other roles or a state-changing request that fails
// the CSRF check. Deleting a site needs it.
func (s *Service) Owner(w http.ResponseWriter, r *http.Request) (store.Account, error) {
	c, err := s.signedIn(w, r)
	if err != nil {
		return store.Account{}, err
	}
	if c.account.Role != store.RoleOwner {
		return store.Account{}, errForbidden("only owners delete sites")
	}
	return c.account, nil
}

// Who returns the account signed in on r, for the audit log; it changes
// nothing.
func (s *Service) Who(r *http.Request) (store.Account, bool) {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return store.Account{}, false
	}
	_, a, err := s.store.SessionAccount(r.Context(), auth.Hash(ck.Value))
	if err != nil {
		return store.Account{}, false
	}
	return a, true
}
