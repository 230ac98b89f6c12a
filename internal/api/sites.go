package api

import (
	"fmt"
	"net/http"
	"strings"

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
	if u.Name == nil && u.Origins == nil && u.RespectDNT == nil && u.KeyAttributes == nil && u.KeepParams == nil {
		return apierr.Invalid("empty_update", "", `send at least one of "name", "origins", "respect_dnt", "key_attributes" and "keep_params"`)
	}
	if u.KeepParams != nil {
		if err := checkKeepParams(*u.KeepParams); err != nil {
			return err
		}
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

// Limits of a site's keep_params.
const (
	maxKeepParams   = 50
	maxKeepParamLen = 100
)

// checkKeepParams checks the allow-list of query parameters the tracker
// sends unscrubbed: names as they appear in URLs, each once.
func checkKeepParams(names []string) error {
	if len(names) > maxKeepParams {
		return apierr.Invalid("too_many_keep_params", "keep_params", "at most %d parameters", maxKeepParams)
	}
	seen := map[string]bool{}
	for i, n := range names {
		field := fmt.Sprintf("keep_params[%d]", i)
		if n == "" || len(n) > maxKeepParamLen || strings.ContainsAny(n, "&=#?") {
			return apierr.Invalid("invalid_keep_param", field, "a parameter name of 1 to %d characters without & = # ?", maxKeepParamLen)
		}
		if seen[n] {
			return apierr.Invalid("duplicate_keep_param", field, "%q is listed twice", n)
		}
		seen[n] = true
	}
	return nil
}
