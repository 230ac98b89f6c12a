package notify

import (
	"context"
	"hash/fnv"
	"reflect"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// Entering a segment by the clock alone ("inactive for 30 days", "trial
// ends in 3 days") changes no data, so the incremental evaluation never
// sees it. Every ClockCheck the evaluator's goroutine also checks the
// enabled segment.entered rules whose segment has a time-relative
// condition (a period like "in the last 30 days", or a duration like
// "30d" in a comparison): it lists the segment's members now, announces
// those the rule did not have (up to the hourly limit, the rest in the
// digest), and forgets those who left, so that a user is announced once
// per entry.
//
// An edit of a rule's segment re-baselines the rule at the next check (of
// any rule, time-relative or not): the members become those of the new
// definition and nobody is announced for it, since nobody did anything.
// Until that check, a user whose data changes is judged by the new
// definition against the old members, as before.

// evaluateAndCheck evaluates the recorded causes and, every ClockCheck,
// checks the rules that the clock or an edit may move.
func (s *Service) evaluateAndCheck(ctx context.Context) (bool, error) {
	more, err := s.evaluate(ctx)
	if err != nil || more {
		return more, err
	}
	now := s.opts.Now()
	if s.lastClockCheck.IsZero() {
		s.lastClockCheck = now // the first check one interval after the start
		return false, nil
	}
	if now.Sub(s.lastClockCheck) < s.opts.ClockCheck {
		return false, nil
	}
	s.lastClockCheck = now
	return false, s.CheckClock(ctx)
}

// CheckClock checks every site's enabled segment.entered rules once: a
// segment edited since the rule took its members re-baselines the rule;
// a time-relative segment announces its new members.
func (s *Service) CheckClock(ctx context.Context) error {
	for _, site := range s.store.Sites(ctx) {
		c, err := s.config(ctx, site.ID)
		if err != nil {
			return err
		}
		for _, r := range c.Rules {
			if !r.Enabled || r.Trigger != TriggerSegment || r.SegmentID == "" {
				continue
			}
			if err := s.checkRule(ctx, site, r); err != nil {
				if retry(err) {
					return err
				}
				s.log.Warn("alert rule skipped by the clock check", "rule", r.ID, "err", err)
			}
		}
	}
	return nil
}

func (s *Service) checkRule(ctx context.Context, site store.Site, r Rule) error {
	seg, err := s.store.Segment(ctx, site.ID, r.SegmentID)
	if err != nil {
		return err
	}
	def := definitionHash(seg)
	if r.MembersOf == "" {
		// A rule from before rules kept the hash: take it as it is.
		return s.setMembersOf(ctx, site.ID, r.ID, def)
	}
	edited := r.MembersOf != def
	n, err := s.segs.Saved(ctx, site.ID, seg)
	if err != nil {
		return err
	}
	if !edited && !TimeRelative(n) {
		return nil
	}
	now, err := s.members(ctx, site.ID, seg)
	if err != nil {
		return err
	}
	if edited {
		if err := s.store.ResetAlertMembers(ctx, r.ID, now); err != nil {
			return err
		}
		return s.setMembersOf(ctx, site.ID, r.ID, def)
	}
	before, err := s.store.AlertMembers(ctx, r.ID, now)
	if err != nil {
		return err
	}
	var in []int64
	for _, k := range now {
		if !before[k] {
			in = append(in, k)
		}
	}
	ev := &evaluation{s: s, ctx: ctx, now: s.opts.Now().UTC(), counts: map[string]int{},
		sites: map[int64]store.Site{site.ID: site}, configs: map[int64]*Config{}, keys: map[int64][]string{}, announced: map[string]bool{}}
	whos, err := ev.users(site, in)
	if err != nil {
		return err
	}
	ref := &Ref{ID: seg.ID, Name: seg.Name}
	for i, who := range whos {
		ev.members = append(ev.members, store.AlertMember{RuleID: r.ID, UserKey: in[i], In: true})
		ev.add(r, site, []int64{in[i]}, Event{Type: TriggerSegment, Data: EventData{Summary: who.name() + " entered the segment " + seg.Name,
			Segment: ref, User: who.ref}})
	}
	if len(ev.msgs) > 0 {
		if err := s.store.ResolveAlerts(ctx, nil, ev.msgs, ev.members); err != nil {
			return err
		}
		s.wakeDeliverer()
	}
	// Those who left are forgotten, so that a return is announced again.
	return s.store.ResetAlertMembers(ctx, r.ID, now)
}

// TimeRelative reports whether a segment's conditions depend on the
// current time: a period relative to now ("in the last 30 days") or a
// duration compared with a time ("signed_up < 30d ago").
func TimeRelative(n segment.Node) bool {
	return relative(reflect.ValueOf(n))
}

var (
	periodType = reflect.TypeOf(segment.Period{})
	valueType  = reflect.TypeOf(segment.Value{})
)

func relative(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		return !v.IsNil() && relative(v.Elem())
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if relative(v.Index(i)) {
				return true
			}
		}
	case reflect.Struct:
		switch v.Type() {
		case periodType:
			return v.Interface().(segment.Period).Last > 0
		case valueType:
			return v.Interface().(segment.Value).Kind == segment.ValDuration
		case reflect.TypeOf(time.Time{}):
			return false
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && relative(v.Field(i)) {
				return true
			}
		}
	}
	return false
}

// setMembersOf records the definition a rule's members were taken from.
func (s *Service) setMembersOf(ctx context.Context, site int64, rule, def string) error {
	return s.update(ctx, site, func(c *Config) error {
		if x := c.rule(rule); x != nil {
			x.MembersOf = def
		}
		return nil
	})
}

// definitionHash fingerprints a segment's definition.
func definitionHash(seg store.SavedSegment) string {
	h := fnv.New64a()
	h.Write(seg.Definition)
	h.Write([]byte{0})
	h.Write([]byte(seg.Text))
	return strconv.FormatUint(h.Sum64(), 36)
}
