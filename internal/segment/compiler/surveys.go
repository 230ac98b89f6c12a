package compiler

import "github.com/sightline/sightline/internal/segment"

// npsGroup maps a score to its NPS group.
const npsGroup = "CASE WHEN s.score >= 9 THEN 'promoter' WHEN s.score >= 7 THEN 'passive' ELSE 'detractor' END"

// nps selects users by their latest NPS answer (the most recently updated
// response with one) in the period, optionally of one survey.
func (b *builder) nps(n *segment.NPS) error {
	return b.leaf(func() error {
		b.w("SELECT s.u FROM (SELECT i.entity_key AS u, argMax(r.nps, r.updated_at) AS score ")
		b.c.Dialect.Responses(b, "survey_responses", b.c.Site, b.forUser())
		b.w(" AND r.nps IS NOT NULL")
		if n.Survey != "" {
			b.w(" AND r.survey_id = ")
			b.arg(n.Survey)
		}
		b.period("r.updated_at", n.Period)
		b.until("r.updated_at")
		b.w(" GROUP BY i.entity_key) s WHERE ")
		op, negate := positive(n.Op)
		if negate {
			b.w("NOT (")
		}
		expr := "s.score"
		if n.Group {
			expr = npsGroup
		}
		if err := b.predicate(expr, op, n.Values); err != nil {
			return err
		}
		if negate {
			b.w(")")
		}
		return nil
	})
}
