package api

import (
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/erase"
	"github.com/sightline/sightline/internal/store"
)

// WithErasure adds the endpoints that delete a user everywhere and export
// everything held about them (subs reads their survey answers and
// feedback).
func (a *API) WithErasure(e *erase.Service, subs store.Submissions) *API {
	a.erasure, a.submissions = e, subs
	return a
}

func (a *API) registerErasure(mux *http.ServeMux, p string) {
	a.registerExport(mux, p)
	mux.Handle("DELETE "+p+"/users/{id}", a.auth(store.ScopeAdmin, a.deleteUser))
	mux.Handle("GET "+p+"/deletions/{job}", a.auth(store.ScopeAdmin, a.getDeletion))
}

// deleteUser answers DELETE /users/{id}: it checks that the user exists
// and queues the deletion, answering 202 with the job to poll.
// ?suppress=true drops the user's later messages too.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, site store.Site) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	var opts store.EraseOptions
	switch r.URL.Query().Get("suppress") {
	case "", "false":
	case "true":
		opts.Suppress = true
	default:
		return &apierr.Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "suppress",
			Message: "suppress is true or false"}
	}
	if _, err := a.store.UserKey(r.Context(), site.ID, id); err != nil {
		return err
	}
	j, err := a.erasure.Start(site.ID, id, opts)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/sites/"+site.PublicID+"/deletions/"+j.ID)
	apierr.WriteJSON(w, http.StatusAccepted, j)
	return nil
}

// getDeletion answers GET /deletions/{job}: the job's status and, once
// done, its receipt.
func (a *API) getDeletion(w http.ResponseWriter, r *http.Request, site store.Site) error {
	j, ok := a.erasure.Job(site.ID, r.PathValue("job"))
	if !ok {
		return &apierr.Error{Status: http.StatusNotFound, Code: "deletion_not_found", Field: "job",
			Message: "no such deletion job"}
	}
	apierr.WriteJSON(w, http.StatusOK, j)
	return nil
}
