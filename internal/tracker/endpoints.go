package tracker

import (
	"net/http"

	"github.com/sightline/sightline/internal/store"
)

// SiteHandler serves a tracker endpoint for a site whose write key and
// page origin the tracker has checked.
type SiteHandler func(w http.ResponseWriter, r *http.Request, site store.Site)

// siteEndpoint checks a request as the batch endpoint does (the write key
// in k, an allowed Origin), paces its body, and answers with CORS headers
// for that origin. Browsers send these requests without a preflight: GET,
// or POST with a text/plain body.
func (h *Handler) siteEndpoint(fn SiteHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if site, ok := h.cors(w, r); ok {
			fn(w, r, site)
		}
	}
}
