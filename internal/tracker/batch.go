package tracker

import (
	"net/http"
	"strings"

	"github.com/sightline/sightline/internal/admit"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// The batch endpoint, POST /t/batch?k=WRITE_KEY, takes a batch in the body
// as /v1/batch does. The key is in the address rather than a header so that
// sendBeacon can send it, and so that the browser needs no preflight: the
// tracker posts text/plain, a CORS-safelisted type. Only pages on the
// site's allowed origins may send: the Origin header must match one, and
// only such an origin is echoed in Access-Control-Allow-Origin. No
// credentials are involved; the visitor's ID travels in the body.
//
// Session-recording chunks, POST /t/rec?k=WRITE_KEY, pass the same checks
// and go to Config.Recordings.

// batch checks the key and origin and hands the batch to ingestion.
func (h *Handler) batch(w http.ResponseWriter, r *http.Request) {
	if site, ok := h.cors(w, r); ok {
		h.cfg.Ingest.ServeBrowserBatch(w, r, site)
	}
}

// recording checks the key and origin, as for a batch, and hands a
// session-recording chunk (POST /t/rec?k=WRITE_KEY) to the recordings.
func (h *Handler) recording(w http.ResponseWriter, r *http.Request) {
	if site, ok := h.cors(w, r); ok {
		h.cfg.Recordings.ServeRecordingChunk(w, r, site)
	}
}

// cors authorizes a browser's post, paces its body and sets the CORS
// headers of its answer; when it refuses, it has answered, without reading
// the body.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) (store.Site, bool) {
	site, origin, err := h.authorize(r)
	if err != nil {
		admit.DropBody(w, r)
		apierr.Write(w, h.cfg.Log, err)
		return store.Site{}, false
	}
	r.Body = h.cfg.Body.Body(w, r)
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", origin)
	hdr.Add("Vary", "Origin")
	hdr.Set("Access-Control-Expose-Headers", "Retry-After")
	return site, true
}

// preflight answers a CORS preflight: the tracker itself never needs one,
// but a page posting JSON or gzip to the endpoint does.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	_, origin, err := h.authorize(r)
	if err != nil {
		apierr.Write(w, h.cfg.Log, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", origin)
	hdr.Add("Vary", "Origin")
	hdr.Set("Access-Control-Allow-Methods", "POST")
	hdr.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding")
	hdr.Set("Access-Control-Max-Age", "7200")
	w.WriteHeader(http.StatusNoContent)
}

// authorize finds the site from the k parameter and checks the request's
// Origin against the site's allowed origins.
func (h *Handler) authorize(r *http.Request) (store.Site, string, error) {
	key := r.URL.Query().Get("k")
	if key == "" {
		h.refused.WithLabelValues("key").Inc()
		return store.Site{}, "", &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
			Field: "k", Message: "send the site's write key as the k parameter: " + r.URL.Path + "?k=WRITE_KEY"}
	}
	site, err := h.cfg.Sites.SiteByWriteKey(r.Context(), key)
	if err != nil {
		h.refused.WithLabelValues("key").Inc()
		return store.Site{}, "", &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized",
			Field: "k", Message: "unknown write key"}
	}
	origin := r.Header.Get("Origin")
	if !originAllowed(site.Origins, origin) {
		h.refused.WithLabelValues("origin").Inc()
		msg := "the page's origin " + quoteOrNone(origin) + " is not among the site's allowed origins"
		if len(site.Origins) == 0 {
			msg = "the site has no allowed origins; add the page's origin " + quoteOrNone(origin) + " to the site"
		}
		return store.Site{}, "", &apierr.Error{Status: http.StatusForbidden, Code: "origin_not_allowed",
			Message: msg}
	}
	return site, origin, nil
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none sent)"
	}
	return `"` + s + `"`
}

// originAllowed reports whether origin, as a browser sends it, is one of
// allowed. Both are compared lowercased and without a default port; an
// allowed origin "https://*.example.com" admits every subdomain of
// example.com over https (but not example.com itself). The opaque origin
// "null" (sandboxed frames, local files) is never allowed.
func originAllowed(allowed []string, origin string) bool {
	o := canonicalOrigin(origin)
	if o == "" || o == "null" {
		return false
	}
	for _, a := range allowed {
		a = canonicalOrigin(a)
		if a == o {
			return true
		}
		scheme, host, ok := strings.Cut(a, "://*.")
		if ok && strings.HasPrefix(o, scheme+"://") && strings.HasSuffix(o, "."+host) {
			return true
		}
	}
	return false
}

func canonicalOrigin(o string) string {
	o = strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/"))
	if s, ok := strings.CutSuffix(o, ":443"); ok && strings.HasPrefix(o, "https://") {
		return s
	}
	if s, ok := strings.CutSuffix(o, ":80"); ok && strings.HasPrefix(o, "http://") {
		return s
	}
	return o
}
