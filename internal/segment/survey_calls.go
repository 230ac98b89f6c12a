package segment

// parseNPS reads nps_score(…) op value and nps_group(…) op value, where
// the optional arguments are a survey ID in double quotes, a period, or
// both in that order. Without parentheses the names stay attributes.
func (p *parser) parseNPS(group bool) (Node, error) {
	start := p.next()
	n := &NPS{Pos: start.pos, Group: group}
	{
		p.next() // (
		if t := p.peek(); t.kind == tokString {
			p.next()
			n.Survey = t.str
			if p.peek().kind == tokComma {
				p.next()
				var err error
				if n.Period, err = p.parsePeriod(); err != nil {
					return nil, err
				}
			}
		} else if t.kind != tokRParen {
			var err error
			if n.Period, err = p.parsePeriod(); err != nil {
				return nil, err
			}
		}
		if _, err := p.want(tokRParen, `a survey ID, a period or ")"`); err != nil {
			return nil, err
		}
	}
	var err error
	n.Op, n.Values, err = p.parseOp(withBetween)
	return n, err
}

// formatNPS writes an NPS condition.
func (f *formatter) nps(n *NPS) {
	if n.Group {
		f.WriteString("nps_group")
	} else {
		f.WriteString("nps_score")
	}
	f.WriteByte('(')
	if n.Survey != "" {
		f.WriteString(quote(n.Survey))
		if !n.Period.IsZero() {
			f.WriteString(", ")
		}
	}
	f.period(n.Period)
	f.WriteByte(')')
	f.op(n.Op, n.Values)
}

// decodeNPS reads {"type": "nps_score"|"nps_group", "survey"?, "within"?,
// "op", "value"|"values"}.
func decodeNPS(o *object, group bool) (Node, error) {
	n := &NPS{Group: group}
	var err error
	if n.Survey, _, err = o.str("survey"); err != nil {
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

// encodeNPS writes an NPS condition's JSON fields.
func (o *jsonObject) encodeNPS(n *NPS) error {
	if n.Group {
		o.add("type", "nps_group")
	} else {
		o.add("type", "nps_score")
	}
	if n.Survey != "" {
		o.add("survey", n.Survey)
	}
	o.add("op", string(n.Op))
	if err := o.addValues(n.Op, n.Values); err != nil {
		return err
	}
	o.addPeriod(n.Period)
	return nil
}

// nps checks an NPS condition: scores compare as numbers from 0 to 10,
// groups as one of NPSGroups with =, !=, in, not in.
func (v *validator) nps(n *NPS, path string) {
	if n.Group {
		switch n.Op {
		case OpEq, OpNe, OpIn, OpNotIn:
		default:
			v.errorf(n.Pos, joinPath(path, "op"), `nps_group compares with "=", "!=", "in" or "not in", not %q`, n.Op)
			return
		}
	} else {
		switch n.Op {
		case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpBetween, OpIn, OpNotIn:
		default:
			v.errorf(n.Pos, joinPath(path, "op"), "nps_score compares with =, !=, <, <=, >, >=, between, in or not in, not %q", n.Op)
			return
		}
	}
	want := 1
	switch n.Op {
	case OpBetween:
		want = 2
	case OpIn, OpNotIn:
		want = -1
	}
	if (want > 0 && len(n.Values) != want) || (want < 0 && len(n.Values) == 0) {
		v.errorf(n.Pos, joinPath(path, "value"), "%q takes %s", n.Op, map[int]string{1: "one value", 2: "two values", -1: "a list of values"}[want])
		return
	}
	for _, val := range n.Values {
		switch {
		case n.Group && (val.Kind != ValString || !contains(NPSGroups(), val.Str)):
			v.errorf(val.Pos, joinPath(path, "value"), `nps_group is "promoter", "passive" or "detractor"%s`,
				didYouMean(val.Str, NPSGroups()))
		case !n.Group && (val.Kind != ValNumber || val.Num < 0 || val.Num > 10):
			v.errorf(val.Pos, joinPath(path, "value"), "an NPS score is a number from 0 to 10")
		}
	}
	v.period(n.Period, n.Pos, path)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
