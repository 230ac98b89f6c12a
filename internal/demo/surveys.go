package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
)

// The SaaS demo's surveys: a live NPS survey with an open-text follow-up
// that depends on the score, and an onboarding check-in that ran during
// the window's first two months and has ended.

const npsSurvey = `{
  "name": "Ledgerly NPS",
  "questions": [
    {"id": "score", "type": "nps", "required": true,
     "prompt": "How likely are you to recommend Ledgerly to a friend or colleague?",
     "low_label": "Not at all likely", "high_label": "Extremely likely",
     "branching": [{"if": {"question": "score", "op": "gte", "value": 9}, "goto": "love"}]},
    {"id": "improve", "type": "text", "prompt": "What is the one thing we should fix or improve?",
     "branching": [{"if": {"question": "score", "op": "lte", "value": 8}, "goto": "end"}]},
    {"id": "love", "type": "text", "prompt": "What do you like most about Ledgerly?"}
  ],
  "thank_you": {"title": "Thank you!", "message": "Every answer is read by the product team."},
  "appearance": {"position": "bottom-right", "accent": "#4f46e5"},
  "targeting": {
    "urls": [{"match": "starts_with", "value": "https://app.ledgerly.io/"}],
    "trigger": {"type": "delay", "seconds": 20},
    "frequency": {"once": true, "dismiss_days": 30},
    "sample_percent": 40
  }
}`

const onboardingSurvey = `{
  "name": "Onboarding check-in",
  "questions": [
    {"id": "blocker", "type": "single_choice", "required": true,
     "prompt": "What almost stopped you from finishing your set-up?",
     "options": ["Connecting my bank", "Creating my first invoice", "Inviting my accountant",
                 "Finding the time", "Nothing, it was easy"]}
  ],
  "thank_you": {"title": "Thanks, that helps"},
  "targeting": {
    "urls": [{"match": "contains", "value": "/onboarding/"}],
    "trigger": {"type": "load"}
  }
}`

// Open-text answers, by what the respondent went through.
var (
	detractorTexts = map[string][]string{
		"rage": {"The Send button on new invoices hangs and I end up clicking it again and again",
			"Sending an invoice takes forever, the button does nothing for seconds"},
		"errors": {"The banking page fails to load half the time", "Bank sync keeps timing out"},
		"onboarding": {"I never managed to connect my bank during set-up",
			"Set-up was confusing, I still have not finished it"},
		"churned": {"Too expensive for a business my size", "We moved to a tool our accountant already uses"},
		"other": {"Reports are slow to load", "Exports miss the fields my accountant needs",
			"Support took days to answer"},
	}
	passiveTexts = []string{"Recurring invoices, please", "More report templates", "A better mobile app",
		"Multi-currency invoices", "Let me customise the invoice layout", ""}
	promoterTexts = []string{"Invoicing takes me minutes now", "Bank reconciliation is so quick",
		"My accountant loves the reports", "Clean and simple", "Tax season was painless for once", ""}
)

// surveyStats counts what the surveys got.
type surveyStats struct {
	Surveys, Responses, Completed int
}

// fillSurveys creates the SaaS demo's surveys and answers them on behalf
// of a share of the users, in one of their sessions: users who did not
// finish onboarding, who rage-clicked or hit errors, or whose plan churned
// lean towards detractors; the most active lean towards promoters.
func (f *filler) fillSurveys(ctx context.Context) (surveyStats, error) {
	var st surveyStats
	nps, err := f.svc.Surveys.Import(ctx, f.site, []byte(npsSurvey), f.start, survey.StatusLive)
	if err != nil {
		return st, fmt.Errorf("create the NPS survey: %w", err)
	}
	f.npsSurvey = nps.ID
	onb, err := f.svc.Surveys.Import(ctx, f.site, []byte(onboardingSurvey), f.start, survey.StatusEnded)
	if err != nil {
		return st, fmt.Errorf("create the onboarding survey: %w", err)
	}
	st.Surveys = 2
	r := f.r
	onboardingEnds := f.start.Add(60 * 24 * time.Hour).UnixMilli()
	for _, sf := range f.pickSessions(func(p *visitor, s *sessionFact) float64 {
		if p.userID == "" || p.sessions < 2 || s.end-s.start < 60_000 {
			return 0
		}
		return 0.25 / float64(p.sessions) // about a quarter of returning users, once each
	}) {
		p := f.obs.people[sf.user]
		score := npsScore(r, p, len(p.activeDays))
		answers := map[string]any{"score": score}
		completed := r.Float64() < 0.85
		if completed {
			key := "improve"
			if score >= 9 {
				key = "love"
			}
			if text := npsText(r, p, score); text != "" {
				answers[key] = text
			}
		}
		if err := f.respond(nps, sf, answers, completed, &st); err != nil {
			return st, err
		}
	}
	for _, sf := range f.pickSessions(func(p *visitor, s *sessionFact) float64 {
		if p.userID == "" || s.start > onboardingEnds || s.end-s.start < 60_000 || s.lastURL == "" {
			return 0
		}
		return 0.12 / float64(p.sessions)
	}) {
		p := f.obs.people[sf.user]
		choice := onboardingChoice(r, p)
		if err := f.respond(onb, sf, map[string]any{"blocker": choice}, true, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// npsScore draws a user's score from what they went through.
func npsScore(r *rand.Rand, p *visitor, activeDays int) int {
	x := 7.6 + 1.4*r.NormFloat64()
	x += math.Min(float64(activeDays), 30) / 15 // power users
	if !p.onboarded {
		x -= 1.6
	}
	x -= 0.7 * math.Min(float64(p.rageClicks), 3)
	x -= 0.5 * math.Min(float64(p.errors), 2)
	switch p.plan {
	case "churned", "":
		x -= 2.5
	case "enterprise":
		x += 0.5
	case "trial":
		x -= 0.4
	}
	switch p.persona {
	case "accountant":
		x += 0.4
	case "cfo":
		x -= 0.3
	}
	return int(math.Round(min(max(x, 0), 10)))
}

// npsText picks the follow-up a respondent writes, which names what they
// went through; about a third write nothing.
func npsText(r *rand.Rand, p *visitor, score int) string {
	if r.Float64() < 0.3 {
		return ""
	}
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	switch {
	case score >= 9:
		return pick(promoterTexts)
	case score >= 7:
		return pick(passiveTexts)
	case p.rageClicks > 0:
		return pick(detractorTexts["rage"])
	case p.errors > 0:
		return pick(detractorTexts["errors"])
	case !p.onboarded:
		return pick(detractorTexts["onboarding"])
	case p.plan == "churned" || p.plan == "":
		return pick(detractorTexts["churned"])
	}
	return pick(detractorTexts["other"])
}

// onboardingChoice is what a user says almost stopped their set-up: those
// who never finished mostly name the bank or the first invoice.
func onboardingChoice(r *rand.Rand, p *visitor) string {
	x := r.Float64()
	if p.onboarded {
		switch {
		case x < 0.55:
			return "Nothing, it was easy"
		case x < 0.75:
			return "Finding the time"
		case x < 0.9:
			return "Inviting my accountant"
		}
		return "Connecting my bank"
	}
	switch {
	case x < 0.45:
		return "Connecting my bank"
	case x < 0.75:
		return "Creating my first invoice"
	case x < 0.9:
		return "Finding the time"
	}
	return "Inviting my accountant"
}

// respond stores one response, checked against its survey as a live
// answer is, during session sf, with its $survey_response event.
func (f *filler) respond(sv survey.Survey, sf *sessionFact, answers map[string]any, completed bool, st *surveyStats) error {
	p := f.obs.people[sf.user]
	raw := map[string]json.RawMessage{}
	for k, v := range answers {
		b, _ := json.Marshal(v)
		raw[k] = b
	}
	ans, err := sv.Definition.CheckAnswers(raw, completed)
	if err != nil {
		return fmt.Errorf("demo answers to %s: %w", sv.Definition.Name, err)
	}
	body, err := survey.ResponseJSON(ans)
	if err != nil {
		return err
	}
	created := f.within(sf, 0.5)
	updated := created.Add(time.Duration(5+f.r.IntN(40)) * time.Second)
	if updated.UnixMilli() > sf.end {
		updated = time.UnixMilli(sf.end).UTC()
	}
	resp := store.SurveyResponse{SiteID: f.site, SurveyID: sv.ID, ResponseID: fmt.Sprintf("demo-r%06d", f.nextSeq()),
		AnonymousID: p.anonID, UserID: p.userID, SessionID: browserSession(sf.id), URL: sf.lastURL,
		Answers: body, Completed: completed, CreatedAt: created, UpdatedAt: updated}
	if n, ok := sv.Definition.NPSScore(ans); ok {
		resp.NPS = &n
	}
	if completed {
		resp.CompletedAt = updated
		st.Completed++
	}
	f.bulk.SurveyResponse(&resp, survey.AnswerRows(ans))
	id, props := survey.ResponseEvent(sv, resp, ans)
	f.lateEvent(sf, "$survey_response", id, updated, props)
	st.Responses++
	return nil
}
