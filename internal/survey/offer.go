package survey

import (
	"context"
	"errors"

	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// Offer is a survey as the tracker receives it to show: what to ask, how it
// looks and when it appears. Targeting stays on the server.
type Offer struct {
	ID         string     `json:"id"`
	Questions  []Question `json:"questions"`
	ThankYou   ThankYou   `json:"thank_you"`
	Appearance Appearance `json:"appearance"`
	Trigger    Trigger    `json:"trigger"`
}

// Offers returns the live surveys a visitor is eligible for on a page
// right now, oldest survey first. The checks run cheapest first, so that
// the database is read only for surveys that pass every rule held in
// memory, and a segment is evaluated only for those that pass the rest:
//
//  1. page URL rules, device type, sampling, frequency (in memory);
//  2. quota: completed responses (one query, only with a quota);
//  3. segment membership of the visitor's user (one query to find the
//     user, then one per survey).
func (s *Service) Offers(ctx context.Context, site int64, v Visitor) ([]Offer, error) {
	ss, err := s.live(ctx, site)
	if err != nil || len(ss.live) == 0 {
		return []Offer{}, err
	}
	hist, err := s.history(ctx, site)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var cands []*liveSurvey
	var quota []string
	for _, ls := range ss.live {
		t := &ls.Definition.Targeting
		if matchURL(ls.urls, v.URL) && matchDevice(t.Devices, v.Device) && InSample(ls.ID, v.sampleID(), t.SamplePercent) &&
			t.Frequency.allows(s.seen(hist, ls.ID, v), now) {
			cands = append(cands, ls)
			if t.Quota > 0 {
				quota = append(quota, ls.ID)
			}
		}
	}
	var counts map[string]int64
	if len(quota) > 0 {
		if counts, err = s.store.CompletedCounts(ctx, site, quota); err != nil {
			return nil, err
		}
	}
	out := []Offer{}
	key, keyErr := int64(-1), error(nil)
	for _, ls := range cands {
		t := &ls.Definition.Targeting
		if t.Quota > 0 && counts[ls.ID] >= int64(t.Quota) {
			continue
		}
		if ls.segment != nil {
			if key < 0 {
				key, keyErr = s.userKey(ctx, site, v)
			}
			if keyErr != nil {
				return nil, keyErr
			}
			if key == 0 {
				continue // an unknown visitor is in no segment
			}
			in, err := s.segments.Contains(ctx, site, ls.segment, key)
			if errors.Is(err, engine.ErrTimeout) || errors.Is(err, engine.ErrTooExpensive) {
				// The segment costs more than the server allows: the
				// survey is not offered, and the others still are.
				s.log.Warn("survey's segment too costly to check; not offered", "survey", ls.ID, "err", err)
				continue
			}
			if err != nil {
				return nil, err
			}
			if !in {
				continue
			}
		}
		d := &ls.Definition
		out = append(out, Offer{ID: ls.ID, Questions: d.Questions, ThankYou: d.ThankYou, Appearance: d.Appearance,
			Trigger: t.Trigger})
	}
	return out, nil
}

// userKey finds the visitor's user: by user ID, else by anonymous ID; 0
// when neither is known yet.
func (s *Service) userKey(ctx context.Context, site int64, v Visitor) (int64, error) {
	for _, id := range []store.Identity{{Kind: "user", ID: v.UserID}, {Kind: "anonymous", ID: v.AnonymousID}} {
		if id.ID == "" {
			continue
		}
		key, err := s.store.UserKey(ctx, site, id)
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
	}
	return 0, nil
}
