package store

import (
	"context"
	"time"
)

// Eraser deletes everything a site holds about one user, for an erasure
// request (GDPR article 17). A deletion is two steps: the rows go at
// once, then the files are scrubbed of what deleted rows leave in them,
// which is slow (the database file is rewritten) and done once for the
// deletions made meanwhile.
type Eraser interface {
	// DeleteUser deletes the user that id names, with every identity
	// joined to it, and returns the receipt. Recordings lose their index
	// rows here; their blobs are deleted by the recording service, which
	// finishes the deletions the store records. ErrNotFound when no
	// such user exists.
	DeleteUser(ctx context.Context, site int64, id Identity, opts EraseOptions) (Erasure, error)
	// ScrubErased removes from the files what the rows deleted so far
	// leave there, and returns how many write-ahead log segments it
	// removed. A deletion not yet scrubbed is scrubbed at the next start.
	ScrubErased(ctx context.Context) (int, error)
}

// EraseOptions tune a deletion.
type EraseOptions struct {
	// Suppress drops later messages naming any of the user's IDs; only
	// a hash of each ID is kept.
	Suppress bool
}

// Erasure is the receipt of a user's deletion: what went, how much of it,
// and when. It names the user only as asked; the store keeps a hash.
type Erasure struct {
	SiteID int64    `json:"-"`
	User   Identity `json:"user"`
	// Identities is how many external IDs (the user ID and every
	// anonymous ID joined to it) were deleted.
	Identities int64 `json:"identities"`
	// Deleted counts the deleted rows by kind: events, sessions,
	// attributes, attribute_history, rejections, company_links,
	// recordings, recording_chunks, survey_responses, survey_answers,
	// survey_dismissals, feedback.
	Deleted map[string]int64 `json:"deleted"`
	// LogSegments is how many write-ahead log segments were removed
	// because they held the user's messages (all applied).
	LogSegments int `json:"log_segments"`
	// Suppressed says later messages for the user's IDs are dropped.
	Suppressed bool `json:"suppressed"`
	// Rewritten says the database file was rewritten, so that the
	// deleted rows' bytes are not left in freed space.
	Rewritten bool      `json:"rewritten"`
	StartedAt time.Time `json:"started_at"`
	DoneAt    time.Time `json:"done_at"`
}
