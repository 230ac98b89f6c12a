// Package segment is Sightline's segment language: a condition tree over
// users, written as JSON (the API's form) or as short text
// (`plan = "pro" and active_days(7d) >= 4`), validated against a site's
// attribute catalog and compiled to parameterised SQL that yields the set of
// matching user keys.
//
// The pipeline is parse (JSON or text) → a typed tree with source positions
// → validate → compile. Printing a tree gives text that parses back to the
// same tree.
package segment

import "time"

// Pos is a position in the text form, 1-based. JSON-built nodes have the
// zero Pos; their errors name the JSON path instead.
type Pos struct {
	Line, Col int
}

// Node is a condition: a group, a negation or a leaf condition.
type Node interface {
	Position() Pos
	node()
}

// Position returns where the node starts.
func (p Pos) Position() Pos { return p }

// Op is a comparison operator. The text form and JSON use the same
// spelling.
type Op string

// Operators. Not every operator fits every condition: validation checks.
const (
	OpEq        Op = "="
	OpNe        Op = "!="
	OpLt        Op = "<"
	OpLe        Op = "<="
	OpGt        Op = ">"
	OpGe        Op = ">="
	OpBetween   Op = "between"
	OpIn        Op = "in"
	OpNotIn     Op = "not in"
	OpContains  Op = "contains"
	OpStarts    Op = "starts_with"
	OpEnds      Op = "ends_with"
	OpMatches   Op = "matches"
	OpSet       Op = "is set"
	OpNotSet    Op = "is not set"
	OpWithin    Op = "within"     // a datetime within the last N
	OpOlderThan Op = "older_than" // a datetime more than N ago
)

// ValueKind is the kind of a literal.
type ValueKind uint8

// Literal kinds.
const (
	ValString ValueKind = 1 + iota
	ValNumber
	ValBool
	ValDate     // 2024-05-01 or a full date-time, unquoted in text
	ValDuration // 30d, 3h, 15m, 2w
)

// Value is a literal in a condition.
type Value struct {
	Pos
	Kind ValueKind
	Str  string
	Num  float64
	Bool bool
	Time time.Time
	Dur  time.Duration
}

// Period restricts behaviour to a time range: the last Last, or [From, To).
// The zero Period means all time.
type Period struct {
	Last     time.Duration
	From, To time.Time
}

// IsZero reports whether p means all time.
func (p Period) IsZero() bool { return p.Last == 0 && p.From.IsZero() && p.To.IsZero() }

// Count compares a number of things (events, days, sessions) with N. The
// zero Count means "at least once".
type Count struct {
	Op Op // =, !=, <, <=, >, >=
	N  float64
}

// GroupOp says how a group combines its children.
type GroupOp string

// Group operators.
const (
	All GroupOp = "all"
	Any GroupOp = "any"
)

// Group matches users matching all (or any) of its conditions.
type Group struct {
	Pos
	Op         GroupOp
	Conditions []Node
}

// Not matches users not matching its condition.
type Not struct {
	Pos
	Condition Node
}

// Scope says whose attribute a condition reads.
type Scope uint8

// Attribute scopes.
const (
	ScopeUser    Scope = iota // the user's own attribute
	ScopeCompany              // an attribute of a company (Segment group) the user belongs to
)

// Attribute compares a user (or company) attribute. Values holds one value,
// two for between, several for in and not in, none for is set / is not set.
// With AsOf set it reads the value the attribute had at that moment.
type Attribute struct {
	Pos
	Scope  Scope
	Key    string
	Op     Op
	Values []Value
	AsOf   time.Time
}

// Changed matches users whose attribute changed (from From, to To, either
// optional) within Period.
type Changed struct {
	Pos
	Key      string
	From, To *Value
	Period   Period
}

// Event matches users who performed a named event (track) a number of times
// within Period, optionally only counting events whose properties match
// Where. With First, the user's first such event ever must fall in Period.
type Event struct {
	Pos
	Name   string
	Where  []Property
	Count  Count
	Period Period
	First  bool
}

// Property filters events by one property.
type Property struct {
	Pos
	Key    string
	Op     Op
	Values []Value
}

// ActiveDays matches users active (any page, screen or track) on a number
// of distinct days within Period.
type ActiveDays struct {
	Pos
	Count  Count
	Period Period
}

// Visited matches users who viewed pages whose path matches Pattern (with
// Match being =, contains, starts_with or matches) a number of times.
type Visited struct {
	Pos
	Match   Op
	Pattern string
	Count   Count
	Period  Period
}

// Sessions matches users by their number of sessions within Period.
type Sessions struct {
	Pos
	Count  Count
	Period Period
}

// Aggregate says how session durations are combined.
type Aggregate string

// Aggregates.
const (
	AggAny Aggregate = "any" // some session satisfies the comparison
	AggAvg Aggregate = "avg" // the average session does
)

// SessionDuration compares session lengths within Period.
type SessionDuration struct {
	Pos
	Agg    Aggregate
	Op     Op
	Value  time.Duration
	Period Period
}

// SessionField matches users with a session within Period whose
// technographic or acquisition field matches: device, browser, os, country,
// language, timezone, channel, referrer, utm_source, utm_medium,
// utm_campaign, entry_page, exit_page.
type SessionField struct {
	Pos
	Field  string
	Op     Op
	Values []Value
	Period Period
}

// SignalKind is one of the browser tracker's frustration signals, by the
// name of its condition.
type SignalKind string

// Signals.
const (
	SignalRageClicks SignalKind = "rage_clicks"
	SignalDeadClicks SignalKind = "dead_clicks"
	SignalUTurns     SignalKind = "u_turns"
	SignalErrors     SignalKind = "errors"
)

// SignalKinds lists the signals, in the order the documentation gives them.
func SignalKinds() []SignalKind {
	return []SignalKind{SignalRageClicks, SignalDeadClicks, SignalUTurns, SignalErrors}
}

// EventName returns the track event the tracker sends for the signal, such
// as "$rage_click", or "" for an unknown kind.
func (k SignalKind) EventName() string {
	switch k {
	case SignalRageClicks:
		return "$rage_click"
	case SignalDeadClicks:
		return "$dead_click"
	case SignalUTurns:
		return "$u_turn"
	case SignalErrors:
		return "$error"
	}
	return ""
}

// Signal matches users by how many times the tracker saw a frustration
// signal within Period. With Match set (=, contains, starts_with or
// matches, as in Visited) only signals on pages whose path matches Page
// count; the zero Match counts every page.
type Signal struct {
	Pos
	Kind   SignalKind
	Match  Op
	Page   string
	Count  Count
	Period Period
}

// NPS matches users by their latest answer to an NPS question within
// Period (of one survey when Survey is set, else of any): the score (0–10)
// compared with Values (nps_score), or its group — "promoter" (9–10),
// "passive" (7–8), "detractor" (0–6) — compared with Values (nps_group).
// Users who gave no NPS answer never match.
type NPS struct {
	Pos
	Group  bool
	Survey string
	Op     Op
	Values []Value
	Period Period
}

// NPSGroups lists the groups nps_group compares with.
func NPSGroups() []string { return []string{"promoter", "passive", "detractor"} }

// Answer matches users by their latest answer to one question of one
// survey within Period: the answer rows of the user's most recent response
// that answered it (one row per chosen option for multiple choice). A
// positive operator matches when any row compares true — a number for
// scores, a string for options and text — and a negative one (!=, not in)
// when the user answered and no row does. Users who never answered the
// question never match.
type Answer struct {
	Pos
	Survey   string
	Question string
	Op       Op
	Values   []Value
	Period   Period
}

// FeedbackRating matches users by the average of the ratings (1–5) they
// gave in the feedback tab within Period, compared with Values. Users who
// gave no feedback in the period never match, not even with !=.
type FeedbackRating struct {
	Pos
	Op     Op
	Values []Value
	Period Period
}

// Identified matches the users the site has identified: those with a user
// ID (sent by identify, or by a server-side call with a userId), as
// opposed to visitors known only by an anonymous ID. An anonymous
// visitor who identifies later is identified from then on, with the
// history of the visits before (identities join), so a segment's past
// sizes count a user by whether they are identified now.
type Identified struct {
	Pos
}

// InSegment matches the members of another saved segment.
type InSegment struct {
	Pos
	ID string
}

func (*Group) node()           {}
func (*Not) node()             {}
func (*Attribute) node()       {}
func (*Changed) node()         {}
func (*Event) node()           {}
func (*ActiveDays) node()      {}
func (*Visited) node()         {}
func (*Sessions) node()        {}
func (*SessionDuration) node() {}
func (*SessionField) node()    {}
func (*Signal) node()          {}
func (*NPS) node()             {}
func (*Answer) node()          {}
func (*FeedbackRating) node()  {}
func (*Identified) node()      {}
func (*InSegment) node()       {}

// SessionFields lists the fields a SessionField may name.
func SessionFields() []string {
	return []string{"device", "browser", "os", "country", "language", "timezone", "channel", "referrer",
		"utm_source", "utm_medium", "utm_campaign", "entry_page", "exit_page"}
}
