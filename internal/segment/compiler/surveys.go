package compiler

import "github.com/sightline/sightline/internal/segment"

// respondent is the join from a survey response (alias r) to its user:
// by its user ID when it has one, else its anonymous ID. Identities
// follow merges, so responses need no update when users merge.
const respondent = " JOIN identities i ON i.site_id = r.site_id" +
	" AND i.kind = CASE WHEN r.user_id <> '' THEN 1 ELSE 2 END" +
	" AND i.external_id = CASE WHEN r.user_id <> '' THEN r.user_id ELSE r.anonymous_id END"

// npsGroup maps a score to its NPS group.
const npsGroup = "CASE WHEN s.score >= 9 THEN 'promoter' WHEN s.score >= 7 THEN 'passive' ELSE 'detractor' END"

// nps selects users by their latest NPS answer (the most recently updated
// response with one) in the period, optionally of one survey.
func (b *builder) nps(n *segment.NPS) error {
	return b.leaf(func() error {
		b.w("SELECT s.u FROM (SELECT i.entity_key AS u, arg_max(r.nps, r.updated_at) AS score FROM survey_responses r", respondent,
			" WHERE r.site_id = ")
		b.arg(b.c.Site)
		b.forUser("i.entity_key")
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
