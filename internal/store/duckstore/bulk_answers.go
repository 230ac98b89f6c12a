package duckstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// answerRow is one row of survey_answers on its way to a bulk writer.
type answerRow struct {
	site             int64
	survey, response string
	v                store.AnswerValue
	at               time.Time
}

// responseRow is a survey response as appended to survey_responses; the
// column order follows the schema.
func responseRow(r *store.SurveyResponse) []driver.Value {
	var nps, completedAt driver.Value
	if r.NPS != nil {
		nps = int16(*r.NPS)
	}
	if r.Completed {
		completedAt = r.CompletedAt.UTC()
	}
	return []driver.Value{r.SiteID, r.SurveyID, r.ResponseID, r.AnonymousID, r.UserID, r.SessionID, r.URL,
		string(r.Answers), nps, r.Completed, r.CreatedAt.UTC(), r.UpdatedAt.UTC(), completedAt}
}

// SurveyResponse appends a survey response with its answer rows, as
// SaveResponse stores them, for a survey that exists. The caller has
// validated the answers against the survey (survey.Definition.CheckAnswers)
// and guarantees that the response ID is new for the survey.
func (b *Bulk) SurveyResponse(r *store.SurveyResponse, answers []store.AnswerValue) {
	if b.Err() != nil {
		return
	}
	b.buf.responses = append(b.buf.responses, *r)
	for _, a := range answers {
		b.buf.answers = append(b.buf.answers, answerRow{site: r.SiteID, survey: r.SurveyID, response: r.ResponseID,
			v: a, at: r.UpdatedAt.UTC()})
		b.added()
	}
	b.stats.Responses++
	b.added()
}

// Feedback appends a piece of feedback; its ID must be new.
func (b *Bulk) Feedback(f *store.FeedbackItem) {
	if b.Err() != nil {
		return
	}
	b.buf.feedback = append(b.buf.feedback, *f)
	b.stats.Feedback++
	b.added()
}

// LateEvent appends an event to a session appended earlier (in this load
// or a previous one), as Event does, and counts it in the session (its events, and its
// pages for a page or screen view) when the load closes, as the writer
// would have. It is for what is decided once the sessions are written,
// such as a survey answered during one. A tracker signal ($click,
// $rage_click…) cannot come late: the session's signal counts would miss
// it.
func (b *Bulk) LateEvent(user, session int64, m *store.Message) {
	if b.Err() != nil {
		return
	}
	if m.Kind == store.KindTrack && strings.HasPrefix(m.Name, "$") {
		var sig store.Signals
		if sig.Count(m.Name, m.Properties); sig != (store.Signals{}) {
			b.fail(fmt.Errorf("bulk: %s is a tracker signal, which a late event cannot be", m.Name))
			return
		}
	}
	b.Event(user, session, m)
	if session == 0 {
		return
	}
	n := b.late[session]
	if n == nil {
		n = new([2]int32)
		b.late[session] = n
	}
	n[0]++
	if m.Kind == store.KindPage || m.Kind == store.KindScreen {
		n[1]++
	}
}

// countLateEvents adds the late events to their sessions' counts.
func (b *Bulk) countLateEvents(ctx context.Context) error {
	if len(b.late) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(b.late))
	events := make([]int32, 0, len(b.late))
	pages := make([]int32, 0, len(b.late))
	for id, n := range b.late {
		ids = append(ids, id)
		events = append(events, n[0])
		pages = append(pages, n[1])
	}
	_, err := b.db.wconn.ExecContext(ctx, `UPDATE sessions SET event_count = event_count + x.e, page_count = page_count + x.p
		FROM (SELECT unnest(?::BIGINT[]) AS id, unnest(?::INTEGER[]) AS e, unnest(?::INTEGER[]) AS p) x
		WHERE sessions.session_id = x.id`, ids, events, pages)
	if err != nil {
		return fmt.Errorf("count late events in their sessions: %w", err)
	}
	return nil
}
