package segment

import "slices"

// functionNames lists the text form's functions, for suggestions when a
// call names none of them.
func functionNames() []string {
	return []string{"did", "did_first", "active_days", "visited", "sessions", "session_duration",
		"avg_session_duration", "in_segment", string(SignalRageClicks), string(SignalDeadClicks),
		string(SignalUTurns), string(SignalErrors), "nps_score", "nps_group", "answer", "feedback_rating",
		"identified", "attr", "company", "funnel_step", "completed_funnel"}
}

// parseAnswer reads answer("SURVEY", "QUESTION"[, PERIOD]) op value.
func (p *parser) parseAnswer() (Node, error) {
	start := p.next()
	p.next() // (
	n := &Answer{Pos: start.pos}
	s, err := p.want(tokString, "a survey ID in double quotes")
	if err != nil {
		return nil, err
	}
	n.Survey = s.str
	if _, err := p.want(tokComma, `"," and a question ID`); err != nil {
		return nil, err
	}
	q, err := p.want(tokString, "a question ID in double quotes")
	if err != nil {
		return nil, err
	}
	n.Question = q.str
	if p.peek().kind == tokComma {
		p.next()
		if n.Period, err = p.parsePeriod(); err != nil {
			return nil, err
		}
	}
	if _, err := p.want(tokRParen, `a period or ")"`); err != nil {
		return nil, err
	}
	n.Op, n.Values, err = p.parseOp(withBetween)
	return n, err
}

// parseIdentified reads identified(): no argument and no comparison.
func (p *parser) parseIdentified() (Node, error) {
	start := p.next()
	p.next() // (
	if _, err := p.want(tokRParen, `")" (identified() takes no argument)`); err != nil {
		return nil, err
	}
	return &Identified{Pos: start.pos}, nil
}

// parseFeedbackRating reads feedback_rating([PERIOD]) op value.
func (p *parser) parseFeedbackRating() (Node, error) {
	start := p.next()
	p.next() // (
	n := &FeedbackRating{Pos: start.pos}
	var err error
	if n.Period, err = p.parseOptPeriod(); err != nil {
		return nil, err
	}
	if _, err := p.want(tokRParen, `")"`); err != nil {
		return nil, err
	}
	n.Op, n.Values, err = p.parseOp(withBetween)
	return n, err
}

// answer writes an answer condition.
func (f *formatter) answer(n *Answer) {
	f.WriteString("answer(" + quote(n.Survey) + ", " + quote(n.Question))
	if !n.Period.IsZero() {
		f.WriteString(", ")
		f.period(n.Period)
	}
	f.WriteByte(')')
	f.op(n.Op, n.Values)
}

// feedbackRating writes a feedback rating condition.
func (f *formatter) feedbackRating(n *FeedbackRating) {
	f.WriteString("feedback_rating(")
	f.period(n.Period)
	f.WriteByte(')')
	f.op(n.Op, n.Values)
}

// decodeAnswer reads {"type": "answer", "survey", "question", "within"?,
// "op", "value"|"values"}.
func decodeAnswer(o *object) (Node, error) {
	n := &Answer{}
	var err error
	if n.Survey, err = o.reqStr("survey"); err != nil {
		return nil, err
	}
	if n.Question, err = o.reqStr("question"); err != nil {
		return nil, err
	}
	if n.Op, err = o.op(opsAttribute); err != nil {
		return nil, err
	}
	if n.Values, err = o.values(n.Op); err != nil {
		return nil, err
	}
	n.Period, err = o.period()
	return n, err
}

// decodeFeedbackRating reads {"type": "feedback_rating", "within"?, "op",
// "value"|"values"}.
func decodeFeedbackRating(o *object) (Node, error) {
	n := &FeedbackRating{}
	var err error
	if n.Op, err = o.op(opsAttribute); err != nil {
		return nil, err
	}
	if n.Values, err = o.values(n.Op); err != nil {
		return nil, err
	}
	n.Period, err = o.period()
	return n, err
}

// encodeAnswer writes an answer condition's JSON fields.
func (o *jsonObject) encodeAnswer(n *Answer) error {
	o.add("type", "answer")
	o.add("survey", n.Survey)
	o.add("question", n.Question)
	o.add("op", string(n.Op))
	if err := o.addValues(n.Op, n.Values); err != nil {
		return err
	}
	o.addPeriod(n.Period)
	return nil
}

// encodeFeedbackRating writes a feedback rating condition's JSON fields.
func (o *jsonObject) encodeFeedbackRating(n *FeedbackRating) error {
	o.add("type", "feedback_rating")
	o.add("op", string(n.Op))
	if err := o.addValues(n.Op, n.Values); err != nil {
		return err
	}
	o.addPeriod(n.Period)
	return nil
}

// answerNumberOps are the operators an answer compares with numbers
// (scores) by; strings (options and text) take answerStringOps.
func answerNumberOps() []Op {
	return []Op{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpBetween, OpIn, OpNotIn}
}

func answerStringOps() []Op { return []Op{OpEq, OpNe, OpIn, OpNotIn, OpContains, OpStarts} }

// answer checks an answer condition: a survey and question ID, and values
// that are all numbers (a score) or all strings (an option or a text).
func (v *validator) answer(n *Answer, path string) {
	if n.Survey == "" {
		v.errorf(n.Pos, joinPath(path, "survey"), "answer needs a survey ID")
	}
	if !validQuestionID(n.Question) {
		v.errorf(n.Pos, joinPath(path, "question"), "a question ID is 1–64 letters, digits, _ or -, not %q", n.Question)
	}
	if !v.valueCount(n.Op, n.Values, n.Pos, path) {
		return
	}
	kind := n.Values[0].Kind
	for _, val := range n.Values {
		if val.Kind != ValNumber && val.Kind != ValString {
			v.errorf(val.Pos, joinPath(path, "value"), "an answer is a number (a score) or a string (an option or a text), not %s", describeValue(val))
			return
		}
		if val.Kind != kind {
			v.errorf(val.Pos, joinPath(path, "value"), "compare an answer with numbers or with strings, not both")
			return
		}
	}
	switch {
	case kind == ValNumber && !slices.Contains(answerNumberOps(), n.Op):
		hint := ""
		if slices.Contains(answerStringOps(), n.Op) {
			hint = "; an option or a text compares with a string in double quotes"
		}
		v.errorf(n.Pos, joinPath(path, "op"), "an answer compares with numbers by %s, not %q%s", joinOps(answerNumberOps()), n.Op, hint)
	case kind == ValString && !slices.Contains(answerStringOps(), n.Op):
		hint := ""
		if slices.Contains(answerNumberOps(), n.Op) {
			hint = "; a score compares with a number, without quotes"
		}
		v.errorf(n.Pos, joinPath(path, "op"), "an answer compares with strings by %s, not %q%s", joinOps(answerStringOps()), n.Op, hint)
	}
	v.period(n.Period, n.Pos, path)
}

// feedbackRating checks a feedback_rating condition: an average compared
// with numbers from 1 to 5.
func (v *validator) feedbackRating(n *FeedbackRating, path string) {
	ops := []Op{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpBetween}
	if !slices.Contains(ops, n.Op) {
		hint := ""
		if n.Op == OpIn || n.Op == OpNotIn {
			hint = `; the average is rarely a whole number: use "between"`
		}
		v.errorf(n.Pos, joinPath(path, "op"), "feedback_rating compares its average with %s, not %q%s", joinOps(ops), n.Op, hint)
		return
	}
	if !v.valueCount(n.Op, n.Values, n.Pos, path) {
		return
	}
	for _, val := range n.Values {
		if val.Kind != ValNumber || val.Num < 1 || val.Num > 5 {
			v.errorf(val.Pos, joinPath(path, "value"), "a feedback rating is a number from 1 to 5, not %s", describeValue(val))
		}
	}
	v.period(n.Period, n.Pos, path)
}

// valueCount checks that op has the number of values it takes.
func (v *validator) valueCount(op Op, vals []Value, pos Pos, path string) bool {
	want := 1
	switch op {
	case OpBetween:
		want = 2
	case OpIn, OpNotIn:
		want = -1
	case OpSet, OpNotSet:
		v.errorf(pos, joinPath(path, "op"), "%q does not apply here: a user without an answer never matches", op)
		return false
	}
	if (want > 0 && len(vals) != want) || (want < 0 && len(vals) == 0) {
		v.errorf(pos, joinPath(path, "value"), "%q takes %s", op,
			map[int]string{1: "one value", 2: "two values", -1: "a list of values"}[want])
		return false
	}
	return true
}

// validQuestionID reports whether id is a question ID as survey
// definitions allow: 1–64 letters, digits, _ or -.
func validQuestionID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
