package demo

import (
	"encoding/json"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/gen"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// observer passes what a generator makes on to the bulk load and keeps
// what the demo's surveys, feedback and recordings are made from: who each
// person is, their sessions, the trouble they ran into, and every event of
// the recent sessions (the ones recordings are made for).
type observer struct {
	*duckstore.Bulk
	site        int64
	recentFrom  int64 // ms: sessions starting from here keep their events
	people      map[int64]*visitor
	sessions    []sessionFact
	recent      map[int64][]event // events of recent sessions, by session
	lastSession int64             // the session whose events arrive now
	heatFrom    int64             // ms: page views of the heatmap story from here (heatmaps.go)
	heatViews   []heatView
	heatSignals int
}

var _ gen.Sink = (*observer)(nil)

func newObserver(b *duckstore.Bulk, site int64, recentFrom time.Time) *observer {
	return &observer{Bulk: b, site: site, recentFrom: recentFrom.UnixMilli(), people: map[int64]*visitor{},
		recent: map[int64][]event{}}
}

// visitor is a generated person as the demo's answers need them.
type visitor struct {
	userID, anonID string
	persona, plan  string
	onboarded      bool
	sessions       int32
	rageClicks     int32
	errors         int32
	activeDays     map[int32]bool // days since the epoch with a session
	ltv            float64        // the shop's lifetime_value
	vip            bool
}

// sessionFact is what the demo keeps of every generated session.
type sessionFact struct {
	id, user         int64
	start, end       int64 // ms
	pages, events    int32
	rage, dead, errs int32
	device           string
	lastURL          string // the last page viewed
	trouble          *event // the first rage click, dead click or error, if any
}

// event is a generated event as the recordings and feedback need it.
type event struct {
	at       int64 // ms
	kind     store.Kind
	name     string
	url      string
	path     string
	selector string // signals: the element
	x, y     int    // signals: where on the page
}

// NewUser records who a person is.
func (o *observer) NewUser(site int64, at time.Time, userID string, anonIDs ...string) int64 {
	key := o.Bulk.NewUser(site, at, userID, anonIDs...)
	v := &visitor{userID: userID, activeDays: map[int32]bool{}}
	if len(anonIDs) > 0 {
		v.anonID = anonIDs[0]
	}
	o.people[key] = v
	return key
}

// SetAttr records the attributes the answers depend on.
func (o *observer) SetAttr(site int64, entity store.Entity, key int64, name string, v attr.Value, at time.Time) {
	o.Bulk.SetAttr(site, entity, key, name, v, at)
	p := o.people[key]
	if entity != store.EntityUser || p == nil {
		return
	}
	switch name {
	case "persona":
		p.persona = v.Str
	case "plan":
		p.plan = v.Str
	case "onboarding_completed":
		p.onboarded = v.Bool
	case "lifetime_value":
		p.ltv = v.Num
	case "vip":
		p.vip = v.Bool
	}
}

// Session records a session.
func (o *observer) Session(site, user int64, s *store.Session) int64 {
	id := o.Bulk.Session(site, user, s)
	f := sessionFact{id: id, user: user, start: s.Start.UnixMilli(), end: s.End.UnixMilli(), pages: int32(s.Pages),
		events: int32(s.Events), rage: int32(s.Signals.RageClicks), dead: int32(s.Signals.DeadClicks),
		errs: int32(s.Signals.Errors), device: s.Context.DeviceType}
	o.sessions = append(o.sessions, f)
	o.lastSession = id
	if p := o.people[user]; p != nil {
		p.sessions++
		p.rageClicks += f.rage
		p.errors += f.errs
		p.activeDays[int32(f.start/int64(24*time.Hour/time.Millisecond))] = true
	}
	return id
}

// Event records the page of each event and keeps the events of recent
// sessions and the first signal of every session.
func (o *observer) Event(user, session int64, m *store.Message) {
	if session == o.lastSession && len(o.sessions) > 0 {
		o.heat(user, session, m, o.sessions[len(o.sessions)-1].device)
	}
	o.Bulk.Event(user, session, m)
	if session != o.lastSession || len(o.sessions) == 0 {
		return // not a generated session's event
	}
	f := &o.sessions[len(o.sessions)-1]
	if m.Kind == store.KindPage {
		f.lastURL = m.Page.URL
	}
	signal := m.Kind == store.KindTrack && len(m.Name) > 0 && m.Name[0] == '$'
	if !signal && f.start < o.recentFrom {
		return
	}
	e := event{at: m.Timestamp.UnixMilli(), kind: m.Kind, name: m.Name, url: m.Page.URL, path: m.Page.Path}
	if signal {
		var p struct {
			Selector string  `json:"selector"`
			X        float64 `json:"page_x"`
			Y        float64 `json:"page_y"`
		}
		json.Unmarshal([]byte(m.Properties), &p) // the generator's own JSON
		e.selector, e.x, e.y = p.Selector, int(p.X), int(p.Y)
		if f.trouble == nil && (m.Name == store.EventRageClick || m.Name == store.EventDeadClick || m.Name == store.EventError) {
			t := e
			f.trouble = &t
		}
	}
	if f.start >= o.recentFrom {
		o.recent[session] = append(o.recent[session], e)
	}
}
