package survey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// Limits of what the tracker sends with an answer or a dismissal.
const (
	MaxIDLen  = 256  // anonymousId, userId, sessionId
	MaxURLLen = 2048 // the page URL
)

// ResponseInput is a response as the tracker sends it: all answers so far
// (or only the new ones: they are merged into what was sent before under
// the same response ID), and whether the respondent finished.
type ResponseInput struct {
	Survey      string                     `json:"survey"`
	Response    string                     `json:"response"`
	AnonymousID string                     `json:"anonymousId"`
	UserID      string                     `json:"userId"`
	SessionID   string                     `json:"sessionId"`
	URL         string                     `json:"url"`
	Answers     map[string]json.RawMessage `json:"answers"`
	Completed   bool                       `json:"completed"`
}

// DismissInput is a dismissal as the tracker sends it.
type DismissInput struct {
	Survey      string `json:"survey"`
	AnonymousID string `json:"anonymousId"`
	UserID      string `json:"userId"`
}

// Recorded is what Respond stored.
type Recorded struct {
	Survey   Survey
	Response store.SurveyResponse
	Answers  Answers
	// Changed is false for a repeated completion with the same answers,
	// which stores nothing.
	Changed bool
}

var responseIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// CheckVisitor validates the IDs and page a tracker request carries.
func CheckVisitor(anonymousID, userID, sessionID, url string) error {
	var c checker
	switch {
	case anonymousID == "":
		c.add("anonymousId", "missing_field", "anonymousId is required")
	case len(anonymousID) > MaxIDLen || !readable(anonymousID):
		c.add("anonymousId", "invalid_id", "anonymousId is at most %d bytes of text", MaxIDLen)
	}
	if len(userID) > MaxIDLen || !readable(userID) {
		c.add("userId", "invalid_id", "userId is at most %d bytes of text", MaxIDLen)
	}
	if len(sessionID) > MaxIDLen || !readable(sessionID) {
		c.add("sessionId", "invalid_id", "sessionId is at most %d bytes of text", MaxIDLen)
	}
	if len(url) > MaxURLLen || !readable(url) {
		c.add("url", "invalid_url", "url is at most %d bytes of text", MaxURLLen)
	}
	return c.err()
}

// liveSurveyFor reads a survey that takes answers: 404 when unknown, 409
// when not live.
func (s *Service) liveSurveyFor(ctx context.Context, site int64, id string) (Survey, error) {
	if id == "" {
		return Survey{}, apierr.Invalid("missing_field", "survey", "survey is required")
	}
	sv, err := s.Get(ctx, site, id)
	if err != nil {
		return Survey{}, err
	}
	if sv.Status != StatusLive {
		return Survey{}, ErrNotLive
	}
	return sv, nil
}

// Respond validates a response against its survey and stores it, merged
// with what the same response sent before, in one transaction. An invalid
// response changes nothing.
func (s *Service) Respond(ctx context.Context, site int64, in ResponseInput) (Recorded, error) {
	if err := CheckVisitor(in.AnonymousID, in.UserID, in.SessionID, in.URL); err != nil {
		return Recorded{}, err
	}
	if !responseIDPattern.MatchString(in.Response) {
		return Recorded{}, apierr.Invalid("invalid_id", "response", "response is the client's ID for this response: 8 to 64 letters, digits, _ or -")
	}
	sv, err := s.liveSurveyFor(ctx, site, in.Survey)
	if err != nil {
		return Recorded{}, err
	}
	now := s.Now()
	r := store.SurveyResponse{SiteID: site, SurveyID: sv.ID, ResponseID: in.Response, AnonymousID: in.AnonymousID,
		UserID: in.UserID, SessionID: in.SessionID, URL: in.URL, CreatedAt: now}
	raw := map[string]json.RawMessage{}
	old, err := s.store.Response(ctx, site, sv.ID, in.Response)
	switch {
	case err == nil:
		if old.AnonymousID != in.AnonymousID && (old.UserID == "" || old.UserID != in.UserID) {
			return Recorded{}, &apierr.Error{Status: http.StatusConflict, Code: "response_conflict", Field: "response",
				Message: "this response ID belongs to another visitor"}
		}
		if err := json.Unmarshal(old.Answers, &raw); err != nil {
			return Recorded{}, err
		}
		r.AnonymousID, r.CreatedAt = old.AnonymousID, old.CreatedAt
		if r.UserID == "" {
			r.UserID = old.UserID
		}
		if r.SessionID == "" {
			r.SessionID = old.SessionID
		}
	case !errors.Is(err, store.ErrNotFound):
		return Recorded{}, err
	}
	for id, v := range in.Answers {
		raw[id] = v
	}
	ans, err := sv.Definition.CheckAnswers(raw, in.Completed)
	if err != nil {
		return Recorded{}, err
	}
	if r.Answers, err = json.Marshal(ans); err != nil {
		return Recorded{}, err
	}
	if old.Completed {
		if in.Completed && bytes.Equal(old.Answers, r.Answers) {
			return Recorded{Survey: sv, Response: old, Answers: ans}, nil // a retry
		}
		return Recorded{}, &apierr.Error{Status: http.StatusConflict, Code: "response_completed", Field: "response",
			Message: "this response is completed and can no longer change"}
	}
	if n, ok := sv.Definition.NPSScore(ans); ok {
		r.NPS = &n
	}
	r.Completed, r.UpdatedAt = in.Completed, now
	if in.Completed {
		r.CompletedAt = now
	}
	if err := s.store.SaveResponse(ctx, r, answerValues(ans)); err != nil {
		return Recorded{}, err
	}
	s.record(site, sv.ID, r.UserID, r.AnonymousID, r.CompletedAt, time.Time{})
	return Recorded{Survey: sv, Response: r, Answers: ans, Changed: true}, nil
}

// answerValues turns answers into the rows segments query.
func answerValues(ans Answers) []store.AnswerValue {
	var out []store.AnswerValue
	for id, v := range ans {
		switch v := v.(type) {
		case int:
			f := float64(v)
			out = append(out, store.AnswerValue{QuestionID: id, Num: &f})
		case string:
			out = append(out, store.AnswerValue{QuestionID: id, Text: &v})
		case []string:
			for _, s := range v {
				out = append(out, store.AnswerValue{QuestionID: id, Text: &s})
			}
		}
	}
	return out
}

// Dismiss records that a visitor closed a survey without finishing it.
func (s *Service) Dismiss(ctx context.Context, site int64, in DismissInput) (Survey, error) {
	if err := CheckVisitor(in.AnonymousID, in.UserID, "", ""); err != nil {
		return Survey{}, err
	}
	sv, err := s.liveSurveyFor(ctx, site, in.Survey)
	if err != nil {
		return Survey{}, err
	}
	now := s.Now()
	if err := s.store.Dismiss(ctx, store.Dismissal{SiteID: site, SurveyID: sv.ID, AnonymousID: in.AnonymousID,
		UserID: in.UserID, At: now}); err != nil {
		return Survey{}, err
	}
	s.record(site, sv.ID, in.UserID, in.AnonymousID, time.Time{}, now)
	return sv, nil
}
