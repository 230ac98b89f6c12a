package api

import (
	"net/http"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// getInstall answers the dashboard's installation check: when the site
// last received something, from which page and which way (the browser
// tracker or the server API), and how much in the last 24 hours.
func (a *API) getInstall(w http.ResponseWriter, r *http.Request, site store.Site) error {
	st, err := a.store.InstallStatus(r.Context(), site.ID, time.Now())
	if err != nil {
		return err
	}
	out := map[string]any{"last_event_at": nil, "last_page_url": st.LastPageURL, "last_source": "", "events_24h": st.Events24h}
	if !st.LastEventAt.IsZero() {
		out["last_event_at"] = st.LastEventAt
		out["last_source"] = st.LastSource.String()
	}
	apierr.WriteJSON(w, http.StatusOK, out)
	return nil
}
