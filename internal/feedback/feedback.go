// Package feedback is the always-available feedback tab: each site's
// settings for it, the feedback visitors send (a 1–5 rating, an optional
// comment, the page and optionally the element), and the list and summary
// the dashboard shows.
package feedback

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
)

// Limits of what a visitor sends.
const (
	MaxComment   = 2000 // characters
	MaxSelector  = 1000 // bytes
	MaxPromptLen = 200  // characters
)

// Settings are a site's feedback tab settings.
type Settings struct {
	Enabled    bool   `json:"enabled"`
	Position   string `json:"position"` // right, left, bottom-right, bottom-left
	Background string `json:"background"`
	Text       string `json:"text"`
	Accent     string `json:"accent"`
	Prompt     string `json:"prompt"`
}

// DefaultSettings are a site's settings until an admin changes them: the
// tab is off.
func DefaultSettings() Settings {
	return Settings{Position: "right", Background: "#ffffff", Text: "#111827", Accent: "#4f46e5",
		Prompt: "How would you rate this page?"}
}

// ParseSettings decodes settings over the defaults and validates them.
func ParseSettings(data []byte) (Settings, error) {
	s := DefaultSettings()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Settings{}, apierr.Invalid("invalid_json", "", "the settings are not valid: %v", err)
	}
	var errs survey.Errors
	add := func(field, code, msg string) {
		errs = append(errs, survey.FieldError{Field: field, Code: code, Message: msg})
	}
	switch s.Position {
	case "right", "left", "bottom-right", "bottom-left":
	default:
		add("position", "invalid_value", "position must be right, left, bottom-right or bottom-left")
	}
	for _, c := range []struct{ field, v string }{{"background", s.Background}, {"text", s.Text}, {"accent", s.Accent}} {
		if !survey.ValidColour(c.v) {
			add(c.field, "invalid_colour", fmt.Sprintf("%q is not a colour; write #rgb or #rrggbb", c.v))
		}
	}
	if strings.TrimSpace(s.Prompt) == "" || utf8.RuneCountInString(s.Prompt) > MaxPromptLen || !utf8.ValidString(s.Prompt) {
		add("prompt", "invalid_value", fmt.Sprintf("prompt is 1 to %d characters", MaxPromptLen))
	}
	if len(errs) > 0 {
		return Settings{}, errs
	}
	return s, nil
}

// Input is feedback as the tracker sends it.
type Input struct {
	AnonymousID string          `json:"anonymousId"`
	UserID      string          `json:"userId"`
	SessionID   string          `json:"sessionId"`
	URL         string          `json:"url"`
	Rating      json.RawMessage `json:"rating"`
	Comment     string          `json:"comment"`
	Selector    string          `json:"selector"`
}

// LiveSurveys tells whether a site has a live survey; *survey.Service is
// one.
type LiveSurveys interface {
	HasLive(ctx context.Context, site int64) (bool, error)
}

// Service keeps feedback and its settings.
type Service struct {
	store   store.Feedback
	surveys LiveSurveys
	log     *slog.Logger
	now     func() time.Time
}

// New returns a Service; now is the clock (time.Now when nil).
func New(st store.Feedback, surveys LiveSurveys, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, surveys: surveys, log: log, now: now}
}

// Settings returns a site's settings.
func (s *Service) Settings(ctx context.Context, site int64) (Settings, error) {
	b, err := s.store.FeedbackSettings(ctx, site)
	if err != nil || b == nil {
		return DefaultSettings(), err
	}
	return ParseSettings(b)
}

// SaveSettings validates and stores a site's settings.
func (s *Service) SaveSettings(ctx context.Context, site int64, body []byte) (Settings, error) {
	set, err := ParseSettings(body)
	if err != nil {
		return Settings{}, err
	}
	b, err := json.Marshal(set)
	if err != nil {
		return Settings{}, err
	}
	return set, s.store.SaveFeedbackSettings(ctx, site, b)
}

// Add validates feedback and stores it.
func (s *Service) Add(ctx context.Context, site int64, in Input) (store.FeedbackItem, error) {
	if err := survey.CheckVisitor(in.AnonymousID, in.UserID, in.SessionID, in.URL); err != nil {
		return store.FeedbackItem{}, err
	}
	var errs survey.Errors
	var rating float64
	if err := json.Unmarshal(in.Rating, &rating); err != nil || rating != float64(int(rating)) || rating < 1 || rating > 5 {
		errs = append(errs, survey.FieldError{Field: "rating", Code: "invalid_rating", Message: "rating is a whole number from 1 to 5"})
	}
	if n := utf8.RuneCountInString(in.Comment); n > MaxComment || !utf8.ValidString(in.Comment) {
		errs = append(errs, survey.FieldError{Field: "comment", Code: "too_long",
			Message: fmt.Sprintf("the comment is %d characters; the limit is %d", n, MaxComment)})
	}
	if len(in.Selector) > MaxSelector || !utf8.ValidString(in.Selector) {
		errs = append(errs, survey.FieldError{Field: "selector", Code: "too_long",
			Message: fmt.Sprintf("the selector is at most %d bytes", MaxSelector)})
	}
	if in.URL == "" {
		errs = append(errs, survey.FieldError{Field: "url", Code: "missing_field", Message: "url (the page) is required"})
	}
	if len(errs) > 0 {
		return store.FeedbackItem{}, errs
	}
	set, err := s.Settings(ctx, site)
	if err != nil {
		return store.FeedbackItem{}, err
	}
	if !set.Enabled {
		return store.FeedbackItem{}, &apierr.Error{Status: http.StatusConflict, Code: "feedback_disabled",
			Message: "the feedback tab is off for this site"}
	}
	f := store.FeedbackItem{ID: auth.NewID("fb_"), SiteID: site, AnonymousID: in.AnonymousID, UserID: in.UserID,
		SessionID: in.SessionID, URL: in.URL, Rating: int(rating), Comment: in.Comment, Selector: in.Selector,
		CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	return f, s.store.AddFeedback(ctx, f)
}
