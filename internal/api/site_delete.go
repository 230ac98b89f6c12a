package api

import (
	"encoding/json"
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// owners finds the signed-in owner of a request (account.Service).
type owners interface {
	Owner(w http.ResponseWriter, r *http.Request) (store.Account, error)
}

// WithSiteDeletion adds DELETE /sites/{site}, which deletes the site with
// every piece of its data, for owners signed in to the dashboard.
func (a *API) WithSiteDeletion(st store.SiteDeleter) *API {
	a.siteDeleter = st
	return a
}

func (a *API) registerSiteDeletion(mux *http.ServeMux, p string) {
	mux.Handle("DELETE "+p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.deleteSite(w, r); err != nil {
			apierr.Write(w, a.log, translate(err))
		}
	}))
}

// deleteSite answers DELETE /sites/{site}. The body confirms the site's
// name, as typed by the owner: {"confirm": "Shop"}.
func (a *API) deleteSite(w http.ResponseWriter, r *http.Request) error {
	o, ok := a.sessions.(owners)
	if !ok || a.erasure == nil {
		return &apierr.Error{Status: http.StatusNotFound, Code: "not_found", Message: "sites cannot be deleted here"}
	}
	if _, err := o.Owner(w, r); err != nil {
		return err
	}
	site, err := a.store.Site(r.Context(), r.PathValue("site"))
	if err != nil {
		return errSiteNotFound
	}
	var body struct {
		Confirm string `json:"confirm"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return apierr.Invalid("malformed_json", "", "send {\"confirm\": \"<the site's name>\"}")
	}
	if body.Confirm != site.Name {
		return apierr.Invalid("confirmation_mismatch", "confirm", "type the site's name, %q, to confirm", site.Name)
	}
	counts, err := a.erasure.DeleteSite(r.Context(), a.siteDeleter, site.ID)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"deleted": counts})
	return nil
}
