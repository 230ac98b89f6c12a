// Package store defines what Sightline keeps and how the rest of the program
// reaches it: the normalised message that ingestion writes, the records that
// the read API returns, and small role interfaces (a writer for ingestion, a
// reader for queries, a catalog of sites and tokens). Implementations live in
// sub-packages, such as duckstore for the embedded DuckDB database.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sightline/sightline/internal/attr"
)

// Sentinel errors returned by every implementation.
var (
	// ErrNotFound means the site, token, user or key asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change contradicts stored data, such as a type
	// change that some stored values cannot follow.
	ErrConflict = errors.New("conflict")
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("store closed")
	// ErrBusy means the store cannot take more writes for now; the sender
	// should retry shortly.
	ErrBusy = errors.New("store busy")
	// ErrInvalid means a value given to the store is not acceptable; see
	// FieldError.
	ErrInvalid = errors.New("invalid")
	// ErrLagging means a read waited its whole bound for recent writes to
	// be applied; the reader should retry shortly.
	ErrLagging = errors.New("store lagging behind acknowledged writes")
	// ErrUnavailable means the store cannot make writes durable for now,
	// such as while its disk is full; nothing of the write was kept.
	ErrUnavailable = errors.New("storage unavailable")
)

// Kind is the kind of a message, following the Segment tracking spec.
type Kind uint8

// Message kinds. Their numeric values are stored and must not change.
const (
	KindIdentify Kind = 1 + iota
	KindTrack
	KindPage
	KindScreen
	KindGroup
	KindAlias
)

var kindNames = [...]string{"", "identify", "track", "page", "screen", "group", "alias"}

// String returns the kind's name as used by the Segment spec.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// ParseKind returns the kind named s, or 0 when s names none.
func ParseKind(s string) Kind {
	for i, n := range kindNames {
		if i > 0 && n == s {
			return Kind(i)
		}
	}
	return 0
}

// Entity says whether attributes belong to a user or to a company (a Segment
// group).
type Entity uint8

// Entities. Their numeric values are stored and must not change.
const (
	EntityUser  Entity = 0
	EntityGroup Entity = 1
)

// String returns "user" or "group".
func (e Entity) String() string {
	if e == EntityGroup {
		return "group"
	}
	return "user"
}

// Source says which way a message arrived.
type Source uint8

// Sources. Their numeric values are stored and must not change.
const (
	// SourceServer is the Segment HTTP API (server libraries, imports).
	SourceServer Source = 0
	// SourceTracker is the browser tracker's batch endpoint.
	SourceTracker Source = 1
)

// String returns "server" or "tracker".
func (s Source) String() string {
	if s == SourceTracker {
		return "tracker"
	}
	return "server"
}

// Message is one validated, normalised message ready to be stored. Ingestion
// fills it from a Segment-spec call or a tracker batch; IP addresses never
// reach it.
type Message struct {
	SiteID      int64
	Kind        Kind
	MessageID   string
	UserID      string
	AnonymousID string
	PreviousID  string // alias: the identity joined into UserID
	GroupID     string // group: the company the user belongs to
	Name        string // track: the event name; page and screen: the page name
	Timestamp   time.Time
	ReceivedAt  time.Time
	Properties  string      // JSON object: properties, or the traits as sent
	Traits      []attr.Pair // identify: user traits; group: company traits
	Page        Page
	Context     Context
	Source      Source
}

// Page describes the page a page view or event happened on.
type Page struct {
	URL, Path, Title, Referrer string
}

// Context is what ingestion derived from a message's context: device from
// the user agent, country from the IP address (which is then dropped),
// locale, time zone and traffic channel.
type Context struct {
	Browser, OS, DeviceType string
	Country                 string
	Locale, Timezone        string
	Channel                 string
	Referrer                string
	UTMSource, UTMMedium    string
	UTMCampaign             string
}

// Warning tells the sender that part of an accepted message was not stored,
// such as an attribute whose value does not fit its key's type.
type Warning struct {
	Code    string `json:"code"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Outcome is what happened to one message of a write.
type Outcome struct {
	// Duplicate is set when a message with the same messageId was stored
	// before; it is not stored again.
	Duplicate bool
	Warnings  []Warning
	// Refused, when set, says why the message was not stored at all (text
	// that is not UTF-8; see InvalidText).
	Refused *Warning
}

// Writer stores messages durably: when Write returns without error, every
// message is committed and survives a crash.
type Writer interface {
	Write(ctx context.Context, msgs []Message) ([]Outcome, error)
}

// Identity names a user or company by its external ID.
type Identity struct {
	Kind string `json:"kind"` // "user", "anonymous" or "group"
	ID   string `json:"id"`
}

// Merger joins two identities into one user. Everything known about from
// (events, sessions, attributes, other IDs) moves to into; on an attribute
// both have, into's value wins.
type Merger interface {
	Merge(ctx context.Context, siteID int64, from, into Identity) error
}

// QuarantinedMessage is an acknowledged message that the database refused
// when it was applied, set aside so that the rest could be.
type QuarantinedMessage struct {
	ID        int64           `json:"id"`
	MessageID string          `json:"message_id"`
	Kind      string          `json:"type"`
	Reason    string          `json:"reason"`
	Message   json.RawMessage `json:"message"` // a readable rendering of what was logged
	At        time.Time       `json:"quarantined_at"`
}

// Quarantine lists a site's quarantined messages.
type Quarantine interface {
	QuarantinedMessages(ctx context.Context, site int64, limit int, before int64) ([]QuarantinedMessage, error)
}

// Health is what a store reports of its own state for readiness checks.
type Health struct {
	// Lag is how many acknowledged messages wait to be applied.
	Lag int `json:"lag"`
	// ApplyError is the last failure to apply them, empty once one works.
	ApplyError string `json:"apply_error,omitempty"`
	// WriteError is why writes are refused, such as a full disk.
	WriteError string `json:"write_error,omitempty"`
	// Quarantined counts messages set aside since the start.
	Quarantined int64 `json:"quarantined"`
}
