package segment

// FunnelStep matches users by the deepest step they reached in a saved
// funnel (a saved insight of kind funnel): 0 when they never entered it,
// its number of steps when they completed it. "dropped at step 3" is
// funnel_step("ins_…") = 2.
//
// completed_funnel("ins_…") is a FunnelStep with Completed set and no
// Count: the users who reached its last step, whatever their number (the
// compiler reads it from the saved funnel), so it stays right when steps
// are added to the funnel.
type FunnelStep struct {
	Pos
	ID        string
	Count     Count
	Completed bool
}

func (*FunnelStep) node() {}

// parseFunnelStep reads funnel_step("INSIGHT ID") cmp N.
func (p *parser) parseFunnelStep() (Node, error) {
	start := p.open()
	id, err := p.want(tokString, "a saved funnel's ID in double quotes")
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
	return &FunnelStep{Pos: start.pos, ID: id.str, Count: c}, nil
}

// parseCompletedFunnel reads completed_funnel("INSIGHT ID").
func (p *parser) parseCompletedFunnel() (Node, error) {
	start := p.open()
	id, err := p.want(tokString, "a saved funnel's ID in double quotes")
	if err != nil {
		return nil, err
	}
	if err := p.close(); err != nil {
		return nil, err
	}
	return &FunnelStep{Pos: start.pos, ID: id.str, Completed: true}, nil
}

// funnelStep writes a funnel_step or completed_funnel condition.
func (f *formatter) funnelStep(n *FunnelStep) {
	if n.Completed {
		f.WriteString("completed_funnel(" + quote(n.ID) + ")")
		return
	}
	f.WriteString("funnel_step(" + quote(n.ID) + ")")
	f.count(n.Count)
}

// decodeFunnelStep reads {"type": "funnel_step", "id", "op", "value"}.
func decodeFunnelStep(o *object) (Node, error) {
	n := &FunnelStep{}
	var err error
	if n.ID, err = o.reqStr("id"); err != nil {
		return nil, err
	}
	n.Count, err = o.count(true)
	return n, err
}

// decodeCompletedFunnel reads {"type": "completed_funnel", "id"}.
func decodeCompletedFunnel(o *object) (Node, error) {
	id, err := o.reqStr("id")
	return &FunnelStep{ID: id, Completed: true}, err
}

// encodeFunnelStep writes a funnel_step or completed_funnel condition's
// JSON fields.
func (o *jsonObject) encodeFunnelStep(n *FunnelStep) {
	if n.Completed {
		o.add("type", "completed_funnel")
		o.add("id", n.ID)
		return
	}
	o.add("type", "funnel_step")
	o.add("id", n.ID)
	o.addCount(n.Count)
}

// funnelStep checks a funnel_step condition (an ID and a comparison) or
// a completed_funnel one (an ID).
func (v *validator) funnelStep(n *FunnelStep, path string) {
	if n.ID == "" {
		v.errorf(n.Pos, joinPath(path, "id"), "%s needs a saved funnel's ID", map[bool]string{true: "completed_funnel", false: "funnel_step"}[n.Completed])
	}
	if !n.Completed {
		v.count(n.Count, true, n.Pos, path)
	}
}
