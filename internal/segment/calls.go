package segment

import "strings"

// This file parses the behaviour conditions written as calls: did(…),
// active_days(…), visited(…) and the others. A new kind of condition is
// always a call, name(…), so adding one never changes what an existing
// attribute name means.

// open consumes a call's name and "(" and returns the name's token.
func (p *parser) open() token {
	t := p.next()
	p.next() // (
	return t
}

func (p *parser) close() error {
	_, err := p.want(tokRParen, `")"`)
	return err
}

// parseDid reads did("name" [, period] {, property-cond}) [cmp N] or
// did_first("name" [, period]).
func (p *parser) parseDid(first bool) (Node, error) {
	start := p.open()
	name, err := p.want(tokString, "an event name in double quotes")
	if err != nil {
		return nil, err
	}
	e := &Event{Pos: start.pos, Name: name.str, First: first}
	for i := 0; p.peek().kind == tokComma; i++ {
		p.next()
		if k := p.peek().kind; k == tokDuration || k == tokDate {
			if i > 0 {
				return nil, &SyntaxError{Pos: p.peek().pos, Msg: "the period goes right after the event name"}
			}
			if e.Period, err = p.parsePeriod(); err != nil {
				return nil, err
			}
			continue
		}
		if first {
			return nil, p.expected("a period (like 30d or 2025-01-01..2025-02-01)")
		}
		prop, err := p.parseProperty()
		if err != nil {
			return nil, err
		}
		e.Where = append(e.Where, prop)
	}
	if _, err := p.want(tokRParen, `"," or ")"`); err != nil {
		return nil, err
	}
	if !first && p.peek().kind == tokOp {
		if e.Count, err = p.parseCount(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// parseProperty reads an event property condition: a name (dotted, or a
// string for names with other characters) and an operator.
func (p *parser) parseProperty() (Property, error) {
	t := p.peek()
	var key string
	switch t.kind {
	case tokString:
		p.next()
		key = t.str
	case tokIdent:
		var err error
		if key, err = p.parsePath("a property name"); err != nil {
			return Property{}, err
		}
	default:
		return Property{}, p.expected(`a period or a property condition (like format = "csv")`)
	}
	op, vals, err := p.parseOp(0)
	return Property{Pos: t.pos, Key: key, Op: op, Values: vals}, err
}

func (p *parser) parseActiveDays() (Node, error) {
	start := p.open()
	per, err := p.parseOptPeriod()
	if err != nil {
		return nil, err
	}
	if err := p.close(); err != nil {
		return nil, err
	}
	c, err := p.parseCount()
	if err != nil {
		return nil, err
	}
	return &ActiveDays{Pos: start.pos, Count: c, Period: per}, nil
}

// parseVisited reads visited(page-match [, period]) [cmp N], where
// page-match is "path" or one of contains, starts_with, ends_with, matches
// followed by a string.
func (p *parser) parseVisited() (Node, error) {
	start := p.open()
	v := &Visited{Pos: start.pos, Match: OpEq}
	if t := p.peek(); t.is("contains") || t.is("starts_with") || t.is("ends_with") || t.is("matches") {
		p.next()
		v.Match = Op(strings.ToLower(t.text))
	}
	pat, err := p.want(tokString, "a page path in double quotes")
	if err != nil {
		return nil, err
	}
	v.Pattern = pat.str
	if p.peek().kind == tokComma {
		p.next()
		if v.Period, err = p.parsePeriod(); err != nil {
			return nil, err
		}
	}
	if err := p.close(); err != nil {
		return nil, err
	}
	if p.peek().kind == tokOp {
		if v.Count, err = p.parseCount(); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (p *parser) parseSessions() (Node, error) {
	start := p.open()
	per, err := p.parseOptPeriod()
	if err != nil {
		return nil, err
	}
	if err := p.close(); err != nil {
		return nil, err
	}
	c, err := p.parseCount()
	if err != nil {
		return nil, err
	}
	return &Sessions{Pos: start.pos, Count: c, Period: per}, nil
}

// parseSessionDuration reads session_duration[(period)] cmp DURATION and
// its avg_ twin.
func (p *parser) parseSessionDuration(agg Aggregate) (Node, error) {
	start := p.next()
	s := &SessionDuration{Pos: start.pos, Agg: agg}
	if p.peek().kind == tokLParen {
		p.next()
		var err error
		if s.Period, err = p.parseOptPeriod(); err != nil {
			return nil, err
		}
		if err := p.close(); err != nil {
			return nil, err
		}
	}
	op, err := p.want(tokOp, "a comparison (like >= 3h)")
	if err != nil {
		return nil, err
	}
	d, err := p.want(tokDuration, "a duration (like 3h)")
	if err != nil {
		return nil, err
	}
	s.Op, s.Value = Op(op.text), d.dur
	return s, nil
}

// parseSignal reads rage_clicks([period] [, page-match]) [cmp N] and the
// other signals.
func (p *parser) parseSignal(kind SignalKind) (Node, error) {
	start := p.open()
	s := &Signal{Pos: start.pos, Kind: kind}
	var err error
	switch k := p.peek().kind; {
	case k == tokDuration || k == tokDate:
		if s.Period, err = p.parsePeriod(); err != nil {
			return nil, err
		}
		if p.peek().kind == tokComma {
			p.next()
			if err := p.parsePageMatch(s); err != nil {
				return nil, err
			}
		}
	case p.peek().is("page"):
		if err := p.parsePageMatch(s); err != nil {
			return nil, err
		}
	}
	if _, err := p.want(tokRParen, `a period, a page condition or ")"`); err != nil {
		return nil, err
	}
	if p.peek().kind == tokOp {
		if s.Count, err = p.parseCount(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// parsePageMatch reads a signal's page condition: page followed by =,
// contains, starts_with, ends_with or matches and a string. Validation
// refuses the operators that visited(…) does not take.
func (p *parser) parsePageMatch(s *Signal) error {
	if !p.peek().is("page") {
		return p.expected(`a page condition (like page = "/checkout")`)
	}
	p.next()
	switch t := p.peek(); {
	case t.kind == tokOp:
		p.next()
		s.Match = Op(t.text)
	case t.is("contains") || t.is("starts_with") || t.is("ends_with") || t.is("matches"):
		p.next()
		s.Match = Op(strings.ToLower(t.text))
	default:
		return p.expected(`"=", "contains", "starts_with" or "matches"`)
	}
	pat, err := p.want(tokString, "a page path in double quotes")
	s.Page = pat.str
	return err
}

func (p *parser) parseInSegment() (Node, error) {
	start := p.open()
	id, err := p.want(tokString, "a segment ID in double quotes")
	if err != nil {
		return nil, err
	}
	if err := p.close(); err != nil {
		return nil, err
	}
	return &InSegment{Pos: start.pos, ID: id.str}, nil
}
