package survey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Import stores a survey made elsewhere (the demo's), checked as Create
// checks it but created at a given time, and moves it through the allowed
// transitions to status (draft → live → paused or ended), so that its
// history reads as if it had run since then.
func (s *Service) Import(ctx context.Context, site int64, body []byte, created time.Time, status Status) (Survey, error) {
	if !status.Valid() {
		return Survey{}, fmt.Errorf("import survey: unknown status %q", status)
	}
	d, canonical, err := s.check(ctx, site, body)
	if err != nil {
		return Survey{}, err
	}
	r, err := s.store.CreateSurvey(ctx, store.SurveyRecord{SiteID: site, Name: d.Name, Status: string(StatusDraft),
		Definition: canonical, CreatedAt: created.UTC().Truncate(time.Microsecond)})
	if err != nil {
		return Survey{}, err
	}
	sv, err := decode(r)
	if err != nil {
		return Survey{}, err
	}
	if status == StatusDraft {
		return sv, nil
	}
	if status != StatusLive {
		if sv, err = s.SetStatus(ctx, site, sv.ID, StatusLive); err != nil {
			return Survey{}, err
		}
	}
	return s.SetStatus(ctx, site, sv.ID, status)
}

// AnswerRows turns checked answers into the rows that segments query, as
// a stored response has them.
func AnswerRows(ans Answers) []store.AnswerValue { return answerValues(ans) }

// ResponseEvent is the $survey_response event a stored response adds to
// its user's events: its message ID, derived from what it says so that a
// retry stores it once, and its properties (survey_id, response_id,
// completed, answers, and nps_score and nps_group for an NPS answer).
func ResponseEvent(sv Survey, r store.SurveyResponse, ans Answers) (messageID string, props map[string]any) {
	props = map[string]any{"survey_id": r.SurveyID, "response_id": r.ResponseID, "completed": r.Completed,
		"answers": ans}
	if n, ok := sv.Definition.NPSScore(ans); ok {
		props["nps_score"] = n
		props["nps_group"] = Group(n)
	}
	sum := sha256.Sum256(append(append([]byte(nil), r.Answers...), strconv.FormatBool(r.Completed)...))
	return "svr-" + r.SurveyID + "-" + r.ResponseID + "-" + hex.EncodeToString(sum[:8]), props
}

// ResponseJSON is a response's answers as stored: a JSON object by
// question ID.
func ResponseJSON(ans Answers) ([]byte, error) { return json.Marshal(ans) }
