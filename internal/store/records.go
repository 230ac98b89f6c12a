package store

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/sightline/sightline/internal/attr"
)

// Site is a tracked web site or app. Its write key is stored only as a hash.
type Site struct {
	ID       int64    `json:"-"`
	PublicID string   `json:"id"`
	Name     string   `json:"name"`
	Origins  []string `json:"origins"`
	// RespectDNT makes the browser tracker capture nothing in a browser
	// that sends Do-Not-Track or Global Privacy Control.
	RespectDNT bool `json:"respect_dnt"`
	// KeyAttributes are the user attributes shown beside a user wherever
	// one is listed; empty: a default pick.
	KeyAttributes []string `json:"key_attributes"`
	// KeepParams are the query parameters the browser tracker sends as
	// they are; every other one is scrubbed (secret-looking names lose
	// their value, long digit runs are masked).
	KeepParams []string `json:"keep_params"`
	// ScrubParams are query parameters whose values the server drops
	// from page URLs at ingest besides those whose names look secret
	// (internal/scrub); KeepParams wins over both.
	ScrubParams []string `json:"scrub_params"`
	// TimeZone is the IANA zone whose calendar the site's insights follow
	// when a definition names none (days, weeks and months start at its
	// midnight); "UTC" until it is set.
	TimeZone  string    `json:"time_zone"`
	CreatedAt time.Time `json:"created_at"`
}

// SiteUpdate changes a site's settings; a nil field stays as it is. An
// empty Origins list leaves the site without allowed origins, so that the
// tracker is refused everywhere.
type SiteUpdate struct {
	Name       *string   `json:"name,omitempty"`
	Origins    *[]string `json:"origins,omitempty"`
	RespectDNT *bool     `json:"respect_dnt,omitempty"`
	// KeyAttributes replaces the chosen key attributes; an empty list
	// goes back to the default pick.
	KeyAttributes *[]string `json:"key_attributes,omitempty"`
	// KeepParams replaces the allow-list of query parameters the tracker
	// sends unscrubbed; an empty list scrubs them all.
	KeepParams *[]string `json:"keep_params,omitempty"`
	// ScrubParams replaces the site's own list of parameters scrubbed at
	// ingest; an empty list leaves the names that look secret.
	ScrubParams *[]string `json:"scrub_params,omitempty"`
	// TimeZone replaces the site's time zone (an IANA name; "" goes back
	// to UTC).
	TimeZone *string `json:"time_zone,omitempty"`
}

// FieldError is a value the store refused, naming the field at fault as
// the API spells it ("name", "origins[1]"). It wraps ErrInvalid.
type FieldError struct {
	Code  string // stable, such as "invalid_origin"
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Scope is what an API token may do. Each scope includes the ones before it.
type Scope string

// Token scopes.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
	ScopeAdmin Scope = "admin"
)

// Allows reports whether a token of scope s may do what needs scope need.
func (s Scope) Allows(need Scope) bool {
	return need.rank() > 0 && s.rank() >= need.rank()
}

// rank orders the scopes; 0 is no valid scope.
func (s Scope) rank() int {
	switch s {
	case ScopeRead:
		return 1
	case ScopeWrite:
		return 2
	case ScopeAdmin:
		return 3
	}
	return 0
}

// Token is an API token. Its secret is stored only as a hash.
type Token struct {
	ID         string     `json:"id"`
	SiteID     int64      `json:"-"`
	Scope      Scope      `json:"scope"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Catalog keeps sites and tokens.
type Catalog interface {
	CreateSite(ctx context.Context, name string, origins []string) (site Site, writeKey string, err error)
	UpdateSite(ctx context.Context, publicID string, u SiteUpdate) (Site, error)
	Site(ctx context.Context, publicID string) (Site, error)
	Sites(ctx context.Context) []Site
	SiteByWriteKey(ctx context.Context, writeKey string) (Site, error)
	CreateToken(ctx context.Context, siteID int64, scope Scope) (tok Token, secret string, err error)
	TokenBySecret(ctx context.Context, secret string) (Token, error)
}

// AttrState is the current value of one attribute of a user or company.
type AttrState struct {
	Key       string
	Value     attr.Value
	ChangedAt time.Time
}

// Change is one entry of an attribute's history. A Null value records an
// unset.
type Change struct {
	Key   string
	Value attr.Value
	At    time.Time
}

// User is a user (identified or anonymous) with its current attributes.
type User struct {
	Key          int64
	UserID       string // empty for an anonymous visitor
	AnonymousIDs []string
	FirstSeen    time.Time
	LastSeen     time.Time
	Sessions     int
	Events       int
	Attributes   []AttrState
	Groups       []Group
}

// Group is a company a user belongs to, with its attributes.
type Group struct {
	ID         string
	Attributes []AttrState
}

// Event is one stored message of a user.
type Event struct {
	Kind       Kind
	Name       string
	Timestamp  time.Time
	MessageID  string
	SessionID  int64
	Page       Page
	Properties string
}

// Session is one visit of a user.
type Session struct {
	ID         int64
	Start, End time.Time
	Pages      int
	Events     int
	EntryPage  string
	ExitPage   string
	Context    Context
	Signals    Signals
}

// Signals counts what the browser tracker saw in a session: clicks,
// frustration signals (its $click, $rage_click, $dead_click, $u_turn and
// $error events) and the deepest scroll of any page, in percent.
type Signals struct {
	Clicks     int `json:"clicks"`
	RageClicks int `json:"rage_clicks"`
	DeadClicks int `json:"dead_clicks"`
	UTurns     int `json:"u_turns"`
	Errors     int `json:"errors"`
	MaxScroll  int `json:"max_scroll"`
}

// Frustration is the sum of the frustration signals.
func (s Signals) Frustration() int { return s.RageClicks + s.DeadClicks + s.Errors + s.UTurns }

// Signal event names: the track events the browser tracker sends.
const (
	EventClick     = "$click"
	EventScroll    = "$scroll"
	EventRageClick = "$rage_click"
	EventDeadClick = "$dead_click"
	EventUTurn     = "$u_turn"
	EventError     = "$error"
)

// Count adds one track event to the counts: a signal event counts, a
// $scroll raises MaxScroll to its depth (properties is the event's JSON
// object, read only for $scroll), any other event changes nothing.
func (s *Signals) Count(name, properties string) {
	switch name {
	case EventClick:
		s.Clicks++
	case EventRageClick:
		s.RageClicks++
	case EventDeadClick:
		s.DeadClicks++
	case EventUTurn:
		s.UTurns++
	case EventError:
		s.Errors++
	case EventScroll:
		if d := scrollDepth(properties); d > s.MaxScroll {
			s.MaxScroll = d
		}
	}
}

// scrollDepth reads a $scroll event's depth property, clamped to 0-100;
// 0 when it is missing or not a number.
func scrollDepth(properties string) int {
	var p struct {
		Depth float64 `json:"depth"`
	}
	if json.Unmarshal([]byte(properties), &p) != nil || math.IsNaN(p.Depth) {
		return 0
	}
	return int(math.Round(min(max(p.Depth, 0), 100)))
}

// CatalogKey describes one attribute key of a site.
type CatalogKey struct {
	Entity     Entity
	Key        string
	Type       attr.Type
	Users      int64 // users (or companies) that have it now
	FirstSeen  time.Time
	Samples    []string
	Rejections int64
}

// Rejection is one attribute value refused because it did not fit its key's
// type.
type Rejection struct {
	Entity    Entity
	Key       string
	Expected  attr.Type
	Received  string
	Value     string
	EntityID  string
	MessageID string
	At        time.Time
}

// UserQuery selects users for a search: by ID prefix, or by an attribute's
// value (compared as text).
type UserQuery struct {
	IDPrefix string
	AttrKey  string
	AttrText string
	Limit    int
	After    int64 // cursor: the last user key of the previous page
}

// UserSummary is one row of a user search.
type UserSummary struct {
	Key    int64
	UserID string
}

// EventQuery pages through a user's events, newest first. Events are
// ordered by (timestamp, message ID), so a page ends exactly where the next
// one starts even when many events share a timestamp.
type EventQuery struct {
	Limit    int
	Before   time.Time // zero: from the newest
	BeforeID string    // with Before: the last message ID of the previous page
}

// Reader answers questions about stored data. Every answer includes all data
// acknowledged before the call.
type Reader interface {
	UserKey(ctx context.Context, siteID int64, id Identity) (int64, error)
	User(ctx context.Context, siteID int64, id Identity) (User, error)
	History(ctx context.Context, siteID int64, id Identity, key string) ([]Change, error)
	AttributesAsOf(ctx context.Context, siteID int64, id Identity, at time.Time) ([]AttrState, error)
	UserEvents(ctx context.Context, siteID int64, id Identity, q EventQuery) ([]Event, error)
	UserSessions(ctx context.Context, siteID int64, id Identity, limit int) ([]Session, error)
	AttributeCatalog(ctx context.Context, siteID int64) ([]CatalogKey, error)
	Rejections(ctx context.Context, siteID int64, key string, limit int) ([]Rejection, error)
	SearchUsers(ctx context.Context, siteID int64, q UserQuery) ([]UserSummary, error)
}

// TypeChanger changes an attribute key's type on an administrator's request,
// converting the stored current values. When some value cannot be converted
// it changes nothing and returns an error wrapping ErrConflict.
type TypeChanger interface {
	ChangeType(ctx context.Context, siteID int64, entity Entity, key string, to attr.Type) (converted int, err error)
}

// InstallStatus is what a site received lately, for the dashboard's check
// that the snippet or a server library is sending.
type InstallStatus struct {
	LastEventAt time.Time // when the last message arrived; zero when none did
	LastPageURL string    // the page of the last message that named one
	LastSource  Source    // how the last message arrived
	Events24h   int64     // messages that arrived in the 24 hours before now
}

// RecentActivity answers the installation check and the users list's
// "last seen".
type RecentActivity interface {
	InstallStatus(ctx context.Context, siteID int64, now time.Time) (InstallStatus, error)
	// LastSeen returns the time of each user's latest event, by user key;
	// users without events are left out.
	LastSeen(ctx context.Context, siteID int64, keys []int64) (map[int64]time.Time, error)
}
