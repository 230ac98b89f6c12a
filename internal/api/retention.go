package api

import (
	"encoding/json"
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// WithRetention adds the endpoints of a site's data retention.
func (a *API) WithRetention(r store.Retainer) *API {
	a.retainer = r
	return a
}

func (a *API) registerRetention(mux *http.ServeMux, p string) {
	mux.Handle("GET "+p+"/retention", a.auth(store.ScopeRead, a.getRetention))
	mux.Handle("PUT "+p+"/retention", a.auth(store.ScopeAdmin, a.putRetention))
}

func (a *API) getRetention(w http.ResponseWriter, r *http.Request, site store.Site) error {
	ret, err := a.retainer.Retention(r.Context(), site.ID)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, ret)
	return nil
}

// putRetention answers PUT /retention: the whole setting, each field a
// number of days (0 keeps the data for good).
func (a *API) putRetention(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var ret store.Retention
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ret); err != nil {
		return apierr.Invalid("malformed_json", "", "the body must be a JSON object with events_days, sessions_days, "+
			"attribute_history_days and survey_answers_days: %v", err)
	}
	out, err := a.retainer.SetRetention(r.Context(), site.ID, ret)
	if err != nil {
		return err // translated: a FieldError names the field
	}
	apierr.WriteJSON(w, http.StatusOK, out)
	return nil
}
