package store

import (
	"errors"
	"time"
)

// ErrQuota means a site's daily recording quota is used up: a new
// recording is refused until the next UTC day.
var ErrQuota = errors.New("daily recording quota reached")

// RecordingSettings are a site's session-recording settings.
type RecordingSettings struct {
	// Enabled turns recording on for the site. New sites record.
	Enabled bool `json:"enabled"`
	// SampleRate is the share of sessions the tracker records, 0 to 1.
	SampleRate float64 `json:"sample_rate"`
	// DailyQuota is how many recordings may start per UTC day.
	DailyQuota int `json:"daily_quota"`
	// RetentionDays is how long a recording is kept after it starts.
	RetentionDays int `json:"retention_days"`
	// Backgrounds are the page groups whose heatmap backgrounds the
	// tracker captures in sessions that are not recorded, while
	// recording is on (docs/heatmaps.md, "Backgrounds").
	Backgrounds []PageGroup `json:"backgrounds"`
	UpdatedAt   time.Time   `json:"updated_at,omitzero"`
}

// PageGroup names a heatmap's pages: Page read as Match says (exact,
// path, pattern or regex; heatmap.Match).
type PageGroup struct {
	Page  string `json:"page"`
	Match string `json:"match"`
}

// DefaultRecordingSettings are the settings of a site that never changed
// them: recording on for every session, 10,000 recordings a day, kept 30
// days.
func DefaultRecordingSettings() RecordingSettings {
	return RecordingSettings{Enabled: true, SampleRate: 1, DailyQuota: 10_000, RetentionDays: 30, Backgrounds: []PageGroup{}}
}

// RecordingStart names the recording a chunk belongs to: the browser's
// session ID and the visitor's anonymous ID, within a site.
type RecordingStart struct {
	SiteID         int64
	BrowserSession string
	AnonymousID    string
	At             time.Time // when the server received the first chunk
}

// Recording is a stored recording as its index row has it.
type Recording struct {
	ID             string // made by the server: rec_…
	SiteID         int64
	BrowserSession string
	AnonymousID    string
	UserID         string // the first user ID a chunk carried, if any
	StartedAt      time.Time
	EndedAt        time.Time
	CreatedAt      time.Time
	Chunks         int
	BytesStored    int64
	BytesRaw       int64
	FirstURL       string
	Pages          int
}

// RecordingChunk is one stored chunk of a recording.
type RecordingChunk struct {
	RecordingID string
	Seq         int
	Start, End  time.Time
	Events      int
	BytesStored int64
	BytesRaw    int64
	UserID      string
	// Pages are the distinct URLs the chunk shows, in order of appearance.
	Pages []string
}

// ImportedRecording is a whole recording indexed at once, its chunks'
// blobs already stored: of Recording it uses ID, SiteID, BrowserSession,
// AnonymousID, UserID and CreatedAt; the rest comes from the chunks.
type ImportedRecording struct {
	Recording
	Chunks []RecordingChunk
}

// KeySet is a parameterised SQL query that returns user keys in a column
// named u, such as a segment's members compiled by the segment engine. Its
// SQL never holds user text: that is in Args.
type KeySet struct {
	SQL  string
	Args []any
}

// RecordingSort orders a recording list, always descending.
type RecordingSort string

// Recording list orders.
const (
	SortDate        RecordingSort = "date"        // newest first
	SortDuration    RecordingSort = "duration"    // longest first
	SortFrustration RecordingSort = "frustration" // most rage clicks, dead clicks, errors and u-turns first
)

// RecordingQuery selects recordings of a site. Zero fields do not filter.
type RecordingQuery struct {
	Members     *KeySet // only recordings of these users
	From, To    time.Time
	MinDuration time.Duration
	MaxDuration time.Duration
	Device      string
	Country     string
	Page        string // a URL substring the recording shows
	Event       string // a custom event done during the recording
	Signal      string // rage_clicks, dead_clicks, errors or u_turns: at least one
	Sort        RecordingSort
	Limit       int
	// After is the cursor of the previous page: its last row's sort key
	// and ID.
	After      *RecordingCursor
	Attributes []string // user attributes to return with each row
	// Backgrounds lists the recordings that hold heatmap backgrounds the
	// tracker captured (their browser session starts with "bg-"), which
	// lists of sessions leave out.
	Backgrounds bool
}

// RecordingCursor is where a page of recordings ends.
type RecordingCursor struct {
	Key int64
	ID  string
}

// ValidSignal reports whether s names a signal that recordings can be
// filtered by: rage_clicks, dead_clicks, errors or u_turns.
func ValidSignal(s string) bool {
	switch s {
	case "rage_clicks", "dead_clicks", "errors", "u_turns":
		return true
	}
	return false
}

// RecordingRow is a recording as lists show it: the index row, the user it
// belongs to now (resolved through identities when read, so it follows
// later identifies and merges), and what the server session that overlaps
// it most says about device and country.
type RecordingRow struct {
	Recording
	UserKey    int64  // 0 when no identity is known yet
	UserExtID  string // the user's user ID, empty for an anonymous visitor
	SessionID  int64  // the overlapping server session, 0 when none
	Device     string
	Browser    string
	OS         string
	Country    string
	Signals    Signals
	Attributes []AttrState
	SortKey    int64
}

// RecordingRef names a recording of a site, for deletions.
type RecordingRef struct {
	SiteID int64
	ID     string
}

// SessionMoment is a moment in a browser session, such as when a survey
// was answered in it.
type SessionMoment struct {
	Session string
	At      time.Time
}
