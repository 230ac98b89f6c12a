package notify

import (
	"encoding/json"
	"net/url"
	"time"
)

// Event is the body of every webhook, versioned by its type: new fields may
// be added to data, none is removed or changes meaning within a type.
type Event struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
}

// EventData is what an event is about; the parts that do not apply are
// left out.
type EventData struct {
	// Summary says what happened in one sentence.
	Summary   string         `json:"summary"`
	Site      SiteRef        `json:"site"`
	Rule      *Ref           `json:"rule,omitempty"`
	Segment   *Ref           `json:"segment,omitempty"`
	User      *UserRef       `json:"user,omitempty"`
	Recording *RecordingRef  `json:"recording,omitempty"`
	Survey    *Ref           `json:"survey,omitempty"`
	Response  *ResponseRef   `json:"response,omitempty"`
	Feedback  *FeedbackRef   `json:"feedback,omitempty"`
	Digest    *DigestContent `json:"digest,omitempty"`
}

// SiteRef names the site.
type SiteRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Ref names a rule, segment or survey.
type Ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// UserRef is who: the user ID (empty for an anonymous visitor), the
// site's key attributes and the profile's address in the dashboard.
type UserRef struct {
	ID          string         `json:"id,omitempty"`
	AnonymousID string         `json:"anonymous_id,omitempty"`
	Attributes  map[string]any `json:"attributes"`
	URL         string         `json:"url,omitempty"`
}

// RecordingRef is a recording and where to watch it.
type RecordingRef struct {
	ID        string    `json:"id"`
	StartedAt time.Time `json:"started_at"`
	FirstPage string    `json:"first_page,omitempty"`
	URL       string    `json:"url"`
}

// ResponseRef is a survey response.
type ResponseRef struct {
	ID      string          `json:"id"`
	NPS     *int            `json:"nps,omitempty"`
	Answers json.RawMessage `json:"answers"`
	Page    string          `json:"page,omitempty"`
	URL     string          `json:"url"`
}

// FeedbackRef is a piece of feedback.
type FeedbackRef struct {
	ID      string `json:"id"`
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
	Page    string `json:"page"`
	URL     string `json:"url"`
}

// DigestContent lists the alerts a rule held back in an hour.
type DigestContent struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Count int       `json:"count"`
	// Items are the held alerts' summaries, the first maxDigestItems.
	Items []string `json:"items"`
}

const maxDigestItems = 50

// links makes dashboard addresses.
type links struct {
	base string // the dashboard's public address, without a trailing slash
	site string // the site's public ID
}

func (l links) path(p string) string {
	return l.base + "/s/" + url.PathEscape(l.site) + p
}

func (l links) recording(id string) string { return l.path("/recordings/" + url.PathEscape(id)) }

func (l links) profile(userID, anonymousID string) string {
	if userID != "" {
		return l.path("/users/" + url.PathEscape(userID))
	}
	if anonymousID != "" {
		return l.path("/users/" + url.PathEscape(anonymousID) + "?kind=anonymous")
	}
	return ""
}

func (l links) surveyResults(id string) string {
	return l.path("/surveys/" + url.PathEscape(id) + "/results")
}
func (l links) feedback() string { return l.path("/feedback") }
