package tracker

import (
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// SiteHandler serves a tracker endpoint for a site whose write key and
// page origin the tracker has checked.
type SiteHandler func(w http.ResponseWriter, r *http.Request, site store.Site)

// siteEndpoint checks a request as the batch endpoint does (the write key
// in k, an allowed Origin) and answers with CORS headers for that origin.
// Browsers send these requests without a preflight: GET, or POST with a
// text/plain body.
func (h *Handler) siteEndpoint(fn SiteHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		site, origin, err := h.authorize(r)
		if err != nil {
			apierr.Write(w, h.cfg.Log, err)
			return
		}
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Add("Vary", "Origin")
		hdr.Set("Access-Control-Expose-Headers", "Retry-After")
		fn(w, r, site)
	}
}
