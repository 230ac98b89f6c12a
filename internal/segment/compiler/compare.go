package compiler

import (
	"strconv"
	"time"
)

// CompareDialect is what comparisons (package compare) need of a dialect
// besides those of insights. DuckDB and ClickHouse implement it.
type CompareDialect interface {
	InsightDialect
	// CurrentOf is CurrentFrom for the attributes of entity 0 (users)
	// or 1 (companies): rows one per entity (entity_key) and key set,
	// with columns entity_key, key, s, n, b and t.
	CurrentOf(w Writer, entity int, keys []string, site int64, user *int64)
	// LatestAnswerRows writes a derived table (u, survey_id,
	// question_id, num, text): for each user and each question of the
	// surveys listed that they answered in [from, to), the rows of their
	// latest answer to it then (one per chosen option), as an answer(…)
	// condition with that period reads them.
	LatestAnswerRows(w Writer, site int64, surveys []string, from, to time.Time)
	// BigInt returns an integer expression as a signed 64-bit integer
	// (the branches of a UNION ALL must agree on ClickHouse).
	BigInt(expr string) string
}

// BigInt implements CompareDialect.
func (DuckDB) BigInt(expr string) string { return "CAST(" + expr + " AS BIGINT)" }

// BigInt implements CompareDialect.
func (ClickHouse) BigInt(expr string) string { return "toInt64(" + expr + ")" }

var (
	_ CompareDialect = DuckDB{}
	_ CompareDialect = ClickHouse{}
)

// CurrentOf implements CompareDialect.
func (DuckDB) CurrentOf(w Writer, entity int, keys []string, site int64, user *int64) {
	w.Write("FROM attr_current WHERE site_id = ")
	w.Arg(site)
	duckUser(w, "entity_key", user)
	w.Write(" AND entity = ", strconv.Itoa(entity), " AND key IN (")
	writeArgs(w, keys)
	w.Write(")")
}

// LatestAnswerRows implements CompareDialect: a window finds each
// user's latest answer to each question.
func (DuckDB) LatestAnswerRows(w Writer, site int64, surveys []string, from, to time.Time) {
	w.Write("(SELECT x.u AS u, x.survey_id AS survey_id, x.question_id AS question_id, x.num AS num, x.text AS text",
		" FROM (SELECT i.entity_key AS u, a.survey_id, a.question_id, a.num, a.text, a.answered_at,",
		" max(a.answered_at) OVER (PARTITION BY i.entity_key, a.survey_id, a.question_id) AS latest",
		" FROM survey_answers a JOIN survey_responses r ON r.site_id = a.site_id AND r.survey_id = a.survey_id",
		" AND r.response_id = a.response_id", respondent, " WHERE a.site_id = ")
	w.Arg(site)
	w.Write(" AND a.survey_id IN (")
	writeArgs(w, surveys)
	w.Write(") AND a.answered_at >= ")
	w.Arg(from)
	w.Write(" AND a.answered_at < ")
	w.Arg(to)
	w.Write(") AS x WHERE x.answered_at = x.latest)")
}

// CurrentOf implements CompareDialect: as currentValues, for several
// keys at once.
func (ClickHouse) CurrentOf(w Writer, entity int, keys []string, site int64, user *int64) {
	w.Write("FROM (SELECT entity_key, key, tupleElement(last, 2) AS s, tupleElement(last, 3) AS n,",
		" tupleElement(last, 4) AS b, tupleElement(last, 5) AS t FROM (SELECT entity_key, key,",
		" argMax((is_null, s, n, b, t), (rank, changed_at)) AS last FROM ")
	mapped(w, "attr_current", false, "entity_key", []string{"key", "is_null", "s", "n", "b", "t", "changed_at"}, site, user,
		"if(o.into_key = 0, 18446744073709551615, o.merged_seq) AS rank")
	w.Write(" AND x.entity = ", strconv.Itoa(entity), " AND x.key IN (")
	writeArgs(w, keys)
	w.Write(")) GROUP BY entity_key, key) WHERE tupleElement(last, 1) = 0")
}

// LatestAnswerRows implements CompareDialect: each user's answers to a
// question in an array, the rows of the latest kept.
func (ClickHouse) LatestAnswerRows(w Writer, site int64, surveys []string, from, to time.Time) {
	w.Write("(SELECT u, survey_id, question_id, tupleElement(e, 2) AS num, tupleElement(e, 3) AS text",
		" FROM (SELECT i.entity_key AS u, r.survey_id AS survey_id, r.question_id AS question_id,",
		" max(r.answered_at) AS latest, groupArray((r.answered_at, r.num, r.text)) AS es",
		" FROM (SELECT a.survey_id AS survey_id, a.question_id AS question_id, a.num AS num, a.text AS text,",
		" a.answered_at AS answered_at, s.user_id AS user_id, s.anonymous_id AS anonymous_id",
		" FROM (SELECT * FROM survey_answers AS a WHERE a.site_id = ")
	w.Arg(site)
	w.Write(" AND a.survey_id IN (")
	writeArgs(w, surveys)
	w.Write(") AND a.answered_at >= ")
	w.Arg(from)
	w.Write(" AND a.answered_at < ")
	w.Arg(to)
	w.Write(") AS a ALL INNER JOIN (SELECT survey_id, response_id, user_id, anonymous_id FROM survey_responses FINAL",
		" WHERE site_id = ")
	w.Arg(site)
	w.Write(") AS s USING (survey_id, response_id)) AS r ALL INNER JOIN ")
	respondents(w, site)
	w.Write(chRespondent, " GROUP BY u, survey_id, question_id) ARRAY JOIN es AS e WHERE tupleElement(e, 1) = latest)")
}

// writeArgs writes the strings as a list of arguments.
func writeArgs(w Writer, vals []string) {
	for i, v := range vals {
		if i > 0 {
			w.Write(", ")
		}
		w.Arg(v)
	}
}
