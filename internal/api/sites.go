package api

import (
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// patchSite changes the site's name, allowed origins or Do-Not-Track
// setting: PATCH /api/v1/sites/{site} with {"name"?, "origins"?,
// "respect_dnt"?}. Fields left out stay as they are; "origins" replaces
// the whole list. The tracker sees the change with its next request.
func (a *API) patchSite(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var u store.SiteUpdate
	if err := decodeJSON(r, &u); err != nil {
		return err
	}
	if u.Name == nil && u.Origins == nil && u.RespectDNT == nil && u.KeyAttributes == nil {
		return apierr.Invalid("empty_update", "", `send at least one of "name", "origins", "respect_dnt" and "key_attributes"`)
	}
	if u.KeyAttributes != nil {
		if err := a.checkKeyAttributes(r, site, *u.KeyAttributes); err != nil {
			return err
		}
	}
	updated, err := a.store.UpdateSite(r.Context(), site.PublicID, u)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, updated)
	return nil
}
