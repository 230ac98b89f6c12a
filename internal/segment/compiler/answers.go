package compiler

import "github.com/sightline/sightline/internal/segment"

// answer selects users by their latest answer to one question: the answer
// rows (one per chosen option) of the user's most recent response that
// answered it in the period. A positive operator needs one row to match;
// a negative one needs the user to have answered and no row to match the
// positive operator. Numbers compare with the score column, strings with
// the text column.
func (b *builder) answer(n *segment.Answer) error {
	return b.leaf(func() error { return b.answerRows(n) })
}

func (b *builder) answerRows(n *segment.Answer) error {
	b.w("SELECT x.u FROM (SELECT i.entity_key AS u, a.num, a.text, a.answered_at,",
		" max(a.answered_at) OVER (PARTITION BY i.entity_key) AS latest",
		" FROM survey_answers a JOIN survey_responses r ON r.site_id = a.site_id AND r.survey_id = a.survey_id",
		" AND r.response_id = a.response_id", respondent, " WHERE a.site_id = ")
	b.arg(b.c.Site)
	b.w(" AND a.survey_id = ")
	b.arg(n.Survey)
	b.w(" AND a.question_id = ")
	b.arg(n.Question)
	b.forUser("i.entity_key")
	b.period("a.answered_at", n.Period)
	b.until("a.answered_at")
	b.w(") x WHERE x.answered_at = x.latest GROUP BY x.u HAVING ")
	op, negate := positive(n.Op)
	if negate {
		b.w("NOT ")
	}
	expr := "x.text"
	if len(n.Values) > 0 && n.Values[0].Kind == segment.ValNumber {
		expr = "x.num"
	}
	b.w("coalesce(bool_or(")
	if err := b.predicate(expr, op, n.Values); err != nil {
		return err
	}
	b.w("), false)")
	return nil
}

// feedbackRating selects users by the average rating of their feedback in
// the period; users without feedback there never match.
func (b *builder) feedbackRating(n *segment.FeedbackRating) error {
	return b.leaf(func() error { return b.feedbackRows(n) })
}

func (b *builder) feedbackRows(n *segment.FeedbackRating) error {
	b.w("SELECT i.entity_key AS u FROM feedback r", respondent, " WHERE r.site_id = ")
	b.arg(b.c.Site)
	b.forUser("i.entity_key")
	b.period("r.created_at", n.Period)
	b.until("r.created_at")
	b.w(" GROUP BY i.entity_key HAVING ")
	op, negate := positive(n.Op)
	if negate {
		b.w("NOT (")
	}
	if err := b.predicate("avg(r.rating)", op, n.Values); err != nil {
		return err
	}
	if negate {
		b.w(")")
	}
	return nil
}
