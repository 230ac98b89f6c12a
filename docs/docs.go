// Package docs holds Sightline's documentation as Markdown. The files are
// embedded so that the binary serves them (internal/manual) to people who
// run it without the source at hand, offline included.
package docs

import "embed"

// Files are the documents, by file name (segments.md, tracker.md, …).
//
//go:embed *.md
var Files embed.FS
