package tracker

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// SiteConfig is what the tracker reads from GET /t/config?k=WRITE_KEY when
// it starts: the site's settings that an administrator changes without
// touching the snippet. Recording and survey settings will join it; a
// tracker ignores fields it does not know.
type SiteConfig struct {
	// RespectDNT: capture nothing in a browser that sends Do-Not-Track or
	// Global Privacy Control.
	RespectDNT bool `json:"respect_dnt"`
}

// configOf returns the tracker's view of a site's settings.
func configOf(s store.Site) SiteConfig {
	return SiteConfig{RespectDNT: s.RespectDNT}
}

// configMaxAge is how long browsers may keep a site's config: a changed
// setting reaches every visitor within a minute.
const configMaxAge = "60"

// config answers GET /t/config?k=WRITE_KEY with the site's SiteConfig,
// under the same key and origin check as a batch, so that only pages on
// the site's origins read it.
func (h *Handler) config(w http.ResponseWriter, r *http.Request) {
	site, origin, err := h.authorize(r)
	if err != nil {
		apierr.Write(w, h.cfg.Log, err)
		return
	}
	body, err := json.Marshal(configOf(site))
	if err != nil {
		apierr.Write(w, h.cfg.Log, fmt.Errorf("encode the site's tracker config: %w", err))
		return
	}
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", origin)
	hdr.Add("Vary", "Origin")
	hdr.Set("Cache-Control", "private, max-age="+configMaxAge)
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
