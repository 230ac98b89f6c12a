package survey

import (
	"context"
	"sync"
	"time"
)

// history keeps in memory, per site, when each visitor last completed and
// dismissed each survey, so that the frequency rule costs no query. A site's
// history is read from the store on first use and then kept up to date by
// the Service's own writes (responses and dismissals only come through
// it). It holds one entry per visitor and survey they answered or
// dismissed — far fewer than events.
type history struct {
	mu    sync.Mutex
	sites map[int64]*siteHistory
	gen   uint64 // counts writes, so a load that raced one is not kept
}

type siteHistory struct {
	seen map[string]map[string]Seen // visitor key → survey → seen
}

// visitorKey names a response's or dismissal's visitor: by user ID when it
// carried one, else by anonymous ID.
func visitorKey(userID, anonymousID string) string {
	if userID != "" {
		return "u:" + userID
	}
	return "a:" + anonymousID
}

// history returns a site's history, loading it when needed.
func (s *Service) history(ctx context.Context, site int64) (*siteHistory, error) {
	h := &s.hist
	h.mu.Lock()
	sh, gen := h.sites[site], h.gen
	h.mu.Unlock()
	if sh != nil {
		return sh, nil
	}
	rows, err := s.store.SurveyHistories(ctx, site)
	if err != nil {
		return nil, err
	}
	sh = &siteHistory{seen: map[string]map[string]Seen{}}
	for _, r := range rows {
		k := visitorKey(r.UserID, r.AnonymousID)
		if sh.seen[k] == nil {
			sh.seen[k] = map[string]Seen{}
		}
		sn := sh.seen[k][r.SurveyID]
		if r.Completed.After(sn.Completed) {
			sn.Completed = r.Completed
		}
		if r.Dismissed.After(sn.Dismissed) {
			sn.Dismissed = r.Dismissed
		}
		sh.seen[k][r.SurveyID] = sn
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if cur := h.sites[site]; cur != nil {
		return cur, nil
	}
	if h.gen == gen {
		h.sites[site] = sh
	}
	return sh, nil
}

// seen returns what the visitor of a request (its user ID and anonymous
// ID) did with a survey: the latest of both.
func (s *Service) seen(sh *siteHistory, surveyID string, v Visitor) Seen {
	s.hist.mu.Lock()
	defer s.hist.mu.Unlock()
	var out Seen
	for _, k := range []string{visitorKey(v.UserID, ""), visitorKey("", v.AnonymousID)} {
		if k == "u:" {
			continue
		}
		sn := sh.seen[k][surveyID]
		if sn.Completed.After(out.Completed) {
			out.Completed = sn.Completed
		}
		if sn.Dismissed.After(out.Dismissed) {
			out.Dismissed = sn.Dismissed
		}
	}
	return out
}

// record notes a completion or a dismissal the Service just stored. It
// keeps the latest times, so noting a write the loaded history already
// holds changes nothing.
func (s *Service) record(site int64, surveyID, userID, anonymousID string, completed, dismissed time.Time) {
	h := &s.hist
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gen++
	sh := h.sites[site]
	if sh == nil {
		return // loaded with this write on first use
	}
	k := visitorKey(userID, anonymousID)
	if sh.seen[k] == nil {
		sh.seen[k] = map[string]Seen{}
	}
	sn := sh.seen[k][surveyID]
	if completed.After(sn.Completed) {
		sn.Completed = completed
	}
	if dismissed.After(sn.Dismissed) {
		sn.Dismissed = dismissed
	}
	sh.seen[k][surveyID] = sn
}

// forget drops a site's history (a survey was deleted with its responses).
func (s *Service) forget(site int64) {
	h := &s.hist
	h.mu.Lock()
	delete(h.sites, site)
	h.gen++
	h.mu.Unlock()
}
