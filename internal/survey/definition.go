// Package survey is Sightline's surveys: their definitions (questions,
// branching, appearance, targeting) and how they are checked, which
// visitor is offered which survey on which page, the validation of
// answers, and the results (distributions, NPS, trends).
//
// A definition is plain data, checked by Validate before it is stored; the
// Service keeps the live surveys of each site in memory so that the
// tracker's question "what should this visitor see here?" is answered
// without touching the database when nothing applies.
package survey

import (
	"encoding/json"
	"time"
)

// Status is where a survey is in its life.
type Status string

// Statuses. A survey starts as a draft; only live surveys are offered.
const (
	StatusDraft  Status = "draft"
	StatusLive   Status = "live"
	StatusPaused Status = "paused"
	StatusEnded  Status = "ended"
)

// transitions lists the statuses each status may move to. Ended is final:
// a new survey is made instead, so that results never mix two runs.
var transitions = map[Status][]Status{
	StatusDraft:  {StatusLive, StatusEnded},
	StatusLive:   {StatusPaused, StatusEnded},
	StatusPaused: {StatusLive, StatusEnded},
	StatusEnded:  nil,
}

// CanMove reports whether a survey of status from may move to status to.
func CanMove(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// QuestionType is the kind of a question.
type QuestionType string

// Question types.
const (
	NPS            QuestionType = "nps"             // 0–10
	Rating         QuestionType = "rating"          // 1–5
	SingleChoice   QuestionType = "single_choice"   // one of Options
	MultipleChoice QuestionType = "multiple_choice" // one or more of Options
	Text           QuestionType = "text"            // free text
)

// Scale returns the lowest and highest score of a scored question type.
func (t QuestionType) Scale() (lo, hi int, ok bool) {
	switch t {
	case NPS:
		return 0, 10, true
	case Rating:
		return 1, 5, true
	}
	return 0, 0, false
}

// End is the goto target that ends the survey (the thank-you step follows).
const End = "end"

// Definition is what a survey asks, how it looks and whom it targets. The
// status is kept beside it, not in it.
type Definition struct {
	Name       string     `json:"name"`
	Questions  []Question `json:"questions"`
	ThankYou   ThankYou   `json:"thank_you"`
	Appearance Appearance `json:"appearance"`
	Targeting  Targeting  `json:"targeting"`
}

// Question is one step of a survey.
type Question struct {
	ID       string       `json:"id"`
	Type     QuestionType `json:"type"`
	Prompt   string       `json:"prompt"`
	Options  []string     `json:"options,omitempty"`
	Required bool         `json:"required"`
	// LowLabel and HighLabel name the ends of a scored question's scale
	// ("Not likely", "Very likely").
	LowLabel  string `json:"low_label,omitempty"`
	HighLabel string `json:"high_label,omitempty"`
	// Branching is checked in order once the question is answered; the
	// first rule that matches decides the next question. Without a match
	// the next question in order follows.
	Branching []Rule `json:"branching,omitempty"`
}

// Rule sends the respondent to another question, or to the end, when an
// answer matches.
type Rule struct {
	If   Condition `json:"if"`
	Goto string    `json:"goto"`
}

// Condition tests the answer to a question (this one or an earlier one).
type Condition struct {
	Question string          `json:"question"`
	Op       string          `json:"op"` // eq, in, lte, gte
	Value    json.RawMessage `json:"value"`

	// Filled by Validate from Value: the scores or options compared with.
	nums []int
	strs []string
}

// ThankYou is the step shown after the last question.
type ThankYou struct {
	Title   string `json:"title"`
	Message string `json:"message"`
}

// Appearance is how the widget looks.
type Appearance struct {
	Position   string `json:"position"` // bottom-right, bottom-left, center
	Background string `json:"background"`
	Text       string `json:"text"`
	Accent     string `json:"accent"`
}

// Targeting says who is offered the survey, where, when and how often.
type Targeting struct {
	// Segment, when set, limits the survey to the members of a segment: a
	// saved one (ID) or one written here (Definition, JSON, or Text).
	Segment *SegmentRef `json:"segment,omitempty"`
	// URLs limit the survey to pages matching any rule; none means every
	// page.
	URLs []URLRule `json:"urls,omitempty"`
	// Devices limit the survey to device types (desktop, mobile, tablet);
	// none means every device.
	Devices []string `json:"devices,omitempty"`
	Trigger Trigger  `json:"trigger"`
	// Frequency says when a visitor who answered or dismissed may see the
	// survey again.
	Frequency Frequency `json:"frequency"`
	// SamplePercent offers the survey to this share of eligible visitors,
	// the same ones every time (0 < p ≤ 100; 100 when left out).
	SamplePercent float64 `json:"sample_percent"`
	// Quota stops offering the survey once it has this many completed
	// responses; 0 means no quota.
	Quota int `json:"quota"`
}

// SegmentRef names a saved segment or defines one inline. Exactly one of
// the fields is set.
type SegmentRef struct {
	ID         string          `json:"id,omitempty"`
	Definition json.RawMessage `json:"definition,omitempty"`
	Text       string          `json:"text,omitempty"`
}

// URL match kinds.
const (
	MatchExact      = "exact"
	MatchContains   = "contains"
	MatchStartsWith = "starts_with"
	MatchRegex      = "regex"
)

// URLRule matches page URLs.
type URLRule struct {
	Match string `json:"match"` // exact, contains, starts_with, regex
	Value string `json:"value"`
}

// Trigger types.
const (
	TriggerLoad       = "load"
	TriggerDelay      = "delay"
	TriggerEvent      = "event"
	TriggerExitIntent = "exit_intent"
	TriggerScroll     = "scroll"
)

// Trigger says when, on an eligible page, the widget appears.
type Trigger struct {
	Type    string `json:"type"`
	Seconds int    `json:"seconds,omitempty"` // delay
	Event   string `json:"event,omitempty"`   // event: the custom event's name
	Percent int    `json:"percent,omitempty"` // scroll: the depth reached
}

// Frequency limits how often one user sees a survey.
type Frequency struct {
	// Once: a user who completed the survey is not offered it again. When
	// false, RepeatDays after a completion it is offered again.
	Once       bool `json:"once"`
	RepeatDays int  `json:"repeat_days,omitempty"`
	// DismissDays: after a dismissal the survey is not offered for this
	// many days; 0 means never again.
	DismissDays int `json:"dismiss_days"`
}

// Survey is a stored survey: its definition and where it stands.
type Survey struct {
	ID         string
	SiteID     int64
	Status     Status
	Definition Definition
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Default appearance, trigger and thank-you step for what a definition
// leaves out.
const (
	defaultPosition   = "bottom-right"
	defaultBackground = "#ffffff"
	defaultText       = "#111827"
	defaultAccent     = "#4f46e5"
)
