package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/sightline/sightline/internal/store"
)

// feedbackSettings turn the feedback tab on for the demo sites.
const feedbackSettings = `{"enabled": true, "position": "right", "accent": "#4f46e5",
	"prompt": "How would you rate this page?"}`

// pageVoice is what visitors say about a page: a comment for a bad
// experience (the page's known problem), one for a good one, and an
// element they may point at.
type pageVoice struct {
	bad, good []string
	selector  string
}

// voices are by page path; pages without an entry get generic comments.
var voices = map[string]pageVoice{
	"/invoices/new": {bad: []string{"Send does nothing for ages, then sends twice", "The PDF preview is so slow"},
		good: []string{"Creating an invoice is quick"}, selector: "#invoice-form > button.send"},
	"/banking": {bad: []string{"The bank widget never loads", "Cannot see my transactions today"},
		good: []string{"Reconciling is painless"}, selector: "#bank-widget"},
	"/reports": {bad: []string{"I expected to click the chart to drill down", "The chart is not clickable"},
		good: []string{"Love the new reports"}, selector: "#report > div.chart"},
	"/invoices":  {good: []string{"Easy to see who has not paid", "Filters are handy"}, selector: "table.invoices"},
	"/dashboard": {good: []string{"Everything I need at a glance"}, bad: []string{"Too many numbers"}},
	"/checkout/payment": {bad: []string{"The Pay button took forever", "Payment failed twice"},
		good: []string{"Smooth checkout"}, selector: "#payment > button.pay"},
	"/cart": {bad: []string{"My coupon code would not apply"}, good: []string{"Clear and simple"}},
}

var (
	genericGood = []string{"Works well", "Nice and fast", "Does what I need"}
	genericBad  = []string{"Hard to find what I was looking for", "Slow today"}
)

// fillFeedback turns the feedback tab on and adds feedback from a share
// of sessions: a low rating, often with a comment and the element, where
// the session hit a page's known problem; mostly good ratings elsewhere.
func (f *filler) fillFeedback(ctx context.Context, share float64) (int, error) {
	if _, err := f.svc.Feedback.SaveSettings(ctx, f.site, []byte(feedbackSettings)); err != nil {
		return 0, fmt.Errorf("turn the feedback tab on: %w", err)
	}
	n := 0
	for _, sf := range f.pickSessions(func(p *visitor, s *sessionFact) float64 {
		if s.lastURL == "" || s.end == s.start {
			return 0
		}
		if s.trouble != nil {
			return 4 * share
		}
		return share
	}) {
		f.feedback(sf)
		n++
	}
	return n, nil
}

// feedback adds one piece of feedback during sf, with its $feedback event.
func (f *filler) feedback(sf *sessionFact) {
	r := f.r
	p := f.obs.people[sf.user]
	url, path := sf.lastURL, pathOf(sf.lastURL)
	bad := false
	at := f.within(sf, 0.6)
	if t := sf.trouble; t != nil && t.url != "" {
		url, path, bad = t.url, t.path, true
		at = f.clamp(sf, t.at+int64(2_000+r.IntN(20_000)))
	}
	v := voices[path]
	rating := 4 + r.IntN(2)
	switch {
	case bad:
		rating = 1 + r.IntN(2)
	case r.Float64() < 0.15:
		rating = 3
	}
	fb := store.FeedbackItem{ID: "fb_demo" + strconv.Itoa(f.nextSeq()), SiteID: f.site, AnonymousID: p.anonID,
		UserID: p.userID, SessionID: browserSession(sf.id), URL: url, Rating: rating, CreatedAt: at}
	if bad || r.Float64() < 0.35 {
		fb.Comment = comment(r, v, bad || rating <= 3)
	}
	if bad && sf.trouble.selector != "" {
		fb.Selector = sf.trouble.selector
	} else if v.selector != "" && r.Float64() < 0.3 {
		fb.Selector = v.selector
	}
	f.bulk.Feedback(&fb)
	f.lateEvent(sf, "$feedback", "fbk-"+fb.ID, at, map[string]any{"feedback_id": fb.ID, "rating": fb.Rating,
		"selector": fb.Selector})
}

func comment(r *rand.Rand, v pageVoice, bad bool) string {
	list := v.good
	if bad {
		list = v.bad
	}
	if len(list) == 0 {
		list = genericGood
		if bad {
			list = genericBad
		}
	}
	return list[r.IntN(len(list))]
}
