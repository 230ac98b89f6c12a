// Package gen generates a realistic synthetic product for Sightline to
// analyse: Ledgerly, an accounting SaaS app (the seed's example), with users
// and their companies, twenty typed user attributes with history, and the
// sessions and events of a window of days. It feeds the segment benchmarks
// and `sightline demo`.
//
// The data is shaped so that the seed's segments are neither empty nor
// everyone: activity follows a power law (most users barely come back, a
// few live in the app), plans move from trial to paid or churn, most users
// outside the most active group never finished onboarding, an A/B test
// changes onboarding completion, and high- and low-LTV customers differ in
// plan and tenure.
//
// Output is deterministic for a seed and a Config: the same numbers of
// users, sessions and events and the same values, run after run.
package gen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// Config says how much to generate.
type Config struct {
	// Users is how many people: identified users, and anonymous visitors
	// (a tenth) who never signed up.
	Users int
	// Days is the length of the activity window, ending at Now (90).
	Days int
	// EventsPerUser is the average number of events per person over the
	// window (50). Sessions need about one event per quarter of an hour, so
	// very low values are exceeded.
	EventsPerUser float64
	// Seed makes the output reproducible.
	Seed int64
	// Now ends the window; the zero value means time.Now().
	Now time.Time
}

func (c *Config) defaults() {
	if c.Days <= 0 {
		c.Days = 90
	}
	if c.EventsPerUser <= 0 {
		c.EventsPerUser = 50
	}
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	c.Now = c.Now.UTC().Truncate(time.Second)
}

// Sink receives the generated rows. duckstore.Bulk implements it. Entity
// keys and session IDs are the sink's; the generator only passes them back.
// Errors are sticky: after one, calls do nothing and Err reports it.
type Sink interface {
	NewUser(site int64, at time.Time, userID string, anonIDs ...string) int64
	NewGroup(site int64, at time.Time, groupID string) int64
	Link(site, user, group int64, at time.Time)
	SetAttr(site int64, entity store.Entity, key int64, name string, v attr.Value, at time.Time)
	AttrChange(site int64, entity store.Entity, key int64, name string, v attr.Value, at time.Time)
	Session(site, user int64, s *store.Session) int64
	Event(user, session int64, m *store.Message)
	Err() error
}

// Progress tells how far Run is. It goes through three phases: "people"
// (Done of Total people planned and created), "activity" (days of sessions
// and events written) and "attributes" (people whose attributes are written).
type Progress struct {
	Phase       string
	Done, Total int
	Events      int64 // events written so far
}

// Stats counts what Run generated.
type Stats struct {
	Users     int // identified users
	Anonymous int // visitors without a user ID
	Companies int
	Sessions  int64
	Events    int64
	// AttrValues counts current attribute values, of users and companies;
	// AttrChanges counts history entries, which include the current values.
	AttrValues, AttrChanges int64
}

// Run generates cfg.Users people and their activity into sink, for site,
// and reports progress (which may be nil) as it goes. It stops at the
// first error of the sink or when ctx ends.
func Run(ctx context.Context, sink Sink, site int64, cfg Config, progress func(Progress)) (Stats, error) {
	cfg.defaults()
	if cfg.Users <= 0 {
		return Stats{}, fmt.Errorf("generate: users must be positive, not %d", cfg.Users)
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	g := newGenerator(site, cfg, sink, progress)
	steps := []func(context.Context) error{g.planPeople, g.activity, g.writeAttributes}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return g.stats, err
		}
		if err := sink.Err(); err != nil {
			return g.stats, fmt.Errorf("generate: %w", err)
		}
	}
	return g.stats, nil
}

// generator holds the state of one Run.
type generator struct {
	site     int64
	cfg      Config
	sink     Sink
	r        *rand.Rand
	progress func(Progress)

	now, start int64 // the window, in Unix seconds
	people     []person
	companies  []company
	milestones [][]milestone // by day of the window
	density    float64       // events per session minute beyond the minimum
	stats      Stats

	seq     int64         // message ID counter
	buf     []byte        // scratch for message IDs and properties
	steps   []step        // the session being built
	counted int           // its page views and track events
	msg     store.Message // reused for every event
	pick    pickers       // weighted choices
	sess    store.Session // reused for every session
}

// pickers are the weighted choices the generator makes often.
type pickers struct {
	country, device, referral, returning weighted
	pages                                [numPersonas]weighted
	actions                              [numAppPages]weighted
}

func newGenerator(site int64, cfg Config, sink Sink, progress func(Progress)) *generator {
	g := &generator{
		site:     site,
		cfg:      cfg,
		sink:     sink,
		r:        rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6c65646765726c79)), // "ledgerly"
		progress: progress,
		now:      cfg.Now.Unix(),
	}
	g.start = g.now - int64(cfg.Days)*day
	cw := make([]float64, len(countries))
	for i, c := range countries {
		cw[i] = c.weight
	}
	dw := make([]float64, len(devices))
	for i, d := range devices {
		dw[i] = d.weight
	}
	rw := make([]float64, len(referralSources))
	for i, s := range referralSources {
		rw[i] = s.w
	}
	g.pick.country, g.pick.device, g.pick.referral = newWeighted(cw), newWeighted(dw), newWeighted(rw)
	g.pick.returning = newWeighted(returnWeights)
	for p := range numPersonas {
		g.pick.pages[p] = newWeighted(pageWeights[p][:])
	}
	for i, pg := range appPages {
		if len(pg.actions) == 0 {
			continue
		}
		w := make([]float64, len(pg.actions))
		for j, a := range pg.actions {
			w[j] = a.weight
		}
		g.pick.actions[i] = newWeighted(w)
	}
	return g
}

const (
	minute = 60
	hour   = 60 * minute
	day    = 24 * hour
)

// dayBase is the midnight (UTC) that starts the window's first day.
func (g *generator) dayBase() int64 { return g.start - g.start%day }

// days is how many calendar days the window touches.
func (g *generator) days() int { return int((g.now-g.dayBase())/day) + 1 }

// at turns Unix seconds into a time.
func at(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// report calls progress about every percent of a phase.
func (g *generator) report(phase string, done, total int) {
	if step := max(total/100, 1); done%step == 0 || done == total {
		g.progress(Progress{Phase: phase, Done: done, Total: total, Events: g.stats.Events})
	}
}
