package account

import (
	"context"
	"errors"

	"github.com/sightline/sightline/internal/store"
)

// Create makes an account directly, for the command line and scripts: the
// same checks as an accepted invitation, without one. sites are public
// site IDs, granted to a member or viewer. An email already taken gives a
// 409 email_taken *apierr.Error; bad fields a 400.
func (s *Service) Create(ctx context.Context, email, name, password string, role store.Role, sites []string) (store.Account, error) {
	if _, err := store.ParseRole(string(role)); err != nil {
		return store.Account{}, errInvalid("role", err.Error())
	}
	ids := make([]int64, 0, len(sites))
	for _, p := range sites {
		site, err := s.store.Site(ctx, p)
		if err != nil {
			return store.Account{}, errInvalid("sites", "no such site: "+p)
		}
		ids = append(ids, site.ID)
	}
	a, hash, err := s.newAccount(email, name, password, role, ids)
	if err != nil {
		return store.Account{}, err
	}
	err = s.store.CreateAccount(ctx, a, hash)
	if errors.Is(err, store.ErrConflict) {
		return store.Account{}, errConflict("email_taken", "email", a.Email+" has an account already")
	}
	return a, err
}
