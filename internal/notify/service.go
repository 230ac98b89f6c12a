// Package notify sends alerts: rules that watch a site for new recordings
// of a segment, users entering a segment, survey responses and feedback,
// and deliver messages to Slack and to webhooks signed per Standard
// Webhooks 1.0.
//
// Delivery is as reliable as ingestion. The store records a cause in the
// same transaction as the change that makes it (an applied ingestion
// batch, a recording's first chunk, a completed response, feedback); the
// evaluator turns causes into messages of the outbox and deletes them in
// one transaction; the deliverer sends each message until a 2xx answer,
// with the same webhook-id on every attempt, backing off exponentially with
// jitter for up to 24 hours. A crash at any point loses no alert and makes
// none up; a message may be delivered twice when the crash falls between
// its delivery and the record of it (at least once).
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// Store is what alerts need of storage.
type Store interface {
	store.AlertConfig
	store.AlertOutbox
	Sites(ctx context.Context) []store.Site
	Segment(ctx context.Context, site int64, id string) (store.SavedSegment, error)
	Survey(ctx context.Context, site int64, id string) (store.SurveyRecord, error)
	Response(ctx context.Context, site int64, surveyID, responseID string) (store.SurveyResponse, error)
	Recording(ctx context.Context, site int64, id string, attrs []string) (store.RecordingRow, error)
	FeedbackByID(ctx context.Context, site int64, id string) (store.FeedbackItem, error)
	UserIDs(ctx context.Context, site int64, keys []int64) (map[int64]string, error)
	CurrentAttributes(ctx context.Context, site int64, keys []int64, names []string) (map[int64][]store.AttrState, error)
	AttributeCatalog(ctx context.Context, site int64) ([]store.CatalogKey, error)
}

// Segments evaluates segments (package engine provides it).
type Segments interface {
	Saved(ctx context.Context, site int64, s store.SavedSegment) (segment.Node, error)
	MembersAmong(ctx context.Context, site int64, n segment.Node, keys []int64) (map[int64]bool, error)
	Members(ctx context.Context, site int64, n segment.Node, after int64, limit int, attrs []string) ([]store.Member, error)
}

// Options configure a Service.
type Options struct {
	Network Network
	// PublicURL is the dashboard's address as links in messages use it.
	PublicURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RetryBase is the first retry's delay (default 5 s); each next one is
	// three times longer, at most MaxRetryDelay, with ±25 % jitter.
	RetryBase time.Duration
	// MaxRetryDelay bounds one retry's delay (default 4 h).
	MaxRetryDelay time.Duration
	// RetryFor is how long a message is retried (default 24 h).
	RetryFor time.Duration
	// DisableAfter failed attempts in a row disable a destination
	// (default 10).
	DisableAfter int
	// Timeout bounds one delivery attempt (default 10 s).
	Timeout time.Duration
	// Poll is how often the evaluator and the deliverer look for work
	// without being woken (default 1 s).
	Poll time.Duration
	// ClockCheck is how often "enters a segment" rules are checked for
	// users who entered by the clock alone (default 5 min).
	ClockCheck time.Duration
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 5 * time.Second
	}
	if o.ClockCheck <= 0 {
		o.ClockCheck = 5 * time.Minute
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = 4 * time.Hour
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 24 * time.Hour
	}
	if o.DisableAfter <= 0 {
		o.DisableAfter = 10
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
}

// Service keeps alert configuration, evaluates causes and delivers.
type Service struct {
	store  Store
	segs   Segments
	sealer *Sealer
	opts   Options
	client *http.Client
	log    *slog.Logger

	mu      sync.Mutex // serialises configuration changes
	sending sync.Map   // "site/destination" → *sync.Mutex: one attempt at a time per destination
	wakeEv  chan struct{}
	wakeDel chan struct{}
	// lastClockCheck is when the evaluator last checked the rules the
	// clock may move (see clock.go); only its goroutine uses it.
	lastClockCheck time.Time
}

// New returns a service; call Run to evaluate and deliver.
func New(st Store, segs Segments, sealer *Sealer, opts Options, log *slog.Logger) *Service {
	opts.defaults()
	return &Service{store: st, segs: segs, sealer: sealer, opts: opts, client: opts.Network.Client(opts.Timeout), log: log,
		wakeEv: make(chan struct{}, 1), wakeDel: make(chan struct{}, 1)}
}

// Wake tells the evaluator that causes may be waiting: stores call it
// after committing one, so that an alert leaves within moments.
func (s *Service) Wake() {
	select {
	case s.wakeEv <- struct{}{}:
	default:
	}
}

func (s *Service) wakeDeliverer() {
	select {
	case s.wakeDel <- struct{}{}:
	default:
	}
}

// Run evaluates causes and delivers messages until ctx ends.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.loop(ctx, s.wakeEv, s.evaluateAndCheck) }()
	go func() { defer wg.Done(); s.loop(ctx, s.wakeDel, s.deliverDue) }()
	wg.Wait()
}

// loop runs step when woken or every Poll, and again at once while it
// reports more work.
func (s *Service) loop(ctx context.Context, wake chan struct{}, step func(context.Context) (bool, error)) {
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	for {
		more, err := step(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("alerts", "err", err)
		}
		if more && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// config reads a site's configuration.
func (s *Service) config(ctx context.Context, site int64) (Config, error) {
	var c Config
	b, err := s.store.AlertConfig(ctx, site)
	if err != nil || b == nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("read alert config of site %d: %w", site, err)
	}
	return c, nil
}

// update changes a site's configuration under the service's lock.
func (s *Service) update(ctx context.Context, site int64, fn func(c *Config) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.config(ctx, site)
	if err != nil {
		return err
	}
	if err := fn(&c); err != nil {
		return err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.store.SaveAlertConfig(ctx, site, b, c.watch())
}

// DestinationView is a destination as the API shows it: never its secrets,
// and a Slack URL only as its host.
type DestinationView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	URL       string    `json:"url"`
	Enabled   bool      `json:"enabled"`
	Failures  int       `json:"failures"`
	Disabled  *Disabled `json:"disabled,omitempty"`
	Rotating  bool      `json:"rotating"` // an old secret still signs
	CreatedAt time.Time `json:"created_at"`
}

// Disabled says when and why a destination was disabled.
type Disabled struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

func (s *Service) view(ctx context.Context, site int64, d Destination) (DestinationView, error) {
	v := DestinationView{ID: d.ID, Name: d.Name, Kind: d.Kind, URL: d.URL, CreatedAt: d.CreatedAt, Enabled: true}
	if d.Kind == KindSlack {
		v.URL = "https://" + slackHost + maskedSlackSuffix
	}
	now := s.opts.Now()
	for _, sec := range d.Secrets {
		if !sec.Until.IsZero() && sec.Until.After(now) {
			v.Rotating = true
		}
	}
	st, err := s.store.DestinationState(ctx, site, d.ID)
	if err != nil {
		return v, err
	}
	v.Failures = st.Failures
	if !st.DisabledAt.IsZero() {
		v.Enabled = false
		v.Disabled = &Disabled{At: st.DisabledAt, Reason: st.Reason}
	}
	return v, nil
}

// Destinations lists a site's destinations.
func (s *Service) Destinations(ctx context.Context, site int64) ([]DestinationView, error) {
	c, err := s.config(ctx, site)
	if err != nil {
		return nil, err
	}
	out := []DestinationView{}
	for _, d := range c.Destinations {
		v, err := s.view(ctx, site, d)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// NewDestination is what creating a destination takes.
type NewDestination struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	URL  string `json:"url"`
}

// CreateDestination adds a destination. For a webhook it returns the
// signing secret, which is shown this once.
func (s *Service) CreateDestination(ctx context.Context, site int64, in NewDestination) (DestinationView, string, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > maxName {
		return DestinationView{}, "", apierr.Invalid("invalid_name", "name", "a destination needs a name of 1 to %d characters", maxName)
	}
	if len(in.URL) > maxURL {
		return DestinationView{}, "", apierr.Invalid("invalid_url", "url", "url is longer than %d characters", maxURL)
	}
	if err := s.opts.Network.checkURL(in.URL); err != nil {
		return DestinationView{}, "", apierr.Invalid("invalid_url", "url", "url %s", err.Error())
	}
	d := Destination{ID: auth.NewID("dst_"), Name: in.Name, Kind: in.Kind, URL: in.URL, CreatedAt: s.opts.Now().UTC()}
	var secret string
	switch in.Kind {
	case KindWebhook:
		secret = NewSigningSecret()
		d.Secrets = []SealedSecret{{Sealed: s.sealer.Seal(secret)}}
	case KindSlack:
		if !strings.HasPrefix(in.URL, "https://"+slackHost+slackPathPrefix) && !s.opts.Network.AllowPrivate {
			return DestinationView{}, "", apierr.Invalid("invalid_url", "url",
				"a Slack destination is an incoming-webhook URL: https://%s%s…", slackHost, slackPathPrefix)
		}
		d.URL = s.sealer.Seal(in.URL)
	default:
		return DestinationView{}, "", apierr.Invalid("invalid_kind", "kind", "kind must be webhook or slack")
	}
	err := s.update(ctx, site, func(c *Config) error {
		if len(c.Destinations) >= maxConfigItems {
			return apierr.Invalid("too_many", "destinations", "a site has at most %d destinations", maxConfigItems)
		}
		c.Destinations = append(c.Destinations, d)
		return nil
	})
	if err != nil {
		return DestinationView{}, "", err
	}
	v, err := s.view(ctx, site, d)
	return v, secret, err
}

// RotateSecret gives a webhook destination a new signing secret, shown
// this once; the old one keeps signing beside it (two signatures) for
// overlap, so receivers can switch without losing a message.
func (s *Service) RotateSecret(ctx context.Context, site int64, id string, overlap time.Duration) (string, error) {
	if overlap <= 0 {
		overlap = rotationOverlap
	}
	secret := NewSigningSecret()
	now := s.opts.Now().UTC()
	err := s.update(ctx, site, func(c *Config) error {
		d := c.destination(id)
		if d == nil {
			return errNoDestination(id)
		}
		if d.Kind != KindWebhook {
			return apierr.Invalid("not_webhook", "id", "only webhook destinations have a signing secret")
		}
		kept := []SealedSecret{{Sealed: s.sealer.Seal(secret)}}
		for _, old := range d.Secrets {
			if old.Until.IsZero() {
				kept = append(kept, SealedSecret{Sealed: old.Sealed, Until: now.Add(overlap)})
			}
		}
		d.Secrets = kept
		return nil
	})
	return secret, err
}

func errNoDestination(id string) error {
	return &apierr.Error{Status: http.StatusNotFound, Code: "destination_not_found", Field: "id",
		Message: "no destination " + id + " on this site"}
}

func errNoRule(id string) error {
	return &apierr.Error{Status: http.StatusNotFound, Code: "rule_not_found", Field: "id",
		Message: "no rule " + id + " on this site"}
}

// DeleteDestination removes a destination that no rule uses.
func (s *Service) DeleteDestination(ctx context.Context, site int64, id string) error {
	return s.update(ctx, site, func(c *Config) error {
		if c.destination(id) == nil {
			return errNoDestination(id)
		}
		for _, r := range c.Rules {
			if r.DestinationID == id {
				return &apierr.Error{Status: http.StatusConflict, Code: "destination_in_use", Field: "id",
					Message: "rule " + r.Name + " sends to this destination; delete or change it first"}
			}
		}
		c.Destinations = deleteWhere(c.Destinations, func(d Destination) bool { return d.ID == id })
		return nil
	})
}

// EnableDestination re-enables a destination disabled after failures;
// its waiting messages are sent at once.
func (s *Service) EnableDestination(ctx context.Context, site int64, id string) (DestinationView, error) {
	c, err := s.config(ctx, site)
	if err != nil {
		return DestinationView{}, err
	}
	d := c.destination(id)
	if d == nil {
		return DestinationView{}, errNoDestination(id)
	}
	if err := s.store.EnableDestination(ctx, site, id, s.opts.Now()); err != nil {
		return DestinationView{}, err
	}
	s.wakeDeliverer()
	return s.view(ctx, site, *d)
}

// Rules lists a site's rules.
func (s *Service) Rules(ctx context.Context, site int64) ([]Rule, error) {
	c, err := s.config(ctx, site)
	if err != nil {
		return nil, err
	}
	if c.Rules == nil {
		c.Rules = []Rule{}
	}
	return c.Rules, nil
}

// SaveRule creates a rule (r.ID empty) or replaces one.
func (s *Service) SaveRule(ctx context.Context, site int64, r Rule) (Rule, error) {
	var seg store.SavedSegment
	if r.SegmentID != "" {
		var err error
		if seg, err = s.store.Segment(ctx, site, r.SegmentID); errors.Is(err, store.ErrNotFound) {
			return Rule{}, apierr.Invalid("unknown_segment", "segment_id", "no saved segment %q on this site", r.SegmentID)
		} else if err != nil {
			return Rule{}, err
		}
	}
	if r.Survey != nil && r.Survey.SurveyID != "" {
		if _, err := s.store.Survey(ctx, site, r.Survey.SurveyID); errors.Is(err, store.ErrNotFound) {
			return Rule{}, apierr.Invalid("unknown_survey", "survey.survey_id", "no survey %q on this site", r.Survey.SurveyID)
		} else if err != nil {
			return Rule{}, err
		}
	}
	// An "enters" rule starts from the segment's members now: only users
	// who enter after it was made are announced.
	var snapshot []int64
	var err error
	if r.Trigger == TriggerSegment && r.Enabled && r.SegmentID != "" {
		if snapshot, err = s.members(ctx, site, seg); err != nil {
			return Rule{}, err
		}
	}
	if r.Trigger == TriggerSegment {
		r.MembersOf = definitionHash(seg)
	}
	err = s.update(ctx, site, func(c *Config) error {
		if err := c.validateRule(&r); err != nil {
			return err
		}
		if r.ID == "" {
			if len(c.Rules) >= maxConfigItems {
				return apierr.Invalid("too_many", "rules", "a site has at most %d rules", maxConfigItems)
			}
			r.ID, r.CreatedAt = auth.NewID("rul_"), s.opts.Now().UTC()
			c.Rules = append(c.Rules, r)
			return nil
		}
		old := c.rule(r.ID)
		if old == nil {
			return errNoRule(r.ID)
		}
		r.CreatedAt = old.CreatedAt
		*old = r
		return nil
	})
	if err != nil {
		return Rule{}, err
	}
	if r.Trigger == TriggerSegment {
		if err := s.store.ResetAlertMembers(ctx, r.ID, snapshot); err != nil {
			return Rule{}, err
		}
	}
	return r, nil
}

// members lists a saved segment's members, for an "enters" rule's start.
func (s *Service) members(ctx context.Context, site int64, seg store.SavedSegment) ([]int64, error) {
	n, err := s.segs.Saved(ctx, site, seg)
	if err != nil {
		return nil, err
	}
	var keys []int64
	var after int64
	for {
		page, err := s.segs.Members(ctx, site, n, after, 10_000, nil)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			keys = append(keys, m.Key)
		}
		if len(page) < 10_000 {
			return keys, nil
		}
		after = page[len(page)-1].Key
	}
}

// DeleteRule removes a rule.
func (s *Service) DeleteRule(ctx context.Context, site int64, id string) error {
	err := s.update(ctx, site, func(c *Config) error {
		if c.rule(id) == nil {
			return errNoRule(id)
		}
		c.Rules = deleteWhere(c.Rules, func(r Rule) bool { return r.ID == id })
		return nil
	})
	if err != nil {
		return err
	}
	return s.store.ResetAlertMembers(ctx, id, nil)
}

// Attempts lists a site's delivery attempts, newest first; destination ""
// means all.
func (s *Service) Attempts(ctx context.Context, site int64, destination string, limit int) ([]store.AlertAttempt, error) {
	return s.store.AlertAttempts(ctx, site, destination, limit)
}

func deleteWhere[T any](s []T, del func(T) bool) []T {
	out := s[:0]
	for _, x := range s {
		if !del(x) {
			out = append(out, x)
		}
	}
	return out
}
