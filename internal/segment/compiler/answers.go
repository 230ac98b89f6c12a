package compiler

import "github.com/sightline/sightline/internal/segment"

// answer selects users by their latest answer to one question: the answer
// rows (one per chosen option) of the user's most recent response that
// answered it in the period. A positive operator needs one row to match;
// a negative one needs the user to have answered and no row to match the
// positive operator. Numbers compare with the score column, strings with
// the text column.
func (b *builder) answer(n *segment.Answer) error {
	op, negate := positive(n.Op)
	numeric := len(n.Values) > 0 && n.Values[0].Kind == segment.ValNumber
	return b.leaf(func() error {
		return b.c.Dialect.LatestAnswers(b, n.Survey, n.Question, b.c.Site, b.forUser(), func() error {
			b.period("a.answered_at", n.Period)
			b.until("a.answered_at")
			return nil
		}, negate, func(num, text string) error {
			if numeric {
				return b.predicate(num, op, n.Values)
			}
			return b.predicate(text, op, n.Values)
		})
	})
}

// feedbackRating selects users by the average rating of their feedback in
// the period; users without feedback there never match.
func (b *builder) feedbackRating(n *segment.FeedbackRating) error {
	return b.leaf(func() error {
		b.w("SELECT i.entity_key AS u ")
		b.c.Dialect.Responses(b, "feedback", b.c.Site, b.forUser())
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
	})
}
