package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// causeBatch is how many causes one evaluation takes.
const causeBatch = 500

// evaluation is the work of one round: the messages and membership
// changes the causes make, resolved with them in one transaction.
type evaluation struct {
	s       *Service
	ctx     context.Context
	now     time.Time
	msgs    []store.AlertMessage
	members []store.AlertMember
	counts  map[string]int // messages of each rule this hour, these included
	sites   map[int64]store.Site
	configs map[int64]*Config
	keys    map[int64][]string // each site's key attributes
	// announced are the rule/recording pairs announced this round.
	announced map[string]bool
}

// evaluate turns recorded causes into messages, and held messages of past
// hours into digests.
func (s *Service) evaluate(ctx context.Context) (bool, error) {
	causes, err := s.store.AlertCauses(ctx, causeBatch)
	if err != nil {
		return false, err
	}
	ev := &evaluation{s: s, ctx: ctx, now: s.opts.Now().UTC(), counts: map[string]int{},
		sites: map[int64]store.Site{}, configs: map[int64]*Config{}, keys: map[int64][]string{}, announced: map[string]bool{}}
	for _, site := range s.store.Sites(ctx) {
		ev.sites[site.ID] = site
	}
	if err := ev.digests(); err != nil {
		return false, err
	}
	if len(causes) == 0 && len(ev.msgs) == 0 {
		return false, nil
	}
	ids := make([]int64, 0, len(causes))
	changes := map[int64][]int64{} // site → users whose data changed
	for _, c := range causes {
		ids = append(ids, c.ID)
		if c.Kind == store.CauseChange {
			changes[c.SiteID] = append(changes[c.SiteID], c.UserKey)
			continue
		}
		if err := ev.cause(c); err != nil {
			return false, err
		}
	}
	for site, keys := range changes {
		if err := ev.entered(site, keys); err != nil {
			return false, err
		}
	}
	if err := s.store.ResolveAlerts(ctx, ids, ev.msgs, ev.members); err != nil {
		return false, err
	}
	if len(ev.msgs) > 0 {
		s.wakeDeliverer()
	}
	return len(causes) == causeBatch, nil
}

// retry tells errors that should leave the causes for the next round
// (the store lags, the context ends) from those of one rule (a segment
// deleted or grown invalid), which are logged and skip the rule.
func retry(err error) bool {
	return errors.Is(err, store.ErrLagging) || errors.Is(err, store.ErrClosed) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, store.ErrBusy)
}

func (ev *evaluation) config(site int64) (*Config, error) {
	if c, ok := ev.configs[site]; ok {
		return c, nil
	}
	c, err := ev.s.config(ev.ctx, site)
	if err != nil {
		return nil, err
	}
	ev.configs[site] = &c
	return &c, nil
}

// rulesFor returns a site's enabled rules of a trigger.
func (ev *evaluation) rulesFor(site int64, trigger string) ([]Rule, error) {
	c, err := ev.config(site)
	if err != nil {
		return nil, err
	}
	var out []Rule
	for _, r := range c.Rules {
		if r.Enabled && r.Trigger == trigger {
			out = append(out, r)
		}
	}
	return out, nil
}

// segmentOf returns a rule's segment and its tree.
func (ev *evaluation) segmentOf(site int64, id string) (store.SavedSegment, segment.Node, error) {
	seg, err := ev.s.store.Segment(ev.ctx, site, id)
	if err != nil {
		return seg, nil, err
	}
	n, err := ev.s.segs.Saved(ev.ctx, site, seg)
	return seg, n, err
}

// inSegment reports whether a user is in a rule's segment; a rule without
// one takes everybody.
func (ev *evaluation) inSegment(site int64, r Rule, user int64) (bool, *Ref, error) {
	if r.SegmentID == "" {
		return true, nil, nil
	}
	if user == 0 {
		return false, nil, nil
	}
	seg, n, err := ev.segmentOf(site, r.SegmentID)
	if err != nil {
		return false, nil, err
	}
	in, err := ev.s.segs.MembersAmong(ev.ctx, site, n, []int64{user})
	if err != nil {
		return false, nil, err
	}
	return in[user], &Ref{ID: seg.ID, Name: seg.Name}, nil
}

// skip logs a rule that could not be evaluated for a cause, unless the
// error is one to retry.
func (ev *evaluation) skip(r Rule, what string, err error) error {
	if retry(err) {
		return err
	}
	ev.s.log.Warn("alert rule skipped", "rule", r.ID, "cause", what, "err", err)
	return nil
}

// cause evaluates the rules a recording, response or feedback may fire.
func (ev *evaluation) cause(c store.AlertCause) error {
	switch c.Kind {
	case store.CauseRecording:
		return ev.recording(c)
	case store.CauseResponse:
		return ev.response(c)
	case store.CauseFeedback:
		return ev.feedback(c)
	}
	return nil
}

func (ev *evaluation) recording(c store.AlertCause) error {
	rules, err := ev.rulesFor(c.SiteID, TriggerRecording)
	if err != nil || len(rules) == 0 {
		return err
	}
	site := ev.sites[c.SiteID]
	names, err := ev.keyAttributes(site)
	if err != nil {
		return err
	}
	rec, err := ev.s.store.Recording(ev.ctx, c.SiteID, c.Ref, names)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile
	} else if err != nil {
		return err
	}
	l := ev.links(site)
	mark := recordingMark(rec.ID)
	for _, r := range rules {
		// Once per rule and recording: the mark is kept among the rule's
		// members.
		k := r.ID + "/" + rec.ID
		if ev.announced[k] {
			continue
		}
		done, err := ev.s.store.AlertMembers(ev.ctx, r.ID, []int64{mark})
		if err != nil {
			return err
		}
		if done[mark] {
			continue
		}
		in, seg, err := ev.inSegment(c.SiteID, r, rec.UserKey)
		if err != nil {
			if err := ev.skip(r, c.Ref, err); err != nil {
				return err
			}
			continue
		}
		if !in {
			continue
		}
		ev.announced[k] = true
		ev.members = append(ev.members, store.AlertMember{RuleID: r.ID, UserKey: mark, In: true})
		who := userRef(l, rec.UserExtID, rec.AnonymousID, rec.Attributes)
		summary := "New recording of " + who.name()
		if seg != nil {
			summary += " (segment " + seg.Name + ")"
		}
		ev.add(r, site, []int64{rec.UserKey}, Event{Type: TriggerRecording, Data: EventData{Summary: summary, Segment: seg, User: who.ref,
			Recording: &RecordingRef{ID: rec.ID, StartedAt: rec.StartedAt, FirstPage: rec.FirstURL, URL: l.recording(rec.ID)}}})
	}
	return nil
}

func (ev *evaluation) response(c store.AlertCause) error {
	rules, err := ev.rulesFor(c.SiteID, TriggerResponse)
	if err != nil || len(rules) == 0 {
		return err
	}
	surveyID, responseID, _ := strings.Cut(c.Ref, "/")
	resp, err := ev.s.store.Response(ev.ctx, c.SiteID, surveyID, responseID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	sv, err := ev.s.store.Survey(ev.ctx, c.SiteID, surveyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	site := ev.sites[c.SiteID]
	l := ev.links(site)
	for _, r := range rules {
		if !matchResponse(r.Survey, resp) {
			continue
		}
		in, seg, err := ev.inSegment(c.SiteID, r, resp.UserKey)
		if err != nil {
			if err := ev.skip(r, c.Ref, err); err != nil {
				return err
			}
			continue
		}
		if !in {
			continue
		}
		who, err := ev.user(site, resp.UserKey, resp.UserID, resp.AnonymousID)
		if err != nil {
			return err
		}
		summary := who.name() + " answered " + sv.Name
		if resp.NPS != nil {
			summary += fmt.Sprintf(" (NPS %d)", *resp.NPS)
		}
		answers := json.RawMessage(resp.Answers)
		if !json.Valid(answers) {
			answers = json.RawMessage("{}")
		}
		ev.add(r, site, []int64{resp.UserKey}, Event{Type: TriggerResponse, Data: EventData{Summary: summary, Segment: seg, User: who.ref,
			Survey:   &Ref{ID: sv.ID, Name: sv.Name},
			Response: &ResponseRef{ID: resp.ResponseID, NPS: resp.NPS, Answers: answers, Page: resp.URL, URL: l.surveyResults(sv.ID)}}})
	}
	return nil
}

// recordingMark is the number a recording.new rule keeps among its
// members once it announced a recording: negative, so that it is never a
// user's key (those are positive).
func recordingMark(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return -int64(h.Sum64()>>1) - 1
}

// matchResponse reports whether a response meets a rule's condition.
func matchResponse(c *SurveyCondition, r store.SurveyResponse) bool {
	if c == nil {
		return true
	}
	if c.SurveyID != "" && c.SurveyID != r.SurveyID {
		return false
	}
	if c.NPS != "" {
		if r.NPS == nil {
			return false
		}
		n := *r.NPS
		group := "promoter"
		if n <= 6 {
			group = "detractor"
		} else if n <= 8 {
			group = "passive"
		}
		if group != c.NPS {
			return false
		}
	}
	if c.QuestionID != "" {
		var answers map[string]any
		if json.Unmarshal(r.Answers, &answers) != nil {
			return false
		}
		if !answerIs(answers[c.QuestionID], c.Answer) {
			return false
		}
	}
	return true
}

// answerIs compares an answer (a number, a text, or a list of chosen
// options) with a value as text.
func answerIs(a any, want string) bool {
	switch a := a.(type) {
	case string:
		return a == want
	case float64:
		w, err := strconv.ParseFloat(want, 64)
		return err == nil && math.Abs(a-w) < 1e-9
	case []any:
		for _, x := range a {
			if answerIs(x, want) {
				return true
			}
		}
	}
	return false
}

func (ev *evaluation) feedback(c store.AlertCause) error {
	rules, err := ev.rulesFor(c.SiteID, TriggerFeedback)
	if err != nil || len(rules) == 0 {
		return err
	}
	f, err := ev.s.store.FeedbackByID(ev.ctx, c.SiteID, c.Ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	site := ev.sites[c.SiteID]
	l := ev.links(site)
	for _, r := range rules {
		if f.Rating > r.MaxRating {
			continue
		}
		in, seg, err := ev.inSegment(c.SiteID, r, f.UserKey)
		if err != nil {
			if err := ev.skip(r, c.Ref, err); err != nil {
				return err
			}
			continue
		}
		if !in {
			continue
		}
		who, err := ev.user(site, f.UserKey, f.UserID, f.AnonymousID)
		if err != nil {
			return err
		}
		summary := fmt.Sprintf("%s rated %d/5 on %s", who.name(), f.Rating, f.URL)
		ev.add(r, site, []int64{f.UserKey}, Event{Type: TriggerFeedback, Data: EventData{Summary: summary, Segment: seg, User: who.ref,
			Feedback: &FeedbackRef{ID: f.ID, Rating: f.Rating, Comment: f.Comment, Page: f.URL, URL: l.feedback()}}})
	}
	return nil
}

// entered evaluates a site's "enters a segment" rules for the users whose
// data changed: one query a rule tells which of them are members now, the
// rule's stored members which were before.
func (ev *evaluation) entered(site int64, keys []int64) error {
	rules, err := ev.rulesFor(site, TriggerSegment)
	if err != nil || len(rules) == 0 {
		return err
	}
	st := ev.sites[site]
	for _, r := range rules {
		seg, n, err := ev.segmentOf(site, r.SegmentID)
		if err != nil {
			if err := ev.skip(r, "changes", err); err != nil {
				return err
			}
			continue
		}
		now, err := ev.s.segs.MembersAmong(ev.ctx, site, n, keys)
		if err != nil {
			if err := ev.skip(r, "changes", err); err != nil {
				return err
			}
			continue
		}
		before, err := ev.s.store.AlertMembers(ev.ctx, r.ID, keys)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		var in []int64
		for _, k := range keys {
			if seen[k] || now[k] == before[k] {
				continue
			}
			seen[k] = true
			ev.members = append(ev.members, store.AlertMember{RuleID: r.ID, UserKey: k, In: now[k]})
			if now[k] {
				in = append(in, k)
			}
		}
		whos, err := ev.users(st, in)
		if err != nil {
			return err
		}
		ref := &Ref{ID: seg.ID, Name: seg.Name}
		for i, who := range whos {
			ev.add(r, st, []int64{in[i]}, Event{Type: TriggerSegment, Data: EventData{Summary: who.name() + " entered the segment " + seg.Name,
				Segment: ref, User: who.ref}})
		}
	}
	return nil
}

// add queues an event of a rule, which carries the data of users (their
// keys; 0 for none); past the rule's hourly limit it is held for the
// digest.
func (ev *evaluation) add(r Rule, site store.Site, users []int64, e Event) {
	e.Timestamp = ev.now
	e.Data.Site = SiteRef{ID: site.PublicID, Name: site.Name}
	e.Data.Rule = &Ref{ID: r.ID, Name: r.Name}
	status := store.AlertPending
	n, ok := ev.counts[r.ID]
	if !ok {
		var err error
		if n, err = ev.s.store.CountAlerts(ev.ctx, r.ID, ev.now.Truncate(time.Hour)); err != nil {
			ev.s.log.Warn("count a rule's alerts this hour", "rule", r.ID, "err", err)
		}
	}
	if n >= r.HourlyLimit {
		status = store.AlertHeld
	}
	ev.counts[r.ID] = n + 1
	m := newMessage(site.ID, r.ID, r.DestinationID, status, e, ev.now)
	for _, k := range users {
		if k != 0 {
			m.Users = append(m.Users, k)
		}
	}
	ev.msgs = append(ev.msgs, m)
}

func newMessage(site int64, rule, destination, status string, e Event, now time.Time) store.AlertMessage {
	body, err := json.Marshal(e)
	if err != nil {
		panic("BUG: encode alert event: " + err.Error())
	}
	return store.AlertMessage{ID: auth.NewID("msg_"), SiteID: site, RuleID: rule, DestinationID: destination,
		Type: e.Type, Summary: e.Data.Summary, Body: body, Status: status, CreatedAt: now, NextAt: now}
}

// digests turns the messages held in hours now past into one digest a
// rule and hour.
func (ev *evaluation) digests() error {
	held, err := ev.s.store.HeldAlerts(ev.ctx, ev.now.Truncate(time.Hour))
	if err != nil || len(held) == 0 {
		return err
	}
	type key struct {
		rule string
		hour time.Time
	}
	groups := map[key][]store.AlertMessage{}
	var order []key
	for _, m := range held {
		k := key{m.RuleID, m.CreatedAt.UTC().Truncate(time.Hour)}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], m)
	}
	for _, k := range order {
		ms := groups[k]
		first := ms[0]
		var e Event
		json.Unmarshal(first.Body, &e)
		d := &DigestContent{From: k.hour, To: k.hour.Add(time.Hour), Count: len(ms)}
		var users []int64
		for _, m := range ms {
			if len(d.Items) < maxDigestItems {
				users = append(users, m.Users...) // the users its lines name
			}
			if len(d.Items) < maxDigestItems {
				d.Items = append(d.Items, m.Summary)
			}
			m.Status, m.DoneAt = store.AlertDigested, ev.now
			ev.msgs = append(ev.msgs, m)
		}
		name := k.rule
		if e.Data.Rule != nil {
			name = e.Data.Rule.Name
		}
		summary := fmt.Sprintf("%d more alerts of rule %s between %s and %s UTC", len(ms), name,
			k.hour.Format("15:04"), k.hour.Add(time.Hour).Format("15:04"))
		digest := Event{Type: TypeDigest, Timestamp: ev.now, Data: EventData{Summary: summary, Site: e.Data.Site,
			Rule: e.Data.Rule, Segment: e.Data.Segment, Digest: d}}
		dm := newMessage(first.SiteID, "", first.DestinationID, store.AlertPending, digest, ev.now)
		dm.Users = users
		ev.msgs = append(ev.msgs, dm)
	}
	return nil
}

func (ev *evaluation) links(site store.Site) links {
	return links{base: ev.s.opts.PublicURL, site: site.PublicID}
}

// who is a user as a message shows them.
type who struct {
	ref *UserRef
}

func (w who) name() string {
	switch {
	case w.ref == nil:
		return "An anonymous visitor"
	case w.ref.ID != "":
		return w.ref.ID
	}
	return "An anonymous visitor"
}

func userRef(l links, userID, anonymousID string, attrs []store.AttrState) who {
	u := &UserRef{ID: userID, Attributes: map[string]any{}, URL: l.profile(userID, anonymousID)}
	if userID == "" {
		u.AnonymousID = anonymousID
	}
	for _, a := range attrs {
		if !a.Value.Null {
			u.Attributes[a.Key] = a.Value.JSON()
		}
	}
	return who{ref: u}
}

// user describes a user by key (with their user ID looked up when not
// given) with the site's key attributes.
func (ev *evaluation) user(site store.Site, key int64, userID, anonymousID string) (who, error) {
	if key == 0 {
		return userRef(ev.links(site), userID, anonymousID, nil), nil
	}
	if userID == "" {
		ids, err := ev.s.store.UserIDs(ev.ctx, site.ID, []int64{key})
		if err != nil {
			return who{}, err
		}
		userID = ids[key]
	}
	names, err := ev.keyAttributes(site)
	if err != nil {
		return who{}, err
	}
	attrs, err := ev.s.store.CurrentAttributes(ev.ctx, site.ID, []int64{key}, names)
	if err != nil {
		return who{}, err
	}
	return userRef(ev.links(site), userID, anonymousID, attrs[key]), nil
}

// users describes users by key, in the order of keys, reading their user
// IDs and key attributes in one query each.
func (ev *evaluation) users(site store.Site, keys []int64) ([]who, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	ids, err := ev.s.store.UserIDs(ev.ctx, site.ID, keys)
	if err != nil {
		return nil, err
	}
	names, err := ev.keyAttributes(site)
	if err != nil {
		return nil, err
	}
	attrs, err := ev.s.store.CurrentAttributes(ev.ctx, site.ID, keys, names)
	if err != nil {
		return nil, err
	}
	out := make([]who, len(keys))
	for i, k := range keys {
		out[i] = userRef(ev.links(site), ids[k], "", attrs[k])
	}
	return out, nil
}

// keyAttributes are the attributes messages show: the site's choice, else
// name, email, plan and ltv where the site has them.
func (ev *evaluation) keyAttributes(site store.Site) ([]string, error) {
	if len(site.KeyAttributes) > 0 {
		return site.KeyAttributes, nil
	}
	if k, ok := ev.keys[site.ID]; ok {
		return k, nil
	}
	cat, err := ev.s.store.AttributeCatalog(ev.ctx, site.ID)
	if err != nil {
		return nil, err
	}
	has := map[string]bool{}
	for _, k := range cat {
		if k.Entity == store.EntityUser {
			has[k.Key] = true
		}
	}
	var out []string
	for _, k := range []string{"name", "email", "plan", "ltv"} {
		if has[k] {
			out = append(out, k)
		}
	}
	ev.keys[site.ID] = out
	return out, nil
}
