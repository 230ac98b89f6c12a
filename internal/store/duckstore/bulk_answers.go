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
// or a previous one), as Event does, and counts it in the session (its
// events, its pages for a page or screen view, its clicks for a $click
// and its deepest scroll for a $scroll) when the load closes, as the
// writer would have. It is for what is decided once the sessions are
// written, such as a survey answered during one. The frustration signals
// ($rage_click, $dead_click, $u_turn, $error) cannot come late: segments
// count them from the sessions, which would miss them.
func (b *Bulk) LateEvent(user, session int64, m *store.Message) {
	if b.Err() != nil {
		return
	}
	var sig store.Signals
	if m.Kind == store.KindTrack && strings.HasPrefix(m.Name, "$") {
		sig.Count(m.Name, m.Properties)
		if rest := (store.Signals{RageClicks: sig.RageClicks, DeadClicks: sig.DeadClicks, UTurns: sig.UTurns, Errors: sig.Errors}); rest != (store.Signals{}) {
			b.fail(fmt.Errorf("bulk: %s is a frustration signal, which a late event cannot be", m.Name))
			return
		}
	}
	b.Event(user, session, m)
	if session == 0 {
		return
	}
	n := b.late[session]
	if n == nil {
		n = new(lateCounts)
		b.late[session] = n
	}
	n.events++
	if m.Kind == store.KindPage || m.Kind == store.KindScreen {
		n.pages++
	}
	n.clicks += int32(sig.Clicks)
	n.scroll = max(n.scroll, int32(sig.MaxScroll))
}

// lateCounts is what late events add to a session.
type lateCounts struct {
	events, pages, clicks, scroll int32
}

// countLateEvents adds the late events to their sessions' counts.
func (b *Bulk) countLateEvents(ctx context.Context) error {
	if len(b.late) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(b.late))
	events := make([]int32, 0, len(b.late))
	pages := make([]int32, 0, len(b.late))
	clicks := make([]int32, 0, len(b.late))
	scrolls := make([]int32, 0, len(b.late))
	for id, n := range b.late {
		ids = append(ids, id)
		events = append(events, n.events)
		pages = append(pages, n.pages)
		clicks = append(clicks, n.clicks)
		scrolls = append(scrolls, n.scroll)
	}
	_, err := b.db.wconn.ExecContext(ctx, `UPDATE sessions SET event_count = event_count + x.e, page_count = page_count + x.p,
			clicks = coalesce(clicks, 0) + x.c, max_scroll = greatest(coalesce(max_scroll, 0), x.s)
		FROM (SELECT unnest(?::BIGINT[]) AS id, unnest(?::INTEGER[]) AS e, unnest(?::INTEGER[]) AS p,
			unnest(?::INTEGER[]) AS c, unnest(?::INTEGER[]) AS s) x
		WHERE sessions.session_id = x.id`, ids, events, pages, clicks, scrolls)
	if err != nil {
		return fmt.Errorf("count late events in their sessions: %w", err)
	}
	return nil
}
