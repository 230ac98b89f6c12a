package account

import (
	"net/http"
	"strings"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

func (s *Service) registerSites(mux *http.ServeMux, p string) {
	mux.Handle("GET "+p+"/sites", s.handle(s.listSites))
	mux.Handle("POST "+p+"/sites", s.handle(s.postSite))
}

// listSites lists the sites the caller may see: a signed-in account's, or
// with a bearer token that token's one site.
func (s *Service) listSites(w http.ResponseWriter, r *http.Request) error {
	if h := r.Header.Get("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		tok, err := s.store.TokenBySecret(r.Context(), secret)
		if !ok || secret == "" || err != nil {
			return &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "unknown or revoked API token"}
		}
		sites := []siteJSON{}
		for _, site := range s.store.Sites(r.Context()) {
			if site.ID == tok.SiteID {
				sites = append(sites, siteJSON{Site: site, Access: tok.Scope})
			}
		}
		apierr.WriteJSON(w, http.StatusOK, map[string]any{"sites": sites})
		return nil
	}
	c, err := s.signedIn(w, r)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"sites": s.visibleSites(r, c.account)})
	return nil
}

// postSite creates a site (owners and admins). Its write key is in the
// answer, and only there: it is stored hashed.
func (s *Service) postSite(w http.ResponseWriter, r *http.Request) error {
	c, err := s.signedIn(w, r)
	if err != nil {
		return err
	}
	if !c.account.Role.AllSites() {
		return errForbidden("only owners and admins create sites")
	}
	var body struct {
		Name    string   `json:"name"`
		Origins []string `json:"origins"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if strings.TrimSpace(body.Name) == "" {
		return errInvalid("name", "a site needs a name")
	}
	if len(body.Name) > 200 {
		return errInvalid("name", "a site's name has at most 200 bytes")
	}
	site, key, err := s.store.CreateSite(r.Context(), body.Name, body.Origins)
	if err != nil {
		// The name is checked above: what CreateSite refuses is an origin.
		return errInvalid("origins", err.Error())
	}
	apierr.WriteJSON(w, http.StatusCreated, map[string]any{
		"site":      siteJSON{Site: site, Access: store.ScopeAdmin},
		"write_key": key,
	})
	return nil
}
