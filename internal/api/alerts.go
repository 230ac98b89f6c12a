package api

import (
	"net/http"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/notify"
	"github.com/sightline/sightline/internal/store"
)

// UseAlerts turns on the alert endpoints; call it before Register.
func (a *API) UseAlerts(svc *notify.Service) { a.alerts = svc }

// registerAlerts adds the endpoints of alert destinations, rules and the
// delivery log: reading needs scope read, changing needs admin.
func (a *API) registerAlerts(mux *http.ServeMux, p string) {
	if a.alerts == nil {
		return
	}
	d := p + "/alerts/destinations"
	mux.Handle("GET "+d, a.auth(store.ScopeRead, a.listDestinations))
	mux.Handle("POST "+d, a.auth(store.ScopeAdmin, a.createDestination))
	mux.Handle("DELETE "+d+"/{id}", a.auth(store.ScopeAdmin, a.deleteDestination))
	mux.Handle("POST "+d+"/{id}/enable", a.auth(store.ScopeAdmin, a.enableDestination))
	mux.Handle("POST "+d+"/{id}/rotate-secret", a.auth(store.ScopeAdmin, a.rotateSecret))
	mux.Handle("POST "+d+"/{id}/test", a.auth(store.ScopeAdmin, a.testDestination))
	rl := p + "/alerts/rules"
	mux.Handle("GET "+rl, a.auth(store.ScopeRead, a.listRules))
	mux.Handle("POST "+rl, a.auth(store.ScopeAdmin, a.createRule))
	mux.Handle("PUT "+rl+"/{id}", a.auth(store.ScopeAdmin, a.updateRule))
	mux.Handle("DELETE "+rl+"/{id}", a.auth(store.ScopeAdmin, a.deleteRule))
	mux.Handle("GET "+p+"/alerts/deliveries", a.auth(store.ScopeRead, a.listDeliveries))
}

func (a *API) listDestinations(w http.ResponseWriter, r *http.Request, site store.Site) error {
	list, err := a.alerts.Destinations(r.Context(), site.ID)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"destinations": list})
	return nil
}

// createdDestination is a new destination with its signing secret, which
// no later answer shows.
type createdDestination struct {
	notify.DestinationView
	Secret string `json:"secret,omitempty"`
}

func (a *API) createDestination(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var in notify.NewDestination
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, secret, err := a.alerts.CreateDestination(r.Context(), site.ID, in)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusCreated, createdDestination{DestinationView: v, Secret: secret})
	return nil
}

func (a *API) deleteDestination(w http.ResponseWriter, r *http.Request, site store.Site) error {
	if err := a.alerts.DeleteDestination(r.Context(), site.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) enableDestination(w http.ResponseWriter, r *http.Request, site store.Site) error {
	v, err := a.alerts.EnableDestination(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) rotateSecret(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var in struct {
		OverlapHours int `json:"overlap_hours"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	if in.OverlapHours < 0 || in.OverlapHours > 24*7 {
		return apierr.Invalid("invalid_overlap", "overlap_hours", "overlap_hours must be between 0 (the default, 24) and 168")
	}
	secret, err := a.alerts.RotateSecret(r.Context(), site.ID, r.PathValue("id"), time.Duration(in.OverlapHours)*time.Hour)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]string{"secret": secret})
	return nil
}

// attemptJSON is a delivery attempt as the API shows it.
type attemptJSON struct {
	store.AlertAttempt
	LatencyMS float64 `json:"latency_ms"`
	OK        bool    `json:"ok"`
}

func toAttemptJSON(x store.AlertAttempt) attemptJSON {
	return attemptJSON{AlertAttempt: x, LatencyMS: float64(x.Latency.Microseconds()) / 1000,
		OK: x.Error == "" && x.Status >= 200 && x.Status < 300}
}

func (a *API) testDestination(w http.ResponseWriter, r *http.Request, site store.Site) error {
	x, err := a.alerts.TestSend(r.Context(), site.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, toAttemptJSON(x))
	return nil
}

func (a *API) listRules(w http.ResponseWriter, r *http.Request, site store.Site) error {
	list, err := a.alerts.Rules(r.Context(), site.ID)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"rules": list})
	return nil
}

func (a *API) createRule(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var in notify.Rule
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	in.ID = ""
	rule, err := a.alerts.SaveRule(r.Context(), site.ID, in)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusCreated, rule)
	return nil
}

func (a *API) updateRule(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var in notify.Rule
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	in.ID = r.PathValue("id")
	rule, err := a.alerts.SaveRule(r.Context(), site.ID, in)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, rule)
	return nil
}

func (a *API) deleteRule(w http.ResponseWriter, r *http.Request, site store.Site) error {
	if err := a.alerts.DeleteRule(r.Context(), site.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request, site store.Site) error {
	limit, err := intParam(r, "limit", 100, 1000)
	if err != nil {
		return err
	}
	list, err := a.alerts.Attempts(r.Context(), site.ID, r.URL.Query().Get("destination"), limit)
	if err != nil {
		return err
	}
	out := make([]attemptJSON, len(list))
	for i, x := range list {
		out[i] = toAttemptJSON(x)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"deliveries": out})
	return nil
}
