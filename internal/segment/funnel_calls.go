package segment

// FunnelStep matches users by the deepest step they reached in a saved
// funnel (a saved insight of kind funnel): 0 when they never entered it,
// its number of steps when they completed it. "dropped at step 3" is
// funnel_step("ins_…") = 2.
type FunnelStep struct {
	Pos
	ID    string
	Count Count
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

// funnelStep writes a funnel_step condition.
func (f *formatter) funnelStep(n *FunnelStep) {
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

// encodeFunnelStep writes a funnel_step condition's JSON fields.
func (o *jsonObject) encodeFunnelStep(n *FunnelStep) {
	o.add("type", "funnel_step")
	o.add("id", n.ID)
	o.addCount(n.Count)
}

// funnelStep checks a funnel_step condition: an ID and a comparison.
func (v *validator) funnelStep(n *FunnelStep, path string) {
	if n.ID == "" {
		v.errorf(n.Pos, joinPath(path, "id"), "funnel_step needs a saved funnel's ID")
	}
	v.count(n.Count, true, n.Pos, path)
}
