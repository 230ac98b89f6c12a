package store

import (
	"context"
	"encoding/json"
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
	// Job, when set, names the EraseJob the deletion runs for: the
	// transaction that deletes the rows also marks the job scrubbing,
	// with its receipt, and forgets the user's ID it kept.
	Job string
}

// Erase job states, in order.
const (
	EraseQueued = "queued"
	// EraseScrubbing: the rows are deleted (the receipt says what went)
	// and the files are being scrubbed.
	EraseScrubbing = "scrubbing"
	EraseDone      = "done"
	EraseFailed    = "failed"
)

// EraseJob is a user's deletion as it is kept, so that it survives a
// restart: a queued job is resumed at the next start, a scrubbing one is
// finished by the store's scrub at its opening.
type EraseJob struct {
	ID          string
	SiteID      int64
	Status      string
	Error       string
	User        Identity // the ID only while queued
	Suppress    bool
	RequestedAt time.Time
	Receipt     *Erasure // without the user's ID
}

// EraseJobs keeps deletion jobs.
type EraseJobs interface {
	// SaveEraseJob inserts or replaces a job. Past queued, the user's ID
	// is not kept.
	SaveEraseJob(ctx context.Context, j EraseJob) error
	// EraseJob returns a job of the site; ErrNotFound when none.
	EraseJob(ctx context.Context, site int64, id string) (EraseJob, error)
	// UnfinishedEraseJobs returns the jobs queued or scrubbing, oldest
	// first: those a crash interrupted, at the start.
	UnfinishedEraseJobs(ctx context.Context) ([]EraseJob, error)
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
	// survey_dismissals, feedback, quarantined, alert_causes,
	// alert_messages, alert_attempts.
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

// Submissions reads what a user typed into surveys and the feedback tab,
// for an export of everything held about them (GDPR articles 15 and 20).
type Submissions interface {
	// UserSubmissions returns the survey responses and feedback of the
	// user id names, matched by the user ID or any anonymous ID joined to
	// it, oldest first. ErrNotFound when no such user exists.
	UserSubmissions(ctx context.Context, site int64, id Identity) (UserSubmissions, error)
}

// UserSubmissions is a user's survey responses and feedback.
type UserSubmissions struct {
	Responses []SubmittedResponse `json:"survey_responses"`
	Feedback  []SubmittedFeedback `json:"feedback"`
}

// SubmittedResponse is one survey response as an export shows it.
type SubmittedResponse struct {
	SurveyID    string          `json:"survey_id"`
	ResponseID  string          `json:"response_id"`
	AnonymousID string          `json:"anonymous_id"`
	UserID      string          `json:"user_id"`
	URL         string          `json:"url"`
	Answers     json.RawMessage `json:"answers"`
	Completed   bool            `json:"completed"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// SubmittedFeedback is one feedback item as an export shows it.
type SubmittedFeedback struct {
	ID          string    `json:"id"`
	AnonymousID string    `json:"anonymous_id"`
	UserID      string    `json:"user_id"`
	URL         string    `json:"url"`
	Rating      int       `json:"rating"`
	Comment     string    `json:"comment"`
	Selector    string    `json:"selector"`
	CreatedAt   time.Time `json:"created_at"`
}

// SiteDeleter deletes a site with everything it holds: its data, its
// recordings' index rows (their blobs through the recording service's
// deletion outbox), its tokens, its write key, its settings, and its place
// in accounts and invitations; then scrubs the files as a user's erasure
// does.
type SiteDeleter interface {
	DeleteSite(ctx context.Context, site int64) (map[string]int64, error)
}
