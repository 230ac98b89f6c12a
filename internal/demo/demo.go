// Package demo fills sites with the synthetic products that `sightline
// demo` shows a newcomer: Ledgerly, the accounting SaaS app of the
// generator (internal/gen), with its surveys and their answers, feedback
// and session recordings, and Fernhill, a smaller online shop with
// feedback; each with the saved segments the segmentation guide names.
// Everything goes through the stores' bulk paths and the services' own
// checks (a survey is validated as the API validates it, a segment as the
// API saves it, a recording chunk as an upload is), so that the dashboard
// shows what real traffic would have left.
//
// The answers follow what the people did: users who did not finish
// onboarding, rage-clicked or hit errors are more often detractors and
// give low ratings on the page that failed them; the most active users
// are more often promoters.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/gen"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/survey"
)

// Services are what the demo writes through.
type Services struct {
	DB         *duckstore.DB
	Surveys    *survey.Service
	Feedback   *feedback.Service
	Recordings *recording.Service
	// Segments validates and counts the saved segments.
	Segments *engine.Engine
}

// Config says how much to make.
type Config struct {
	// Users is how many people each product gets.
	Users int
	// Recordings is how many recent sessions get a recording (300).
	Recordings int
	// Seed makes the generated people and activity reproducible.
	Seed int64
	// Now ends the 90-day window; the zero value means time.Now().
	Now time.Time
	// Progress, when not nil, hears how the generator is doing.
	Progress func(gen.Progress)
	// Author signs the saved segments, as the dashboard signs them with
	// the account's name; DefaultAuthor when empty.
	Author string
}

// Summary counts what a site was filled with.
type Summary struct {
	gen.Stats
	Surveys, Responses, Completed int
	Feedback                      int
	Recordings, Chunks            int
	RecordingBytes                int64 // rrweb JSON, before compression
	Segments                      []SegmentSize
	Insights                      map[string]string // saved insights' IDs by name
	Upgrades                      int               // Upgrade Clicked added after the new pricing page
	// How long each part took: generating and answering (one bulk load,
	// committed and checkpointed) and saving the segments, then the
	// recordings.
	Loading, Recording time.Duration
}

// Days is the length of the demo's window.
const Days = 90

// recentDays is how far back recordings go: well within the 30 days they
// are kept.
const recentDays = 14

// heatDays is how far back the heatmap story goes: a heatmap's default
// period.
const heatDays = 30

// FillSaaS fills an empty site with Ledgerly: cfg.Users people and 90 days
// of activity, a live NPS survey and an ended onboarding survey with their
// answers, the feedback tab on with ratings, recordings of recent
// sessions, and saved segments: power users and everyone else,
// rage-clickers, NPS detractors, converted and churned trials, high- and
// low-LTV customers, and both variants of the onboarding test; and the
// onboarding A/B test itself (OnboardingExperiment).
func FillSaaS(ctx context.Context, svc Services, site int64, cfg Config) (Summary, error) {
	cfg.defaults()
	sum, err := fill(ctx, svc, site, cfg, gen.Run, func(ctx context.Context, f *filler, sum *Summary) error {
		st, err := f.fillSurveys(ctx)
		sum.Surveys, sum.Responses, sum.Completed = st.Surveys, st.Responses, st.Completed
		if err != nil {
			return err
		}
		sum.Feedback, err = f.fillFeedback(ctx, 0.006)
		sum.Upgrades = f.fillUpgrades(cfg.Now)
		return err
	}, func(f *filler) []segmentSpec { return saasSegments(f.npsSurvey) }, saasInsights(), saasAnnotations(cfg.Now))
	if err != nil {
		return sum, err
	}
	return sum, saveExperiments(ctx, svc.DB, site, cfg.Now)
}

// FillShop fills an empty site with Fernhill: cfg.Users people and 90
// days of browsing and orders, the feedback tab on with ratings,
// recordings of a third as many recent sessions as FillSaaS makes, and
// saved segments: cart and checkout abandoners, buyers, VIPs and
// rage-clickers at checkout.
func FillShop(ctx context.Context, svc Services, site int64, cfg Config) (Summary, error) {
	cfg.defaults()
	cfg.Recordings /= 3
	return fill(ctx, svc, site, cfg, gen.RunShop, func(ctx context.Context, f *filler, sum *Summary) error {
		var err error
		sum.Feedback, err = f.fillFeedback(ctx, 0.01)
		return err
	}, func(*filler) []segmentSpec { return shopSegments() }, shopInsights(), nil)
}

func (c *Config) defaults() {
	if c.Recordings == 0 {
		c.Recordings = 300
	}
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	c.Now = c.Now.UTC().Truncate(time.Second)
}

type generator func(context.Context, gen.Sink, int64, gen.Config, func(gen.Progress)) (gen.Stats, error)

// fill runs a generator into the site through an observer, then answers
// (surveys, feedback) in the same bulk load, then saves the segments,
// which read what the load committed, then makes the recordings.
func fill(ctx context.Context, svc Services, site int64, cfg Config, run generator,
	answer func(context.Context, *filler, *Summary) error, segments func(*filler) []segmentSpec, insights []insightSpec,
	notes []store.Annotation) (Summary, error) {
	var sum Summary
	t := time.Now()
	b, err := svc.DB.Bulk(ctx)
	if err != nil {
		return sum, err
	}
	start := cfg.Now.Add(-Days * 24 * time.Hour)
	obs := newObserver(b, site, cfg.Now.Add(-recentDays*24*time.Hour))
	obs.heatFrom = cfg.Now.Add(-heatDays * 24 * time.Hour).UnixMilli()
	f := &filler{svc: svc, site: site, obs: obs, bulk: b, start: start,
		r: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x64656d6f))} // "demo"
	sum.Stats, err = run(ctx, obs, site, gen.Config{Users: cfg.Users, Days: Days, EventsPerUser: 50, Seed: cfg.Seed,
		Now: cfg.Now}, cfg.Progress)
	if err == nil {
		f.fillHeatmaps()
		err = answer(ctx, f, &sum)
	}
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sum, err
	}
	if sum.Segments, err = saveSegments(ctx, svc.Segments, svc.DB, site, cfg.Author, segments(f)); err != nil {
		return sum, err
	}
	if sum.Insights, err = saveInsights(ctx, svc, site, cfg.Author, insights, sum.Segments, notes); err != nil {
		return sum, err
	}
	if id, ok := sum.Insights["Checkout funnel"]; ok {
		// The checkout funnel's cart abandoners, as a segment: added to
		// the cart, never started the checkout.
		more, err := saveSegments(ctx, svc.Segments, svc.DB, site, cfg.Author, []segmentSpec{{name: "Cart abandoners (funnel)",
			description: "Visitors who reached step 2 of the Checkout funnel (added a product to the cart) and went no " +
				"further within a day: the guide's abandoned carts, from the funnel itself. Their recordings show the " +
				"coupon field that fails.", text: fmt.Sprintf(`funnel_step(%q) = 2`, id)}})
		if err != nil {
			return sum, err
		}
		sum.Segments = append(sum.Segments, more...)
	}
	sum.Loading = time.Since(t)
	t = time.Now()
	st, err := f.fillRecordings(ctx, cfg.Recordings)
	sum.Recordings, sum.Chunks, sum.RecordingBytes = st.Recordings, st.Chunks, st.BytesRaw
	sum.Recording = time.Since(t)
	return sum, err
}

// filler makes the answers and recordings of one site from what its
// observer kept.
type filler struct {
	svc   Services
	site  int64
	obs   *observer
	bulk  *duckstore.Bulk
	start time.Time // the window's start
	r     *rand.Rand
	seq   int

	npsSurvey string // the NPS survey's ID, once made
}

func (f *filler) nextSeq() int {
	f.seq++
	return f.seq
}

// pickSessions picks each session with the probability weight gives it,
// at most one per person.
func (f *filler) pickSessions(weight func(*visitor, *sessionFact) float64) []*sessionFact {
	var out []*sessionFact
	done := map[int64]bool{}
	for i := range f.obs.sessions {
		sf := &f.obs.sessions[i]
		p := f.obs.people[sf.user]
		if p == nil || done[sf.user] {
			continue
		}
		if w := weight(p, sf); w > 0 && f.r.Float64() < w {
			out = append(out, sf)
			done[sf.user] = true
		}
	}
	return out
}

// within returns a time in session sf about at the given fraction of it.
func (f *filler) within(sf *sessionFact, around float64) time.Time {
	x := min(max(around+(f.r.Float64()-0.5)*0.4, 0), 1)
	return time.UnixMilli(sf.start + int64(x*float64(sf.end-sf.start))).UTC()
}

// clamp returns ms as a time within session sf.
func (f *filler) clamp(sf *sessionFact, ms int64) time.Time {
	return time.UnixMilli(min(max(ms, sf.start), sf.end)).UTC()
}

// lateEvent adds a track event the server records for the visitor (a
// survey response, feedback) to session sf.
func (f *filler) lateEvent(sf *sessionFact, name, messageID string, at time.Time, props map[string]any) {
	b, err := json.Marshal(props)
	if err != nil {
		panic(fmt.Sprintf("BUG: demo event properties: %v", err))
	}
	m := store.Message{SiteID: f.site, Kind: store.KindTrack, Name: name, MessageID: messageID, Timestamp: at,
		ReceivedAt: at, Properties: string(b), Page: store.Page{URL: sf.lastURL, Path: pathOf(sf.lastURL)}}
	f.bulk.LateEvent(sf.user, sf.id, &m)
}

// browserSession is the tracker's session ID (sl_ses) of a generated
// session, which links its survey responses and feedback to its
// recording.
func browserSession(id int64) string { return "demo" + strconv.FormatInt(id, 36) }

func pathOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Path != "" {
		return p.Path
	}
	return "/"
}
