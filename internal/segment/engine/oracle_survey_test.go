package engine_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// This file extends the oracle to survey answers and feedback: the data
// generator answers surveys and rates pages during some sessions, the
// world loads the rows back, the brute-force evaluator decides nps_score,
// nps_group, answer and feedback_rating, and the tree generator draws such
// conditions from what the data holds.

// The generated surveys' questions: two scores, a single and a multiple
// choice, and a text.
var (
	surveyIDs   = []string{"srv_a", "srv_b"}
	choiceWhy   = []string{"Speed", "Price", "Bugs", "price"}
	choiceWhere = []string{"Export", "Import", "Reports"}
	loveTexts   = []string{"fast export", "Export is great", "the reports", "Price"}
)

// dataset is a generated site: messages in batches, then users loaded in
// bulk (oracle_bulk_test.go), then survey responses and feedback.
type dataset struct {
	site      int64
	batches   [][]store.Message
	bulk      []bulkUser
	responses []genResponse
	feedback  []store.FeedbackItem
}

type genResponse struct {
	r       store.SurveyResponse
	answers []store.AnswerValue
}

// write stores the dataset and returns the number of refused values.
func (d dataset) write(ctx context.Context, db *duckstore.DB) (int, error) {
	refused := 0
	for _, batch := range d.batches {
		out, err := db.Write(ctx, batch)
		if err != nil {
			return 0, fmt.Errorf("write: %w", err)
		}
		for _, o := range out {
			refused += len(o.Warnings)
		}
	}
	if err := writeBulk(ctx, db, d.site, d.bulk); err != nil {
		return 0, err
	}
	for _, r := range d.responses {
		if err := db.SaveResponse(ctx, r.r, r.answers); err != nil {
			return 0, fmt.Errorf("save a response: %w", err)
		}
	}
	for _, f := range d.feedback {
		if err := db.AddFeedback(ctx, f); err != nil {
			return 0, fmt.Errorf("add feedback: %w", err)
		}
	}
	return refused, nil
}

// surveyTime returns a moment near t not yet used by another response or
// feedback of the site, so that "the latest answer" is never a tie.
func (g *dataGen) surveyTime(t time.Time) time.Time {
	t = t.Add(time.Duration(1+g.r.IntN(120)) * time.Second)
	for g.surveyTimes[t] {
		t = t.Add(time.Second)
	}
	g.surveyTimes[t] = true
	return t
}

// visitAnswers may answer a survey and may leave feedback during a visit
// that started at start.
func (g *dataGen) visitAnswers(ident identFunc, start time.Time, device int) {
	if g.chance(0.3) {
		at := g.surveyTime(start)
		userID, anonID := ident(at, device)
		g.response(userID, anonID, at)
	}
	if g.chance(0.2) {
		at := g.surveyTime(start)
		userID, anonID := ident(at, device)
		g.nextMsg++
		g.feedback = append(g.feedback, store.FeedbackItem{ID: fmt.Sprintf("f%d", g.nextMsg), SiteID: g.site,
			AnonymousID: anonID, UserID: userID, URL: "https://app.example.com" + pick(g.r, paths...),
			Rating: 1 + g.r.IntN(5), CreatedAt: at})
	}
}

// response answers a random subset of a survey's questions at at.
func (g *dataGen) response(userID, anonID string, at time.Time) {
	g.nextMsg++
	r := store.SurveyResponse{SiteID: g.site, SurveyID: pick(g.r, surveyIDs...), ResponseID: fmt.Sprintf("r%d", g.nextMsg),
		AnonymousID: anonID, UserID: userID, URL: "https://app.example.com/app", Completed: g.chance(0.7),
		CreatedAt: at, UpdatedAt: at, CompletedAt: at}
	answers := map[string]any{}
	var rows []store.AnswerValue
	number := func(q string, x int) {
		f := float64(x)
		answers[q] = x
		rows = append(rows, store.AnswerValue{QuestionID: q, Num: &f})
	}
	text := func(q, s string) {
		rows = append(rows, store.AnswerValue{QuestionID: q, Text: &s})
	}
	if g.chance(0.8) {
		score := g.r.IntN(11)
		r.NPS = &score
		number("score", score)
	}
	if g.chance(0.4) {
		number("ease", 1+g.r.IntN(5))
	}
	if g.chance(0.5) {
		why := pick(g.r, choiceWhy...)
		answers["why"] = why
		text("why", why)
	}
	if g.chance(0.4) {
		var chosen []string
		for _, o := range choiceWhere {
			if g.chance(0.5) {
				chosen = append(chosen, o)
				text("where", o)
			}
		}
		answers["where"] = chosen
	}
	if g.chance(0.3) {
		love := pick(g.r, loveTexts...)
		answers["love"] = love
		text("love", love)
	}
	data, err := json.Marshal(answers)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	r.Answers = data
	g.responses = append(g.responses, genResponse{r: r, answers: rows})
}

// oResponse is one survey response as the oracle sees it.
type oResponse struct {
	survey string
	at     time.Time
	nps    *int
}

// oAnswer is one answer row.
type oAnswer struct {
	survey, question string
	num              *float64
	text             *string
	at               time.Time
}

type oFeedback struct {
	rating int
	at     time.Time
}

// loadSurveys reads the site's responses, answers and feedback and gives
// each to its user: by user ID when it carries one, else anonymous ID.
func (w *world) loadSurveys(ctx context.Context, db *sql.DB, site int64) error {
	owner := map[string]*oUser{}
	for _, u := range w.users {
		for _, id := range u.ids {
			owner[id] = u
		}
	}
	whose := func(userID, anonID string) *oUser {
		if userID != "" {
			return owner["user:"+userID]
		}
		return owner["anonymous:"+anonID]
	}
	rows, err := db.QueryContext(ctx, `SELECT survey_id, user_id, anonymous_id, nps, updated_at FROM survey_responses
		WHERE site_id = ?`, site)
	if err != nil {
		return fmt.Errorf("load responses: %w", err)
	}
	err = scanAll(rows, func() error {
		var r oResponse
		var userID, anonID string
		var nps sql.NullInt64
		if err := rows.Scan(&r.survey, &userID, &anonID, &nps, &r.at); err != nil {
			return err
		}
		if nps.Valid {
			n := int(nps.Int64)
			r.nps = &n
		}
		r.at = r.at.UTC()
		if u := whose(userID, anonID); u != nil {
			u.responses = append(u.responses, r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load responses: %w", err)
	}
	rows, err = db.QueryContext(ctx, `SELECT a.survey_id, a.question_id, a.num, a.text, a.answered_at, r.user_id, r.anonymous_id
		FROM survey_answers a JOIN survey_responses r USING (site_id, survey_id, response_id) WHERE a.site_id = ?`, site)
	if err != nil {
		return fmt.Errorf("load answers: %w", err)
	}
	err = scanAll(rows, func() error {
		var a oAnswer
		var userID, anonID string
		if err := rows.Scan(&a.survey, &a.question, &a.num, &a.text, &a.at, &userID, &anonID); err != nil {
			return err
		}
		a.at = a.at.UTC()
		if u := whose(userID, anonID); u != nil {
			u.answers = append(u.answers, a)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load answers: %w", err)
	}
	rows, err = db.QueryContext(ctx, "SELECT user_id, anonymous_id, rating, created_at FROM feedback WHERE site_id = ?", site)
	if err != nil {
		return fmt.Errorf("load feedback: %w", err)
	}
	err = scanAll(rows, func() error {
		var f oFeedback
		var userID, anonID string
		if err := rows.Scan(&userID, &anonID, &f.rating, &f.at); err != nil {
			return err
		}
		f.at = f.at.UTC()
		if u := whose(userID, anonID); u != nil {
			u.feedback = append(u.feedback, f)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load feedback: %w", err)
	}
	return nil
}

// cutSurveys keeps what u had answered and rated by at.
func cutSurveys(u, cu *oUser, at time.Time) {
	for _, r := range u.responses {
		if !r.at.After(at) {
			cu.responses = append(cu.responses, r)
		}
	}
	for _, a := range u.answers {
		if !a.at.After(at) {
			cu.answers = append(cu.answers, a)
		}
	}
	for _, f := range u.feedback {
		if !f.at.After(at) {
			cu.feedback = append(cu.feedback, f)
		}
	}
}

// numberTest applies a positive operator to a number.
func numberTest(op segment.Op, x float64, vals []segment.Value) bool {
	switch op {
	case segment.OpBetween:
		return x >= vals[0].Num && x <= vals[1].Num
	case segment.OpIn:
		for _, v := range vals {
			if x == v.Num {
				return true
			}
		}
		return false
	}
	return compare(x, op, vals[0].Num)
}

func npsGroupOf(score int) string {
	switch {
	case score >= 9:
		return "promoter"
	case score >= 7:
		return "passive"
	}
	return "detractor"
}

// nps decides nps_score and nps_group by the user's latest NPS answer.
func (w *world) nps(n *segment.NPS, u *oUser) bool {
	var latest *oResponse
	for i, r := range u.responses {
		if r.nps == nil || (n.Survey != "" && r.survey != n.Survey) || !inPeriod(r.at, n.Period, w.now) {
			continue
		}
		if latest == nil || r.at.After(latest.at) {
			latest = &u.responses[i]
		}
	}
	if latest == nil {
		return false
	}
	neg, op := positive(n.Op)
	if n.Group {
		return stringTest(op, npsGroupOf(*latest.nps), n.Values) != neg
	}
	return numberTest(op, float64(*latest.nps), n.Values) != neg
}

// answer decides an answer condition by the rows of the user's latest
// answer to the question.
func (w *world) answer(n *segment.Answer, u *oUser) bool {
	var latest time.Time
	var rows []oAnswer
	for _, a := range u.answers {
		if a.survey != n.Survey || a.question != n.Question || !inPeriod(a.at, n.Period, w.now) {
			continue
		}
		switch {
		case rows == nil || a.at.After(latest):
			latest, rows = a.at, []oAnswer{a}
		case a.at.Equal(latest):
			rows = append(rows, a)
		}
	}
	if rows == nil {
		return false
	}
	neg, op := positive(n.Op)
	found := false
	for _, a := range rows {
		if n.Values[0].Kind == segment.ValNumber {
			found = found || a.num != nil && numberTest(op, *a.num, n.Values)
		} else {
			found = found || a.text != nil && stringTest(op, *a.text, n.Values)
		}
	}
	return found != neg
}

// feedbackRating decides feedback_rating by the average in the period.
func (w *world) feedbackRating(n *segment.FeedbackRating, u *oUser) bool {
	sum, count := 0, 0
	for _, f := range u.feedback {
		if inPeriod(f.at, n.Period, w.now) {
			sum += f.rating
			count++
		}
	}
	if count == 0 {
		return false
	}
	neg, op := positive(n.Op)
	return numberTest(op, float64(sum)/float64(count), n.Values) != neg
}

// addSurveys adds the moments of responses and feedback.
func (v *vocabulary) addSurveys(u *oUser) {
	for _, r := range u.responses {
		v.moments["survey"] = append(v.moments["survey"], r.at)
	}
	for _, f := range u.feedback {
		v.moments["feedback"] = append(v.moments["feedback"], f.at)
	}
}

// surveyCondition returns an nps_score, nps_group, answer or
// feedback_rating condition.
func (g *treeGen) surveyCondition() segment.Node {
	scoreOps := []segment.Op{segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe,
		segment.OpBetween, segment.OpIn, segment.OpNotIn}
	scores := func(op segment.Op, lo, hi int) []segment.Value {
		one := func() segment.Value { return num(float64(lo + g.r.IntN(hi-lo+1))) }
		switch op {
		case segment.OpBetween:
			a, b := one(), one()
			if a.Num > b.Num {
				a, b = b, a
			}
			return []segment.Value{a, b}
		case segment.OpIn, segment.OpNotIn:
			vals := []segment.Value{one()}
			for range g.r.IntN(3) {
				vals = append(vals, one())
			}
			return vals
		}
		return []segment.Value{one()}
	}
	switch g.r.IntN(4) {
	case 0:
		n := &segment.NPS{Group: g.chance(0.5), Period: g.period(true, "survey")}
		if g.chance(0.5) {
			n.Survey = pick(g.r, surveyIDs...)
		}
		if !n.Group {
			n.Op = pick(g.r, scoreOps...)
			n.Values = scores(n.Op, 0, 10)
			return n
		}
		n.Op = pick(g.r, segment.OpEq, segment.OpNe, segment.OpIn, segment.OpNotIn)
		n.Values = []segment.Value{str(pick(g.r, segment.NPSGroups()...))}
		if n.Op == segment.OpIn || n.Op == segment.OpNotIn {
			n.Values = append(n.Values, str(pick(g.r, segment.NPSGroups()...)))
		}
		return n
	case 1:
		f := &segment.FeedbackRating{Op: pick(g.r, scoreOps[:7]...), Period: g.period(true, "feedback")}
		f.Values = scores(f.Op, 1, 5)
		if g.chance(0.3) && f.Op != segment.OpBetween {
			f.Values[0].Num = pick(g.r, 1.5, 2.5, 3.5, 4.5, 2.75)
		}
		return f
	}
	a := &segment.Answer{Survey: pick(g.r, append(surveyIDs, "srv_none")...), Period: g.period(true, "survey")}
	a.Question = pick(g.r, "score", "ease", "why", "where", "love", "nope")
	if (a.Question == "score" || a.Question == "ease") != g.chance(0.1) {
		a.Op = pick(g.r, scoreOps...)
		a.Values = scores(a.Op, 0, 10)
		return a
	}
	texts := append(append(append([]string{}, choiceWhy...), choiceWhere...), loveTexts...)
	a.Op = pick(g.r, segment.OpEq, segment.OpNe, segment.OpIn, segment.OpNotIn, segment.OpContains, segment.OpStarts)
	lit := func() segment.Value { return str(pick(g.r, texts...)) }
	switch a.Op {
	case segment.OpIn, segment.OpNotIn:
		a.Values = []segment.Value{lit(), lit()}
	case segment.OpContains, segment.OpStarts:
		a.Values = []segment.Value{str(g.fragment(a.Op, lit().Str))}
		if a.Values[0].Str == "" {
			a.Values[0].Str = "e"
		}
	default:
		a.Values = []segment.Value{lit()}
	}
	return a
}
