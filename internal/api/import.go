package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/csvimport"
	"github.com/sightline/sightline/internal/store"
)

// maxImportBytes bounds an uploaded CSV file (4 GiB).
const maxImportBytes = 4 << 30

// WithImport adds the CSV import of user attributes, written to st.
func (a *API) WithImport(st csvimport.Store) *API {
	a.importer = st
	return a
}

func (a *API) registerImport(mux *http.ServeMux, p string) {
	mux.Handle("POST "+p+"/imports/users", a.auth(store.ScopeAdmin, a.importUsers))
	mux.Handle("POST "+p+"/imports/companies", a.auth(store.ScopeAdmin, a.importCompanies))
}

// importCompanies answers POST /imports/companies as importUsers does,
// for company (group) attributes.
func (a *API) importCompanies(w http.ResponseWriter, r *http.Request, site store.Site) error {
	return a.importCSV(w, r, site, csvimport.Companies)
}

// importUsers answers POST /imports/users: the body is the CSV file, read
// as it arrives; the answer is the import's report.
func (a *API) importUsers(w http.ResponseWriter, r *http.Request, site store.Site) error {
	return a.importCSV(w, r, site, csvimport.Users)
}

type importFunc func(ctx context.Context, st csvimport.Store, site int64, r io.Reader, opts csvimport.Options) (csvimport.Report, error)

func (a *API) importCSV(w http.ResponseWriter, r *http.Request, site store.Site, imp importFunc) error {
	body := http.MaxBytesReader(w, r.Body, maxImportBytes)
	rep, err := imp(r.Context(), a.importer, site.ID, body, csvimport.Options{})
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, csvimport.ErrHeader):
		return apierr.Invalid("invalid_csv", "header", "%v", err)
	case errors.As(err, &tooBig):
		return &apierr.Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
			Message: "the file is larger than 4 GiB; split it"}
	case err != nil:
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, rep)
	return nil
}
