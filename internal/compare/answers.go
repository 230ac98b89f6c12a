package compare

import (
	"context"
	"slices"
	"strconv"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/stats"
	"github.com/sightline/sightline/internal/survey"
)

// Survey answers are compared by each user's latest answer to a
// question in the period, as answer(…) conditions read them: a scored
// question's score as a number (Mann–Whitney U), an option as the share
// of the group's users who answered the question and chose it (a
// multiple-choice answer has a row per option chosen). Free-text
// questions and NPS (a metric of its own) are not compared.

// SurveyQuestions returns the questions of surveys whose answers a
// comparison compares: ratings (as scores) and single and multiple
// choice (option by option). NPS is a metric of its own, and free text
// is not compared.
func SurveyQuestions(surveys []survey.Survey) []Question {
	var out []Question
	for _, s := range surveys {
		for _, q := range s.Definition.Questions {
			cq := Question{Survey: s.ID, SurveyName: s.Definition.Name, ID: q.ID, Prompt: q.Prompt}
			switch q.Type {
			case survey.Rating:
				lo, _, _ := q.Type.Scale()
				cq.Score, cq.Low = true, float64(lo)
			case survey.SingleChoice, survey.MultipleChoice:
			default:
				continue
			}
			out = append(out, cq)
		}
	}
	return out
}

// questionKey names a question of a survey.
type questionKey struct {
	Survey, Question string
}

// answerData is what the database returned of survey answers.
type answerData struct {
	questions   map[questionKey]Question
	respondents map[questionKey]*[2]int64 // users who answered
	options     map[questionKey]map[string]*[2]int64
	scores      map[questionKey]*[2][]stats.Freq
}

// surveyIDs returns the surveys of the questions, sorted.
func surveyIDs(qs []Question) []string {
	var out []string
	for _, q := range qs {
		if !slices.Contains(out, q.Survey) {
			out = append(out, q.Survey)
		}
	}
	slices.Sort(out)
	return out
}

// answers reads, for each question, how many of each group's users
// answered it, and how many chose each option or gave each score.
func (q *querier) answers(ctx context.Context, s sel, qs []Question, d *data) error {
	surveys := surveyIDs(qs)
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "x.u")
	w.Write(" AS g, x.survey_id, x.question_id, x.num, x.text, count(*) FROM ")
	q.c.dialect.LatestAnswerRows(w, q.site, surveys, q.from, q.to)
	w.Write(" AS x GROUP BY g, x.survey_id, x.question_id, x.num, x.text")
	var survey, question string
	var t text
	var g, n num
	var score maybeNum
	err := q.query(ctx, w, func() error {
		k := questionKey{survey, question}
		qu, ok := d.answers.questions[k]
		if !ok {
			return nil
		}
		i, ok := s.group(g.v)
		if !ok {
			return nil
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if qu.Score {
			if score.ok {
				f := d.answers.scores[k]
				if f == nil {
					f = &[2][]stats.Freq{}
					d.answers.scores[k] = f
				}
				f[i] = append(f[i], stats.Freq{Value: score.v, Count: int64(n.v)})
			}
			return nil
		}
		if t.ok {
			m := d.answers.options[k]
			if m == nil {
				m = map[string]*[2]int64{}
				d.answers.options[k] = m
			}
			c := m[t.s]
			if c == nil {
				c = &[2]int64{}
				m[t.s] = c
			}
			c[i] += int64(n.v)
		}
		return nil
	}, &g, &survey, &question, &score, &t, &n)
	if err != nil {
		return err
	}

	// The respondents of each question (a multiple-choice answer has
	// several rows).
	w = newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "x.u")
	w.Write(" AS g, x.survey_id, x.question_id, count(DISTINCT x.u) FROM ")
	q.c.dialect.LatestAnswerRows(w, q.site, surveys, q.from, q.to)
	w.Write(" AS x GROUP BY g, x.survey_id, x.question_id")
	return q.query(ctx, w, func() error {
		k := questionKey{survey, question}
		i, in := s.group(g.v)
		if _, ok := d.answers.questions[k]; !ok || !in {
			return nil
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		c := d.answers.respondents[k]
		if c == nil {
			c = &[2]int64{}
			d.answers.respondents[k] = c
		}
		c[i] += int64(n.v)
		return nil
	}, &g, &survey, &question, &n)
}

// answerRows returns the rows of the survey answers. period is the
// comparison's, for the rows' segments.
func (d *data) answerRows(period segment.Period) []Row {
	var out []Row
	for k, qu := range d.answers.questions {
		key := k.Survey + "/" + k.Question
		label := qu.SurveyName + ": " + qu.Prompt
		if qu.Score {
			f := d.answers.scores[k]
			if f == nil {
				continue
			}
			r := numbers("answer", key, "mean", label+" (mean)", f[0], f[1])
			r.cond = &segment.Answer{Survey: k.Survey, Question: k.Question, Op: segment.OpGe,
				Values: []segment.Value{{Kind: segment.ValNumber, Num: qu.Low}}, Period: period}
			out = append(out, r)
			continue
		}
		opts := d.answers.options[k]
		if len(opts) > maxCategories {
			continue
		}
		var n [2]int64
		if c := d.answers.respondents[k]; c != nil {
			n = *c
		}
		for v, c := range opts {
			r := share("answer", key, v, label+" = "+strconv.Quote(v), c[0], n[0], c[1], n[1])
			r.cond = &segment.Answer{Survey: k.Survey, Question: k.Question, Op: segment.OpEq,
				Values: []segment.Value{{Kind: segment.ValString, Str: v}}, Period: period}
			out = append(out, r)
		}
	}
	return out
}
