package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/csvimport"
)

// ImportUsers imports a CSV file of user attributes into a site.
func (l Local) ImportUsers(ctx context.Context, site string, r io.Reader) (csvimport.Report, error) {
	if l.Importer == nil {
		return csvimport.Report{}, errors.New("import is not available here")
	}
	s, err := l.Store.Site(ctx, site)
	if err != nil {
		return csvimport.Report{}, err
	}
	return csvimport.Users(ctx, l.Importer, s.ID, r, csvimport.Options{})
}

// ImportCompanies imports a CSV file of company attributes into a site.
func (l Local) ImportCompanies(ctx context.Context, site string, r io.Reader) (csvimport.Report, error) {
	if l.Importer == nil {
		return csvimport.Report{}, errors.New("import is not available here")
	}
	s, err := l.Store.Site(ctx, site)
	if err != nil {
		return csvimport.Report{}, err
	}
	return csvimport.Companies(ctx, l.Importer, s.ID, r, csvimport.Options{})
}

func (l Local) registerImport(mux *http.ServeMux, log *slog.Logger) {
	for path, imp := range map[string]func(context.Context, string, io.Reader) (csvimport.Report, error){
		"POST /imports/users": l.ImportUsers, "POST /imports/companies": l.ImportCompanies} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			rep, err := imp(r.Context(), r.URL.Query().Get("site"), r.Body)
			switch {
			case errors.Is(err, csvimport.ErrHeader):
				apierr.Write(w, log, apierr.Invalid("invalid_csv", "header", "%v", err))
			case err != nil:
				apierr.Write(w, log, SiteError(err))
			default:
				apierr.WriteJSON(w, http.StatusOK, rep)
			}
		})
	}
}

// ImportUsers uploads a CSV file of user attributes to the running server
// as it is read.
func (c *Client) ImportUsers(ctx context.Context, site string, r io.Reader) (csvimport.Report, error) {
	return c.importCSV(ctx, "users", site, r)
}

// ImportCompanies uploads a CSV file of company attributes to the running
// server as it is read.
func (c *Client) ImportCompanies(ctx context.Context, site string, r io.Reader) (csvimport.Report, error) {
	return c.importCSV(ctx, "companies", site, r)
}

func (c *Client) importCSV(ctx context.Context, what, site string, r io.Reader) (csvimport.Report, error) {
	var rep csvimport.Report
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://admin/imports/"+what+"?site="+url.QueryEscape(site), r)
	if err != nil {
		return rep, err
	}
	req.Header.Set("Content-Type", "text/csv")
	hc := *c.http
	hc.Timeout = 0 // as long as the import takes
	resp, err := hc.Do(req)
	if err != nil {
		return rep, fmt.Errorf("admin socket: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error apierr.Error `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return rep, errors.New(e.Error.Message)
	}
	return rep, json.NewDecoder(resp.Body).Decode(&rep)
}
