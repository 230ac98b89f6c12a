package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// configOf returns what the tracker reads from GET /t/config?k=WRITE_KEY
// when it starts: the site's settings that an administrator changes
// without touching the snippet. respect_dnt asks it to capture nothing in
// a browser that sends Do-Not-Track or Global Privacy Control;
// keep_params lists the query parameters it sends unscrubbed; other
// features' settings (Config.ConfigParts) join under their names. A
// tracker ignores fields it does not know.
func (h *Handler) configOf(ctx context.Context, s store.Site) (map[string]any, error) {
	keep := s.KeepParams
	if keep == nil {
		keep = []string{}
	}
	out := map[string]any{"respect_dnt": s.RespectDNT, "keep_params": keep}
	for name, part := range h.cfg.ConfigParts {
		v, err := part(ctx, s.ID)
		if err != nil {
			return nil, fmt.Errorf("read the site's %s settings: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

// configMaxAge is how long browsers may keep a site's config: a changed
// setting reaches every visitor within a minute.
const configMaxAge = "60"

// config answers GET /t/config?k=WRITE_KEY with the site's configOf,
// under the same key and origin check as a batch, so that only pages on
// the site's origins read it.
func (h *Handler) config(w http.ResponseWriter, r *http.Request) {
	site, origin, err := h.authorize(r)
	if err != nil {
		apierr.Write(w, h.cfg.Log, err)
		return
	}
	cfg, err := h.configOf(r.Context(), site)
	if err != nil {
		apierr.Write(w, h.cfg.Log, err)
		return
	}
	body, err := json.Marshal(cfg)
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
