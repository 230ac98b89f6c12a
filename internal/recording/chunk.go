package recording

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"github.com/sightline/sightline/internal/apierr"
)

// Limits bound what one uploaded chunk may carry.
type Limits struct {
	// MaxChunkBytes bounds a gzip-compressed chunk as sent.
	MaxChunkBytes int64
	// MaxRawBytes bounds a chunk's JSON: sent as is, or after gunzip.
	MaxRawBytes int64
	// MaxConcurrent bounds chunks being read and decoded at once; more
	// are answered 429, which bounds the memory uploads take.
	MaxConcurrent int
	// MaxConcurrentPerIP bounds those of one client address (an IPv6
	// /64); more are answered 429 too_many_requests_from_client.
	MaxConcurrentPerIP int
}

// DefaultLimits returns the limits used when none are configured.
func DefaultLimits() Limits {
	return Limits{MaxChunkBytes: 1 << 20, MaxRawBytes: 8 << 20, MaxConcurrent: 8, MaxConcurrentPerIP: 2}
}

// Fixed limits of a chunk's fields.
const (
	// MaxSeq is the highest chunk number of a recording.
	MaxSeq = 100_000
	// maxIDLength bounds anonymousId and userId, as ingestion does.
	maxIDLength = 256
	// maxRecordingID bounds the browser's session ID.
	maxRecordingID = 64
	// maxURL bounds a page URL kept in the index.
	maxURL = 4096
	// maxChunkSpan bounds the time one chunk covers.
	maxChunkSpan = 4 * time.Hour
)

// rrweb's event types (rrweb's EventType enum): 0 DomContentLoaded, 1 Load,
// 2 FullSnapshot, 3 IncrementalSnapshot, 4 Meta, 5 Custom, 6 Plugin.
const (
	rrwebFullSnapshot = 2
	rrwebMeta         = 4
	rrwebMaxType      = 6
)

// wireChunk is a chunk as the recorder sends it. Times are milliseconds
// since the epoch on the browser's clock.
type wireChunk struct {
	Recording   string          `json:"recording"`
	AnonymousID string          `json:"anonymousId"`
	UserID      string          `json:"userId"`
	Seq         *float64        `json:"seq"`
	Start       *float64        `json:"start"`
	End         *float64        `json:"end"`
	SentAt      *float64        `json:"sentAt"`
	URL         string          `json:"url"`
	Events      json.RawMessage `json:"events"`
}

// rrwebEvent is what the server reads of each rrweb event: its type, its
// time, and a Meta event's page URL (no other event type has an href at
// the top of its data, and skipping the rest of data allocates nothing).
type rrwebEvent struct {
	Type      *float64 `json:"type"`
	Timestamp *float64 `json:"timestamp"`
	Data      struct {
		Href string `json:"href"`
	} `json:"data"`
}

// Chunk is a validated chunk.
type Chunk struct {
	Recording   string // the browser's session ID
	AnonymousID string
	UserID      string
	Seq         int
	// Start and End are the chunk's first and last event times, moved by
	// the browser clock's error when the chunk says when it was sent.
	Start, End time.Time
	// Events is the chunk's rrweb events: a JSON array, as sent.
	Events     []byte
	EventCount int
	// Pages are the distinct URLs the chunk shows: those of its rrweb Meta
	// events (each page load), then the page it was sent from.
	Pages []string
}

// parseChunk validates a chunk's JSON. receivedAt is the server's time,
// for the clock-skew correction.
func parseChunk(body []byte, receivedAt time.Time) (Chunk, error) {
	var w wireChunk
	if err := json.Unmarshal(body, &w); err != nil {
		return Chunk{}, apierr.Invalid("malformed_json", "", "the chunk is not the expected JSON: %v", err)
	}
	c := Chunk{Recording: w.Recording, AnonymousID: w.AnonymousID, UserID: w.UserID}
	switch {
	case w.Recording == "":
		return Chunk{}, missing("recording", "the browser's session ID")
	case len(w.Recording) > maxRecordingID || !token(w.Recording):
		return Chunk{}, apierr.Invalid("invalid_field", "recording",
			"recording must be 1 to %d letters, digits, '_' or '-'", maxRecordingID)
	case w.AnonymousID == "":
		return Chunk{}, missing("anonymousId", "the visitor's anonymous ID")
	}
	if err := checkID("anonymousId", w.AnonymousID); err != nil {
		return Chunk{}, err
	}
	if err := checkID("userId", w.UserID); err != nil {
		return Chunk{}, err
	}
	seq, err := integer("seq", w.Seq, 0, MaxSeq)
	if err != nil {
		return Chunk{}, err
	}
	c.Seq = int(seq)
	if c.Start, c.End, err = times(w, receivedAt); err != nil {
		return Chunk{}, err
	}
	if len(w.URL) > maxURL || !printable(w.URL) {
		return Chunk{}, apierr.Invalid("invalid_field", "url",
			"url must be at most %d bytes of UTF-8 without control characters", maxURL)
	}
	events := bytes.TrimSpace(w.Events)
	if len(events) == 0 || bytes.Equal(events, []byte("null")) {
		return Chunk{}, missing("events", "the rrweb events, an array")
	}
	if events[0] != '[' {
		return Chunk{}, apierr.Invalid("invalid_field", "events", "events must be an array of rrweb events")
	}
	var evs []rrwebEvent
	if err := json.Unmarshal(events, &evs); err != nil {
		return Chunk{}, apierr.Invalid("invalid_event", "events", "events must be rrweb events: %v", err)
	}
	seen := map[string]bool{}
	addPage := func(u string) {
		if u != "" && len(u) <= maxURL && printable(u) && !seen[u] {
			seen[u] = true
			c.Pages = append(c.Pages, u)
		}
	}
	for i := range evs {
		e := &evs[i]
		if e.Type == nil || *e.Type != math.Trunc(*e.Type) || *e.Type < 0 || *e.Type > rrwebMaxType {
			return Chunk{}, apierr.Invalid("invalid_event", "events["+strconv.Itoa(i)+"].type",
				"an rrweb event's type is a number from 0 to %d", rrwebMaxType)
		}
		if e.Timestamp == nil {
			return Chunk{}, apierr.Invalid("invalid_event", "events["+strconv.Itoa(i)+"].timestamp",
				"an rrweb event needs a timestamp (milliseconds since the epoch)")
		}
		if *e.Type == rrwebMeta {
			addPage(e.Data.Href)
		}
	}
	addPage(w.URL)
	c.Events = events
	c.EventCount = len(evs)
	return c, nil
}

// times reads start and end, moved by the difference between the server's
// clock and the browser's when the chunk says when it was sent (as the
// tracker's batches do, so that both line up).
func times(w wireChunk, receivedAt time.Time) (time.Time, time.Time, error) {
	// 2000-01-01 to 2100-01-01, in milliseconds.
	const lo, hi = 946_684_800_000, 4_102_444_800_000
	start, err := integer("start", w.Start, lo, hi)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	end, err := integer("end", w.End, lo, hi)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if end < start {
		return time.Time{}, time.Time{}, apierr.Invalid("invalid_field", "end", "end is before start")
	}
	if time.Duration(end-start)*time.Millisecond > maxChunkSpan {
		return time.Time{}, time.Time{}, apierr.Invalid("invalid_field", "end",
			"a chunk covers at most %s", maxChunkSpan)
	}
	var shift time.Duration
	if w.SentAt != nil {
		sent, err := integer("sentAt", w.SentAt, lo, hi)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		shift = receivedAt.Sub(time.UnixMilli(sent))
	}
	s, e := time.UnixMilli(start).Add(shift).UTC(), time.UnixMilli(end).Add(shift).UTC()
	if e.After(receivedAt.Add(24 * time.Hour)) {
		return time.Time{}, time.Time{}, apierr.Invalid("invalid_timestamp", "end",
			"end is more than a day in the future (check the browser's clock or sentAt)")
	}
	return s, e, nil
}

// integer reads a required whole number within [lo, hi].
func integer(field string, v *float64, lo, hi int64) (int64, error) {
	if v == nil {
		return 0, missing(field, "a number")
	}
	if *v != math.Trunc(*v) || *v < float64(lo) || *v > float64(hi) {
		return 0, apierr.Invalid("invalid_field", field, "%s must be a whole number from %d to %d", field, lo, hi)
	}
	return int64(*v), nil
}

func missing(field, what string) error {
	return apierr.Invalid("missing_field", field, "the chunk needs %s: %s", field, what)
}

func checkID(field, id string) error {
	if len(id) > maxIDLength {
		return apierr.Invalid("id_too_long", field, "%s is %d bytes; the limit is %d", field, len(id), maxIDLength)
	}
	if !printable(id) {
		return apierr.Invalid("invalid_id", field, "%s must be valid UTF-8 without control characters", field)
	}
	return nil
}

// token reports whether s is made of ASCII letters, digits, '_' and '-'.
func token(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// tooLarge is the answer to a chunk over a size limit.
func tooLarge(format string, args ...any) error {
	return &apierr.Error{Status: http.StatusRequestEntityTooLarge, Code: "chunk_too_large", Field: "body",
		Message: fmt.Sprintf(format, args...)}
}
