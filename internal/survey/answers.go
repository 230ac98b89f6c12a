package survey

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"unicode/utf8"

	"github.com/sightline/sightline/internal/textlimit"
)

// Answers are one response's answers by question ID, each checked against
// its question: an int for nps and rating, a string for single_choice and
// text, a []string for multiple_choice.
type Answers map[string]any

// CheckAnswers validates raw answers against the definition and returns
// them typed. A null, an empty text or an empty list is no answer (so a
// partial response can clear one). With completed, every required question
// on the path the answers take through the branching must be answered;
// either way, answers to questions the branching skips are refused.
func (d *Definition) CheckAnswers(raw map[string]json.RawMessage, completed bool) (Answers, error) {
	var c checker
	out := Answers{}
	ids := make([]string, 0, len(raw))
	for id := range raw {
		ids = append(ids, id)
	}
	sort.Strings(ids) // problems in a stable order
	for _, id := range ids {
		f := "answers." + id
		q, ok := d.question(id)
		if !ok {
			c.add(f, "unknown_question", "the survey has no question %q", truncate(id, 64))
			continue
		}
		v, err := q.decode(raw[id])
		if err != nil {
			c.add(f, "invalid_answer", "%v", err)
			continue
		}
		if v != nil {
			out[id] = v
		}
	}
	if len(c.errs) > 0 {
		return nil, c.err()
	}
	reached := map[string]bool{}
	for _, i := range d.Path(out) {
		q := d.Questions[i]
		reached[q.ID] = true
		if _, ok := out[q.ID]; completed && q.Required && !ok {
			c.add("answers."+q.ID, "missing_answer", "question %q is required", q.ID)
		}
	}
	for _, id := range ids {
		if _, ok := out[id]; ok && !reached[id] {
			c.add("answers."+id, "not_reached", "the branching skips question %q with these answers", id)
		}
	}
	if len(c.errs) > 0 {
		return nil, c.err()
	}
	return out, nil
}

// truncate shortens s for a message, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return textlimit.Cut(s, n) + "…"
}

func (d *Definition) question(id string) (Question, bool) {
	for _, q := range d.Questions {
		if q.ID == id {
			return q, true
		}
	}
	return Question{}, false
}

// decode checks one answer; nil means no answer.
func (q Question) decode(raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch q.Type {
	case NPS, Rating:
		lo, hi, _ := q.Type.Scale()
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
			return nil, fmt.Errorf("a %s answer is a whole number from %d to %d", q.Type, lo, hi)
		}
		return int(f), nil
	case SingleChoice:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("a single_choice answer is one option, as a string")
		}
		if !contains(q.Options, s) {
			return nil, fmt.Errorf("%q is not an option of this question", truncate(s, 200))
		}
		return s, nil
	case MultipleChoice:
		var ss []string
		if err := json.Unmarshal(raw, &ss); err != nil {
			return nil, fmt.Errorf("a multiple_choice answer is a list of options")
		}
		if len(ss) == 0 {
			return nil, nil
		}
		seen := map[string]bool{}
		for _, s := range ss {
			if !contains(q.Options, s) {
				return nil, fmt.Errorf("%q is not an option of this question", truncate(s, 200))
			}
			if seen[s] {
				return nil, fmt.Errorf("option %q is chosen twice", truncate(s, 200))
			}
			seen[s] = true
		}
		return ss, nil
	case Text:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("a text answer is a string")
		}
		if n := utf8.RuneCountInString(s); n > MaxTextAnswer {
			return nil, fmt.Errorf("the text is %d characters; the limit is %d", n, MaxTextAnswer)
		}
		if !readable(s) {
			return nil, fmt.Errorf("the text must be valid UTF-8 without control characters")
		}
		if s == "" {
			return nil, nil
		}
		return s, nil
	}
	return nil, fmt.Errorf("BUG: question type %q", q.Type)
}

// Path returns the indices of the questions a respondent with these
// answers goes through, in order. After each question its rules are tried
// in order (a rule about an unanswered question does not match); the first
// match jumps, else the next question follows.
func (d *Definition) Path(ans Answers) []int {
	var path []int
	for i := 0; i < len(d.Questions); {
		path = append(path, i)
		next := i + 1
		for _, r := range d.Questions[i].Branching {
			if r.If.matches(ans) {
				next = d.index(r.Goto)
				break
			}
		}
		i = next
	}
	return path
}

// index returns the position of a question, or len(Questions) for End.
func (d *Definition) index(id string) int {
	for i, q := range d.Questions {
		if q.ID == id {
			return i
		}
	}
	return len(d.Questions)
}

// matches reports whether the answers satisfy the condition.
func (cd *Condition) matches(ans Answers) bool {
	switch v := ans[cd.Question].(type) {
	case int:
		switch cd.Op {
		case "eq", "in":
			for _, n := range cd.nums {
				if v == n {
					return true
				}
			}
		case "lte":
			return len(cd.nums) == 1 && v <= cd.nums[0]
		case "gte":
			return len(cd.nums) == 1 && v >= cd.nums[0]
		}
	case string:
		return contains(cd.strs, v)
	case []string:
		for _, s := range v {
			if contains(cd.strs, s) {
				return true
			}
		}
	}
	return false
}

// NPSScore returns the answer to the survey's first NPS question, if any.
func (d *Definition) NPSScore(ans Answers) (int, bool) {
	for _, q := range d.Questions {
		if q.Type == NPS {
			n, ok := ans[q.ID].(int)
			return n, ok
		}
	}
	return 0, false
}

// Group is the NPS group of a score: promoter (9–10), passive (7–8) or
// detractor (0–6).
func Group(score int) string {
	switch {
	case score >= 9:
		return "promoter"
	case score >= 7:
		return "passive"
	}
	return "detractor"
}

// GroupRange returns the scores of an NPS group ("promoter", "passive",
// "detractor"); ok is false for any other name.
func GroupRange(group string) (lo, hi int, ok bool) {
	switch group {
	case "promoter":
		return 9, 10, true
	case "passive":
		return 7, 8, true
	case "detractor":
		return 0, 6, true
	}
	return 0, 0, false
}
