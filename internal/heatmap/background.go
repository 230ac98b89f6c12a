package heatmap

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// A heatmap's background is the page as a visitor saw it: a full snapshot
// of a page of its group at its device's width, found in the site's
// recordings. Sessions that are recorded have them; for the page groups
// a site lists (store.RecordingSettings.Backgrounds) that no recording
// shows at a device's width, the tracker of a session that is not
// recorded captures one, at most one browser at a time, and the server
// keeps it as a recording of its own (recording.BackgroundHandler).
// docs/heatmaps.md, "Backgrounds", says how often and what it costs.

// Recordings is where backgrounds are found: *recording.Service.
type Recordings interface {
	List(ctx context.Context, site int64, q store.RecordingQuery) ([]store.RecordingRow, error)
	// EventsJSON returns a recording's events as one JSON array, refused
	// beyond max bytes.
	EventsJSON(ctx context.Context, site int64, id string, max int) ([]byte, error)
	Settings(ctx context.Context, site int64) (store.RecordingSettings, error)
}

// Limits of the search for a background.
const (
	// MaxBackgroundCandidates bounds the recordings searched.
	MaxBackgroundCandidates = 20
	// MaxBackgroundEvents bounds the events read from one recording
	// (bytes).
	MaxBackgroundEvents = 64 << 20
)

// How often backgrounds are captured: a page group's background at a
// device is captured again when its newest is older than RefreshAfter;
// the capture one browser is granted is reserved to it for GrantFor, and
// a group found without a background is looked at again after
// RecheckAfter.
const (
	RefreshAfter = 7 * 24 * time.Hour
	GrantFor     = 5 * time.Minute
	RecheckAfter = 10 * time.Minute
)

// Background is where a background is: a full snapshot at an index of a
// recording's events.
type Background struct {
	Recording string    `json:"recording"`
	Index     int       `json:"index"`
	Href      string    `json:"href"`
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	TakenAt   time.Time `json:"taken_at"`
	// Captured is set when the tracker captured it for the heatmap,
	// rather than a session's recording.
	Captured bool `json:"captured"`
}

// Backgrounds finds heatmaps' backgrounds and decides which the tracker
// captures. It is safe for concurrent use.
type Backgrounds struct {
	recs Recordings
	now  func() time.Time
	log  *slog.Logger

	mu sync.Mutex
	// looked holds, by page group and device, when the newest
	// background was taken (zero: none) and when that was looked up.
	looked map[wantKey]lookup
	// granted holds the captures granted to a browser and not taken yet.
	granted map[wantKey]time.Time
}

type wantKey struct {
	site   int64
	group  store.PageGroup
	device string
}

type lookup struct {
	taken, at time.Time
}

// NewBackgrounds returns backgrounds found in recs.
func NewBackgrounds(recs Recordings, now func() time.Time, log *slog.Logger) *Backgrounds {
	if now == nil {
		now = time.Now
	}
	return &Backgrounds{recs: recs, now: now, log: log, looked: map[wantKey]lookup{}, granted: map[wantKey]time.Time{}}
}

// Find returns the newest background of q's page group at q's device
// (any width without one) among the site's MaxBackgroundCandidates
// latest recordings of the group in q's period, those of q's segment
// first, then anyone's; nil when there is none.
func (b *Backgrounds) Find(ctx context.Context, q Query) (*Background, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	bg, err := b.find(ctx, q)
	if err != nil || bg != nil || q.Members == nil {
		return bg, err
	}
	q.Members, q.Exclude = nil, false
	return b.find(ctx, q)
}

func (b *Backgrounds) find(ctx context.Context, q Query) (*Background, error) {
	rq := store.RecordingQuery{From: q.From, To: q.To, Page: pageHint(q), Sort: store.SortDate,
		Limit: MaxBackgroundCandidates, Backgrounds: true}
	if q.Members != nil {
		rq.Members = q.Members
		if q.Exclude {
			// The recordings list takes members only: a comparison's
			// "everyone else" looks at everyone's.
			rq.Members = nil
		}
	}
	rows, err := b.recs.List(ctx, q.Site, rq)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		events, err := b.recs.EventsJSON(ctx, q.Site, row.ID, MaxBackgroundEvents)
		if err != nil {
			return nil, err
		}
		s, err := FindSnapshot(events, q)
		if err != nil || s == nil {
			continue
		}
		return &Background{Recording: row.ID, Index: s.Index, Href: s.Href, Width: s.Width, Height: s.Height,
			TakenAt: time.UnixMilli(s.At).UTC(), Captured: strings.HasPrefix(row.BrowserSession, "bg-")}, nil
	}
	return nil, nil
}

// pageHint is a URL substring every page of q's group holds, for the
// recordings list's page filter ("" when there is none to give).
func pageHint(q Query) string {
	if q.Match == MatchPath || q.Match == MatchExact {
		return q.Page
	}
	return ""
}

// wanted returns the page groups of a site's background list that the
// page at href belongs to.
func (b *Backgrounds) wanted(ctx context.Context, site int64, href string) ([]store.PageGroup, error) {
	st, err := b.recs.Settings(ctx, site)
	if err != nil || !st.Enabled {
		return nil, err
	}
	var out []store.PageGroup
	for _, g := range st.Backgrounds {
		if (Query{Page: g.Page, Match: Match(g.Match)}).Matches(href) {
			out = append(out, g)
		}
	}
	return out, nil
}

// Want reports whether a browser on the page at href, width px wide,
// should capture its background: the page belongs to a group of the
// site's list whose newest background at that device is older than
// RefreshAfter (or missing), and no other browser holds the capture.
// A true answer grants the capture to the caller for GrantFor.
func (b *Backgrounds) Want(ctx context.Context, site int64, href string, width int) (bool, error) {
	if width < 1 {
		return false, nil
	}
	groups, err := b.wanted(ctx, site, href)
	if err != nil {
		return false, err
	}
	device := DeviceOf(width)
	for _, g := range groups {
		k := wantKey{site, g, device}
		now := b.now()
		b.mu.Lock()
		l, ok := b.looked[k]
		granted := now.Before(b.granted[k].Add(GrantFor))
		fresh := ok && !l.taken.IsZero() && now.Sub(l.taken) < RefreshAfter
		look := !granted && !fresh && (!ok || now.Sub(l.at) >= RecheckAfter)
		if look {
			// Looked up by this call: the calls meanwhile are answered no
			// rather than search the recordings too.
			b.looked[k] = lookup{taken: l.taken, at: now}
		}
		b.mu.Unlock()
		if granted || fresh || (ok && l.taken.IsZero() && !look) {
			continue
		}
		if look {
			bg, err := b.find(ctx, Query{Site: site, Page: g.Page, Match: Match(g.Match), Device: device, From: now.Add(-RefreshAfter)})
			if err != nil {
				b.mu.Lock()
				delete(b.looked, k)
				b.mu.Unlock()
				return false, err
			}
			l = lookup{at: now}
			if bg != nil {
				l.taken = bg.TakenAt
			}
		}
		b.mu.Lock()
		b.looked[k] = l
		if !l.taken.IsZero() && now.Sub(l.taken) < RefreshAfter || now.Before(b.granted[k].Add(GrantFor)) {
			b.mu.Unlock()
			continue
		}
		b.granted[k] = now
		b.mu.Unlock()
		return true, nil
	}
	return false, nil
}

// Take is recording.BackgroundCheck: a captured background of the page at
// href, width px wide, is kept when a capture of its group at its device
// was granted; the grant is then used up and the group's background known
// to be fresh.
func (b *Backgrounds) Take(ctx context.Context, site int64, href string, width int) error {
	groups, err := b.wanted(ctx, site, href)
	if err != nil {
		return err
	}
	device := DeviceOf(width)
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, g := range groups {
		k := wantKey{site, g, device}
		if at, ok := b.granted[k]; ok && now.Before(at.Add(GrantFor)) {
			delete(b.granted, k)
			b.looked[k] = lookup{taken: now, at: now}
			return nil
		}
	}
	return &apierr.Error{Status: http.StatusConflict, Code: "background_not_wanted",
		Message: "no background of this page at this width was asked for (GET /t/bg first)"}
}

// ServeWant answers GET /t/bg?k=WRITE_KEY&url=…&width=… for a site whose
// key and origin the tracker checked: {"capture": true} when the browser
// should capture the page's background (Want).
func (b *Backgrounds) ServeWant(w http.ResponseWriter, r *http.Request, site store.Site) {
	v := r.URL.Query()
	width := 0
	if err := json.Unmarshal([]byte(v.Get("width")), &width); err != nil || width < 1 || width > 100_000 {
		apierr.Write(w, b.log, apierr.Invalid("invalid_parameter", "width", "width is the viewport's width in px"))
		return
	}
	href := v.Get("url")
	if href == "" || len(href) > 4096 {
		apierr.Write(w, b.log, apierr.Invalid("invalid_parameter", "url", "url is the page's address"))
		return
	}
	capture, err := b.Want(r.Context(), site.ID, href, width)
	if err != nil {
		apierr.Write(w, b.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	apierr.WriteJSON(w, http.StatusOK, map[string]bool{"capture": capture})
}
