package notify

import (
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// Destination kinds.
const (
	KindWebhook = "webhook" // signed per Standard Webhooks 1.0
	KindSlack   = "slack"   // a Slack incoming-webhook URL
)

// Triggers, which are also the types of the events they send.
const (
	TriggerRecording  = "recording.new"   // a new recording (of a segment's user) has its first chunk
	TriggerSegment    = "segment.entered" // a user enters a segment
	TriggerResponse   = "survey.response" // a completed survey response matches a condition
	TriggerFeedback   = "feedback.new"    // feedback with a rating at or below a maximum
	TypeDigest        = "alert.digest"    // the alerts over a rule's hourly limit
	TypeTest          = "alert.test"      // a test send
	defaultLimit      = 20                // a rule's messages an hour before the rest wait for the digest
	maxLimit          = 10_000            // the largest hourly limit
	maxName           = 200               // the longest name
	maxConfigItems    = 100               // the most destinations, and rules, a site has
	rotationOverlap   = 24 * time.Hour    // how long the old secret still signs after a rotation
	maxURL            = 2000              // the longest destination URL
	slackHost         = "hooks.slack.com" // where Slack incoming webhooks live
	slackPathPrefix   = "/services/"      // and their path
	maskedSlackSuffix = "/services/…"     // what is shown of a Slack URL
)

// triggerCause is the cause kind each trigger reads.
var triggerCause = map[string]string{
	TriggerRecording: store.CauseRecording,
	TriggerSegment:   store.CauseChange,
	TriggerResponse:  store.CauseResponse,
	TriggerFeedback:  store.CauseFeedback,
}

// Config is a site's alert configuration as stored: one document.
type Config struct {
	Destinations []Destination `json:"destinations"`
	Rules        []Rule        `json:"rules"`
}

// Destination is where alerts go. Its URL (for Slack) and secrets are
// sealed; the API never shows them after creation.
type Destination struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Kind      string         `json:"kind"`
	URL       string         `json:"url"` // plain for a webhook; sealed for Slack (the URL is the secret)
	Secrets   []SealedSecret `json:"secrets,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
}

// SealedSecret is a signing secret, sealed. Until is zero for the current
// secret, and the end of the overlap for one replaced by a rotation.
type SealedSecret struct {
	Sealed string    `json:"sealed"`
	Until  time.Time `json:"until,omitzero"`
}

// Rule sends an alert to a destination when its trigger fires.
type Rule struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Trigger       string `json:"trigger"`
	SegmentID     string `json:"segment_id,omitempty"` // recording.new, segment.entered, feedback.new: whose; survey.response too
	DestinationID string `json:"destination_id"`
	// HourlyLimit is how many messages the rule sends in a clock hour;
	// the rest are listed in one digest after the hour.
	HourlyLimit int  `json:"hourly_limit"`
	Enabled     bool `json:"enabled"`
	// Survey is survey.response's condition.
	Survey *SurveyCondition `json:"survey,omitempty"`
	// MaxRating is feedback.new's condition: a rating at or below it.
	MaxRating int       `json:"max_rating,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// MembersOf is a hash of the segment definition a segment.entered
	// rule last took its members from (when saved enabled, and after the
	// segment was edited): an edit of the segment re-baselines the rule
	// without announcing anyone.
	MembersOf string `json:"members_of,omitempty"`
}

// SurveyCondition selects survey responses: of a survey (any when empty),
// in an NPS group, and with an answer; every part set must hold.
type SurveyCondition struct {
	SurveyID   string `json:"survey_id,omitempty"`
	NPS        string `json:"nps,omitempty"` // detractor (0–6), passive (7–8) or promoter (9–10)
	QuestionID string `json:"question_id,omitempty"`
	Answer     string `json:"answer,omitempty"` // the answer's text or number as text; with QuestionID
}

func (c *Config) destination(id string) *Destination {
	for i := range c.Destinations {
		if c.Destinations[i].ID == id {
			return &c.Destinations[i]
		}
	}
	return nil
}

func (c *Config) rule(id string) *Rule {
	for i := range c.Rules {
		if c.Rules[i].ID == id {
			return &c.Rules[i]
		}
	}
	return nil
}

// watch returns the cause kinds the enabled rules read.
func (c *Config) watch() []string {
	var out []string
	for _, r := range c.Rules {
		if k := triggerCause[r.Trigger]; r.Enabled && k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// validateRule checks a rule against the configuration; segments and
// surveys are checked by the service, which can read them.
func (c *Config) validateRule(r *Rule) error {
	r.Name = strings.TrimSpace(r.Name)
	switch {
	case r.Name == "" || len(r.Name) > maxName:
		return apierr.Invalid("invalid_name", "name", "a rule needs a name of 1 to %d characters", maxName)
	case triggerCause[r.Trigger] == "":
		return apierr.Invalid("invalid_trigger", "trigger",
			"trigger must be one of recording.new, segment.entered, survey.response, feedback.new")
	case c.destination(r.DestinationID) == nil:
		return apierr.Invalid("unknown_destination", "destination_id", "no destination %q on this site", r.DestinationID)
	case r.Trigger == TriggerSegment && r.SegmentID == "":
		return apierr.Invalid("missing_segment", "segment_id", "segment.entered needs a saved segment")
	case r.HourlyLimit < 0 || r.HourlyLimit > maxLimit:
		return apierr.Invalid("invalid_limit", "hourly_limit", "hourly_limit must be between 1 and %d (0: the default, %d)",
			maxLimit, defaultLimit)
	}
	if r.HourlyLimit == 0 {
		r.HourlyLimit = defaultLimit
	}
	switch r.Trigger {
	case TriggerFeedback:
		if r.MaxRating < 1 || r.MaxRating > 5 {
			return apierr.Invalid("invalid_max_rating", "max_rating", "feedback.new needs max_rating between 1 and 5")
		}
	default:
		r.MaxRating = 0
	}
	if r.Trigger != TriggerResponse {
		r.Survey = nil
	} else if s := r.Survey; s != nil {
		if s.NPS != "" && s.NPS != "detractor" && s.NPS != "passive" && s.NPS != "promoter" {
			return apierr.Invalid("invalid_nps", "survey.nps", "nps must be detractor, passive or promoter")
		}
		if (s.QuestionID == "") != (s.Answer == "") {
			return apierr.Invalid("invalid_answer", "survey.answer", "question_id and answer go together")
		}
	}
	return nil
}
