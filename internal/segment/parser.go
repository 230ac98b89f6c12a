package segment

import (
	"fmt"
	"strings"
)

// Parse parses the text form of a condition, for example
//
//	plan = "pro" and active_days(7d) >= 4 and did("export", 30d)
//
// Errors are *SyntaxError values naming a line and column; a text beyond
// one of the limits (MaxTextBytes, MaxConditions, MaxDepth) gives a
// *LimitError wrapping one. A date written
// without quotes where a value is expected (signed_up_at > 2024-05-01) is a
// ValString holding the date as written, exactly as the same date in JSON
// would be; Validate turns it into a ValDate when the attribute is a
// datetime.
func Parse(src string) (Node, error) {
	if err := textLimit(src); err != nil {
		return nil, err
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tokEOF {
		return nil, p.expected(`"and" or "or"`)
	}
	if f := checkLimits(n); f != nil {
		return nil, &LimitError{Limit: f.limit, Err: &SyntaxError{Pos: f.err.Pos, Msg: f.err.Msg}}
	}
	return n, nil
}

type parser struct {
	toks    []token
	i       int
	nesting int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// accept consumes the keyword kw if it comes next.
func (p *parser) accept(kw string) bool {
	if p.peek().is(kw) {
		p.i++
		return true
	}
	return false
}

// expected reports that the parser wanted what at the current token.
func (p *parser) expected(what string) error {
	t := p.peek()
	if p.i == 0 {
		return &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("expected %s, found %s", what, t.describe())}
	}
	prev := p.toks[p.i-1]
	return &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("expected %s after %s, found %s", what, prev.describe(), t.describe())}
}

// want consumes a token of kind k or reports that what was expected.
func (p *parser) want(k tokKind, what string) (token, error) {
	if p.peek().kind != k {
		return token{}, p.expected(what)
	}
	return p.next(), nil
}

// wantKeyword consumes the keyword kw or reports it missing.
func (p *parser) wantKeyword(kw string) error {
	if !p.accept(kw) {
		return p.expected(`"` + kw + `"`)
	}
	return nil
}

func (p *parser) parseOr() (Node, error) {
	first, err := p.parseAnd()
	if err != nil || !p.peek().is("or") {
		return first, err
	}
	g := &Group{Pos: first.Position(), Op: Any, Conditions: []Node{first}}
	for p.accept("or") {
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		g.Conditions = append(g.Conditions, n)
	}
	return g, nil
}

func (p *parser) parseAnd() (Node, error) {
	first, err := p.parseUnary()
	if err != nil || !p.peek().is("and") {
		return first, err
	}
	g := &Group{Pos: first.Position(), Op: All, Conditions: []Node{first}}
	for p.accept("and") {
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		g.Conditions = append(g.Conditions, n)
	}
	return g, nil
}

func (p *parser) parseUnary() (Node, error) {
	p.nesting++
	defer func() { p.nesting-- }()
	t := p.peek()
	if p.nesting > maxNesting {
		return nil, &LimitError{Limit: LimitDepth, Err: &SyntaxError{Pos: t.pos,
			Msg: fmt.Sprintf("parentheses and not are nested more than %d deep", maxNesting)}}
	}
	switch {
	case t.is("not"):
		p.next()
		c, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &Not{Pos: t.pos, Condition: c}, nil
	case t.kind == tokLParen:
		p.next()
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.want(tokRParen, `"and", "or" or ")"`); err != nil {
			return nil, err
		}
		if g, ok := n.(*Group); ok {
			g.Pos = t.pos
		}
		return n, nil
	}
	return p.parseCond()
}

// reserved are the words that cannot begin a bare user attribute name;
// attr("…") reads such keys.
func reserved(word string) bool {
	switch strings.ToLower(word) {
	case "not", "and", "or", "true", "false", "attr", "company", "session",
		"session_duration", "avg_session_duration":
		return true
	}
	return false
}

func (p *parser) parseCond() (Node, error) {
	t := p.peek()
	if t.kind != tokIdent {
		return nil, p.expected("a condition")
	}
	name := strings.ToLower(t.text)
	if p.peekAt(1).kind == tokLParen {
		switch name {
		case "did":
			return p.parseDid(false)
		case "did_first":
			return p.parseDid(true)
		case "active_days":
			return p.parseActiveDays()
		case "visited":
			return p.parseVisited()
		case "sessions":
			return p.parseSessions()
		case "session_duration":
			return p.parseSessionDuration(AggAny)
		case "avg_session_duration":
			return p.parseSessionDuration(AggAvg)
		case "in_segment":
			return p.parseInSegment()
		case string(SignalRageClicks), string(SignalDeadClicks), string(SignalUTurns), string(SignalErrors):
			return p.parseSignal(SignalKind(name))
		case "nps_score", "nps_group":
			return p.parseNPS(name == "nps_group")
		case "answer":
			return p.parseAnswer()
		case "feedback_rating":
			return p.parseFeedbackRating()
		case "identified":
			return p.parseIdentified()
		case "funnel_step":
			return p.parseFunnelStep()
		case "completed_funnel":
			return p.parseCompletedFunnel()
		case "attr":
			return p.parseQuotedKey(ScopeUser)
		case "company":
			return p.parseQuotedKey(ScopeCompany)
		}
		return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("unknown function %q%s", t.text, didYouMean(name, functionNames()))}
	}
	switch name {
	case "session_duration":
		return p.parseSessionDuration(AggAny)
	case "avg_session_duration":
		return p.parseSessionDuration(AggAvg)
	case "company", "session", "attr":
		if p.peekAt(1).kind == tokDot && name != "attr" {
			p.next()
			p.next()
			if name == "session" {
				return p.parseSessionField(t)
			}
			key, err := p.parsePath("an attribute name")
			if err != nil {
				return nil, err
			}
			return p.parseAttrRest(t, ScopeCompany, key)
		}
		p.next()
		if name == "attr" {
			return nil, p.expected(`"("`)
		}
		return nil, p.expected(`"." or "("`)
	}
	if reserved(name) {
		return nil, p.expected("a condition")
	}
	key, err := p.parsePath("an attribute name")
	if err != nil {
		return nil, err
	}
	return p.parseAttrRest(t, ScopeUser, key)
}

// parsePath reads IDENT {"." IDENT} as a dotted key.
func (p *parser) parsePath(what string) (string, error) {
	t, err := p.want(tokIdent, what)
	if err != nil {
		return "", err
	}
	key := t.text
	for p.peek().kind == tokDot {
		p.next()
		t, err := p.want(tokIdent, "a name")
		if err != nil {
			return "", err
		}
		key += "." + t.text
	}
	return key, nil
}

// parseQuotedKey reads attr("key") or company("key") and the condition on
// it.
func (p *parser) parseQuotedKey(scope Scope) (Node, error) {
	start := p.next()
	p.next() // (
	k, err := p.want(tokString, "an attribute name in double quotes")
	if err != nil {
		return nil, err
	}
	if _, err := p.want(tokRParen, `")"`); err != nil {
		return nil, err
	}
	return p.parseAttrRest(start, scope, k.str)
}

// parseAttrRest reads what follows an attribute reference.
func (p *parser) parseAttrRest(start token, scope Scope, key string) (Node, error) {
	if t := p.peek(); t.is("changed") {
		if scope != ScopeUser {
			return nil, &SyntaxError{Pos: t.pos, Msg: "changed reads the history of user attributes only"}
		}
		return p.parseChanged(start, key)
	}
	op, vals, err := p.parseOp(withBetween | withTime)
	if err != nil {
		return nil, err
	}
	a := &Attribute{Pos: start.pos, Scope: scope, Key: key, Op: op, Values: vals}
	if p.accept("as") {
		if err := p.wantKeyword("of"); err != nil {
			return nil, err
		}
		d, err := p.want(tokDate, "a date (like 2025-03-01)")
		if err != nil {
			return nil, err
		}
		a.AsOf = d.time
	}
	return a, nil
}

func (p *parser) parseChanged(start token, key string) (Node, error) {
	p.next() // changed
	c := &Changed{Pos: start.pos, Key: key}
	if p.accept("from") {
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		c.From = &v
	}
	if p.accept("to") {
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		c.To = &v
	}
	if p.accept("within") {
		per, err := p.parsePeriod()
		if err != nil {
			return nil, err
		}
		c.Period = per
	}
	return c, nil
}

func (p *parser) parseSessionField(start token) (Node, error) {
	f, err := p.want(tokIdent, "a session field (like device)")
	if err != nil {
		return nil, err
	}
	op, vals, err := p.parseOp(withBetween)
	if err != nil {
		return nil, err
	}
	s := &SessionField{Pos: start.pos, Field: f.text, Op: op, Values: vals}
	if p.accept("within") {
		if s.Period, err = p.parsePeriod(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// opFlags says which operators beyond the common ones a context allows.
type opFlags uint8

const (
	withBetween opFlags = 1 << iota // between a and b
	withTime                        // within and older_than
)

// parseOp reads an operator and its values.
func (p *parser) parseOp(flags opFlags) (Op, []Value, error) {
	t := p.peek()
	switch {
	case t.kind == tokOp:
		p.next()
		v, err := p.parseValue()
		return Op(t.text), []Value{v}, err
	case t.is("is"):
		p.next()
		op := OpSet
		if p.accept("not") {
			op = OpNotSet
		}
		return op, nil, p.wantKeyword("set")
	case t.is("not"):
		p.next()
		if err := p.wantKeyword("in"); err != nil {
			return "", nil, err
		}
		vals, err := p.parseList()
		return OpNotIn, vals, err
	case t.is("in"):
		p.next()
		vals, err := p.parseList()
		return OpIn, vals, err
	case t.is("between") && flags&withBetween != 0:
		p.next()
		lo, err := p.parseValue()
		if err != nil {
			return "", nil, err
		}
		if err := p.wantKeyword("and"); err != nil {
			return "", nil, err
		}
		hi, err := p.parseValue()
		return OpBetween, []Value{lo, hi}, err
	case t.is("contains") || t.is("starts_with") || t.is("ends_with") || t.is("matches"):
		p.next()
		s, err := p.want(tokString, "a string in double quotes")
		return Op(strings.ToLower(t.text)), []Value{{Pos: s.pos, Kind: ValString, Str: s.str}}, err
	case (t.is("within") || t.is("older_than")) && flags&withTime != 0:
		p.next()
		d, err := p.want(tokDuration, "a duration (like 30d)")
		return Op(strings.ToLower(t.text)), []Value{{Pos: d.pos, Kind: ValDuration, Dur: d.dur}}, err
	}
	return "", nil, p.expected("an operator")
}

// parseValue reads a literal. A date becomes a ValString holding the date
// as written (see Parse).
func (p *parser) parseValue() (Value, error) {
	t := p.peek()
	switch {
	case t.kind == tokString:
		p.next()
		return Value{Pos: t.pos, Kind: ValString, Str: t.str}, nil
	case t.kind == tokNumber:
		p.next()
		return Value{Pos: t.pos, Kind: ValNumber, Num: t.num}, nil
	case t.kind == tokDate:
		p.next()
		return Value{Pos: t.pos, Kind: ValString, Str: t.text}, nil
	case t.is("true") || t.is("false"):
		p.next()
		return Value{Pos: t.pos, Kind: ValBool, Bool: t.is("true")}, nil
	}
	return Value{}, p.expected("a value")
}

func (p *parser) parseList() ([]Value, error) {
	if _, err := p.want(tokLParen, `"("`); err != nil {
		return nil, err
	}
	var vals []Value
	for {
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		switch p.peek().kind {
		case tokRParen:
			p.next()
			return vals, nil
		case tokComma:
			p.next()
		default:
			return nil, p.expected(`"," or ")"`)
		}
	}
}

// parsePeriod reads 30d or 2025-01-01..2025-02-01.
func (p *parser) parsePeriod() (Period, error) {
	t := p.peek()
	switch t.kind {
	case tokDuration:
		p.next()
		return Period{Last: t.dur}, nil
	case tokDate:
		p.next()
		if _, err := p.want(tokDotDot, `".." and an end date`); err != nil {
			return Period{}, err
		}
		end, err := p.want(tokDate, "an end date")
		return Period{From: t.time, To: end.time}, err
	}
	return Period{}, p.expected("a period (like 30d or 2025-01-01..2025-02-01)")
}

// parseOptPeriod reads a period unless the call's ")" comes next.
func (p *parser) parseOptPeriod() (Period, error) {
	if p.peek().kind == tokRParen {
		return Period{}, nil
	}
	return p.parsePeriod()
}

// parseCount reads a comparison with a number, such as ">= 3".
func (p *parser) parseCount() (Count, error) {
	op, err := p.want(tokOp, "a comparison (like >= 3)")
	if err != nil {
		return Count{}, err
	}
	n, err := p.want(tokNumber, "a number")
	return Count{Op: Op(op.text), N: n.num}, err
}
