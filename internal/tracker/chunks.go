package tracker

import (
	"fmt"
	"io/fs"
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
)

// Chunks are parts of the tracker that only some pages need (session
// recording, the survey widget), kept out of the core so that it stays
// small. scripts/build-tracker.sh bundles each web/tracker/chunks/NAME.ts
// into dist/chunks/NAME-HASH.js and bakes the names into the core, whose
// loadChunk adds a <script> for /t/chunks/NAME-HASH.js when the site's
// config asks for a chunk. A chunk's name changes with its content, so it
// is served as immutable, like the core's versioned name.

// loadChunks reads every built chunk under fsys's dist/chunks, by file name.
func loadChunks(fsys fs.FS) (map[string]Script, error) {
	names, err := fs.Glob(fsys, "dist/chunks/*.js")
	if err != nil {
		return nil, fmt.Errorf("find the tracker's chunks: %w", err)
	}
	out := make(map[string]Script, len(names))
	for _, n := range names {
		s, err := readScript(fsys, n)
		if err != nil {
			return nil, err
		}
		out[s.Name] = s
	}
	return out, nil
}

// serveChunk serves a chunk under its versioned name, cached for a year.
func (h *Handler) serveChunk(w http.ResponseWriter, r *http.Request) {
	s, ok := h.chunks[r.PathValue("file")]
	if !ok {
		apierr.Write(w, h.cfg.Log, &apierr.Error{Status: http.StatusNotFound, Code: "not_found",
			Message: "no such tracker chunk"})
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	writeScript(w, r, &s)
}
