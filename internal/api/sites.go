package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// patchSite changes the site's settings: PATCH /api/v1/sites/{site} with
// {"name"?, "origins"?, "respect_dnt"?, "key_attributes"?, "keep_params"?,
// "scrub_params"?, "time_zone"?}. Fields left out stay as they are; "origins" replaces
// the whole list. The tracker sees the change with its next request.
func (a *API) patchSite(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var u store.SiteUpdate
	if err := decodeJSON(r, &u); err != nil {
		return err
	}
	if u.Name == nil && u.Origins == nil && u.RespectDNT == nil && u.KeyAttributes == nil && u.KeepParams == nil && u.ScrubParams == nil && u.TimeZone == nil {
		return apierr.Invalid("empty_update", "", `send at least one of "name", "origins", "respect_dnt", "key_attributes", "keep_params", "scrub_params" and "time_zone"`)
	}
	if u.KeepParams != nil {
		if err := checkParams("keep_param", "keep_params", *u.KeepParams); err != nil {
			return err
		}
	}
	if u.ScrubParams != nil {
		if err := checkParams("scrub_param", "scrub_params", *u.ScrubParams); err != nil {
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

// Limits of a site's keep_params and scrub_params.
const (
	maxKeepParams   = 50
	maxKeepParamLen = 100
)

// checkParams checks a list of query parameter names (keep_params, the
// allow-list of parameters the tracker and the server send and keep
// unscrubbed; scrub_params, those the server scrubs besides the ones that
// look secret): names as they appear in URLs, each once. Codes are
// too_many_<kind>s, invalid_<kind> and duplicate_<kind>.
func checkParams(kind, list string, names []string) error {
	if len(names) > maxKeepParams {
		return apierr.Invalid("too_many_"+kind+"s", list, "at most %d parameters", maxKeepParams)
	}
	seen := map[string]bool{}
	for i, n := range names {
		field := fmt.Sprintf("%s[%d]", list, i)
		if n == "" || len(n) > maxKeepParamLen || strings.ContainsAny(n, "&=#?") {
			return apierr.Invalid("invalid_"+kind, field, "a parameter name of 1 to %d characters without & = # ?", maxKeepParamLen)
		}
		if seen[n] {
			return apierr.Invalid("duplicate_"+kind, field, "%q is listed twice", n)
		}
		seen[n] = true
	}
	return nil
}
