package survey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// Store is what the Service needs of storage.
type Store interface {
	store.Surveys
	store.SurveyResponses
	UserKey(ctx context.Context, site int64, id store.Identity) (int64, error)
}

// Segments evaluates targeting segments; *engine.Engine is one.
type Segments interface {
	Prepare(ctx context.Context, site int64, def engine.Definition, selfID string) (segment.Node, error)
	Contains(ctx context.Context, site int64, n segment.Node, userKey int64) (bool, error)
	MembersAmong(ctx context.Context, site int64, n segment.Node, keys []int64) (map[int64]bool, error)
}

// Service manages surveys and decides which visitor is offered which.
type Service struct {
	store    Store
	segments Segments
	log      *slog.Logger
	now      func() time.Time

	mu    sync.RWMutex
	sites map[int64]*siteSurveys // live surveys by site, loaded on demand
	gen   uint64                 // counts changes, so a load that raced one is not kept

	hist history
}

// New returns a Service. now is the clock (time.Now when nil); tests move
// it to check frequency windows.
func New(st Store, seg Segments, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, segments: seg, log: log, now: now, sites: map[int64]*siteSurveys{},
		hist: history{sites: map[int64]*siteHistory{}}}
}

// Now is the Service's clock.
func (s *Service) Now() time.Time { return s.now().UTC() }

// siteSurveys is a site's live surveys, ready to match.
type siteSurveys struct {
	live []*liveSurvey
}

// liveSurvey is a live survey with its rules compiled.
type liveSurvey struct {
	Survey
	urls    []urlMatcher
	segment segment.Node // nil: everyone
}

// Errors the Service returns, as API errors with stable codes.
var (
	ErrNotFound = &apierr.Error{Status: http.StatusNotFound, Code: "survey_not_found", Field: "survey",
		Message: "no such survey on this site"}
	ErrNotLive = &apierr.Error{Status: http.StatusConflict, Code: "survey_not_live", Field: "survey",
		Message: "the survey is not live; it takes no answers"}
)

// decode reads a stored survey.
func decode(r store.SurveyRecord) (Survey, error) {
	d, err := Parse(r.Definition)
	if err != nil {
		return Survey{}, fmt.Errorf("stored survey %s is unreadable: %w", r.ID, err)
	}
	return Survey{ID: r.ID, SiteID: r.SiteID, Status: Status(r.Status), Definition: d,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}, nil
}

// Get returns a survey of a site.
func (s *Service) Get(ctx context.Context, site int64, id string) (Survey, error) {
	r, err := s.store.Survey(ctx, site, id)
	if errors.Is(err, store.ErrNotFound) {
		return Survey{}, ErrNotFound
	}
	if err != nil {
		return Survey{}, err
	}
	return decode(r)
}

// List returns a site's surveys, newest first.
func (s *Service) List(ctx context.Context, site int64) ([]Survey, error) {
	rs, err := s.store.ListSurveys(ctx, site)
	if err != nil {
		return nil, err
	}
	out := make([]Survey, 0, len(rs))
	for _, r := range rs {
		sv, err := decode(r)
		if err != nil {
			return nil, err
		}
		out = append(out, sv)
	}
	return out, nil
}

// check parses a definition and validates its segment against the site.
func (s *Service) check(ctx context.Context, site int64, body []byte) (Definition, []byte, error) {
	d, err := Parse(body)
	if err != nil {
		return Definition{}, nil, err
	}
	if _, err := s.segmentNode(ctx, site, d.Targeting.Segment); err != nil {
		return Definition{}, nil, err
	}
	canonical, err := json.Marshal(d)
	if err != nil {
		return Definition{}, nil, fmt.Errorf("encode survey: %w", err)
	}
	return d, canonical, nil
}

// segmentNode prepares a targeting segment; nil ref means everyone.
func (s *Service) segmentNode(ctx context.Context, site int64, ref *SegmentRef) (segment.Node, error) {
	if ref == nil {
		return nil, nil
	}
	def := engine.Definition{JSON: ref.Definition, Text: ref.Text}
	if ref.ID != "" {
		if !idPattern.MatchString(ref.ID) {
			return nil, Errors{{Field: "targeting.segment.id", Code: "invalid_segment", Message: "no such saved segment"}}
		}
		def = engine.Definition{Text: `in_segment("` + ref.ID + `")`}
	}
	n, err := s.segments.Prepare(ctx, site, def, "")
	if errors.Is(err, engine.ErrInvalid) {
		return nil, &apierr.Error{Status: http.StatusBadRequest, Code: segment.Code(err), Field: "targeting.segment",
			Message: err.Error(), Details: segment.Problems(err)}
	}
	return n, err
}

// Create stores a new survey as a draft.
func (s *Service) Create(ctx context.Context, site int64, body []byte) (Survey, error) {
	d, canonical, err := s.check(ctx, site, body)
	if err != nil {
		return Survey{}, err
	}
	r, err := s.store.CreateSurvey(ctx, store.SurveyRecord{SiteID: site, Name: d.Name, Status: string(StatusDraft),
		Definition: canonical})
	if err != nil {
		return Survey{}, err
	}
	return decode(r)
}

// Update replaces a survey's definition. A live survey must be paused
// first, so that no visitor answers a survey that changes under them; an
// ended one cannot change.
func (s *Service) Update(ctx context.Context, site int64, id string, body []byte) (Survey, error) {
	if _, err := s.Get(ctx, site, id); err != nil {
		return Survey{}, err
	}
	d, canonical, err := s.check(ctx, site, body)
	if err != nil {
		return Survey{}, err
	}
	r, err := s.store.UpdateSurvey(ctx, store.SurveyRecord{ID: id, SiteID: site, Name: d.Name, Definition: canonical},
		[]string{string(StatusDraft), string(StatusPaused)})
	if errors.Is(err, store.ErrConflict) {
		return Survey{}, &apierr.Error{Status: http.StatusConflict, Code: "survey_not_editable", Field: "status",
			Message: "only draft and paused surveys can be edited; pause a live survey first (an ended one stays as it was)"}
	}
	if err != nil {
		return Survey{}, err
	}
	s.invalidate(site)
	return decode(r)
}

// SetStatus moves a survey to another status, if the move is allowed.
func (s *Service) SetStatus(ctx context.Context, site int64, id string, to Status) (Survey, error) {
	if !to.Valid() {
		return Survey{}, apierr.Invalid("invalid_value", "status", "status must be draft, live, paused or ended")
	}
	cur, err := s.Get(ctx, site, id)
	if err != nil {
		return Survey{}, err
	}
	if cur.Status == to {
		return cur, nil
	}
	if !CanMove(cur.Status, to) {
		return Survey{}, &apierr.Error{Status: http.StatusConflict, Code: "invalid_transition", Field: "status",
			Message: fmt.Sprintf("a %s survey cannot become %s", cur.Status, to)}
	}
	if to == StatusLive {
		// The segment may have changed since the survey was saved.
		if _, err := s.segmentNode(ctx, site, cur.Definition.Targeting.Segment); err != nil {
			return Survey{}, err
		}
	}
	r, err := s.store.SetSurveyStatus(ctx, site, id, string(cur.Status), string(to))
	if errors.Is(err, store.ErrConflict) {
		return Survey{}, &apierr.Error{Status: http.StatusConflict, Code: "invalid_transition", Field: "status",
			Message: "the survey's status changed meanwhile; read it again"}
	}
	if err != nil {
		return Survey{}, err
	}
	s.invalidate(site)
	return decode(r)
}

// Delete deletes a survey with its responses.
func (s *Service) Delete(ctx context.Context, site int64, id string) error {
	err := s.store.DeleteSurvey(ctx, site, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err == nil {
		s.invalidate(site)
		s.forget(site)
	}
	return err
}

// HasLive reports whether a site has a live survey (for the tracker's
// configuration: without one it need not ask).
func (s *Service) HasLive(ctx context.Context, site int64) (bool, error) {
	ss, err := s.live(ctx, site)
	if err != nil {
		return false, err
	}
	return len(ss.live) > 0, nil
}

func (s *Service) invalidate(site int64) {
	s.mu.Lock()
	delete(s.sites, site)
	s.gen++
	s.mu.Unlock()
}

// live returns a site's live surveys, loading them once after each change.
func (s *Service) live(ctx context.Context, site int64) (*siteSurveys, error) {
	s.mu.RLock()
	ss, gen := s.sites[site], s.gen
	s.mu.RUnlock()
	if ss != nil {
		return ss, nil
	}
	rs, err := s.store.LiveSurveys(ctx, site)
	if err != nil {
		return nil, err
	}
	ss = &siteSurveys{}
	for _, r := range rs {
		sv, err := decode(r)
		if err != nil {
			s.log.Error("live survey skipped", "survey", r.ID, "err", err)
			continue
		}
		ls := &liveSurvey{Survey: sv}
		if ls.urls, err = compileURLRules(sv.Definition.Targeting.URLs); err != nil {
			s.log.Error("live survey skipped", "survey", r.ID, "err", err)
			continue
		}
		if ls.segment, err = s.segmentNode(ctx, site, sv.Definition.Targeting.Segment); err != nil {
			var invalid *apierr.Error
			if !errors.As(err, &invalid) {
				return nil, err // the database failed: try again next time
			}
			// A saved segment deleted or no longer valid: offering the
			// survey to everyone instead would be wrong.
			s.log.Warn("live survey's segment is invalid; not offered", "survey", r.ID, "err", err)
			continue
		}
		ss.live = append(ss.live, ls)
	}
	// A change committed while loading may be missing from what was
	// read: keep the list only when nothing changed meanwhile.
	s.mu.Lock()
	if s.gen == gen {
		s.sites[site] = ss
	}
	s.mu.Unlock()
	return ss, nil
}
