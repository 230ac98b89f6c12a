package store

import (
	"context"
	"time"
)

// Period is the span of time [From, To).
type Period struct {
	From, To time.Time
}

// ActivityCounts counts what a site's users did in a period: their
// track, page and screen messages (identifies and the like say who users
// are, not what they did, and count in none of these).
type ActivityCounts struct {
	// Users are the distinct users with at least one such message in the
	// period: identified users and anonymous visitors alike, identities
	// merged into one user counting once (as segments count users).
	Users int64
	// Sessions are the sessions that started in the period.
	Sessions int64
	// Events are the messages of those sessions.
	Events int64
}

// DayActivity is a site's activity on one day of its time zone.
type DayActivity struct {
	Day time.Time // local midnight, in the zone asked for
	ActivityCounts
}

// Activity is a site's activity in a period and in the period before it,
// with the period's days in a time zone.
type Activity struct {
	Current, Previous ActivityCounts
	// Days are the local days the current period touches, oldest first,
	// every one of them present, also with nothing in it.
	Days []DayActivity
}

// PageViews are the page views of one page (by path) in a period.
type PageViews struct {
	Path  string
	Views int64
	Users int64
	// PreviousViews are the views in the period before.
	PreviousViews int64
}

// TopPages are the most viewed pages of a period.
type TopPages struct {
	Pages []PageViews
	// UsersApproximate is set when the users are estimates (HyperLogLog,
	// about 2% off), as on sites with a million events or more.
	UsersApproximate bool
}

// FrustrationSpot is a page where the browser tracker saw rage and dead
// clicks in a period.
type FrustrationSpot struct {
	Path       string
	RageClicks int64
	DeadClicks int64
	Users      int64 // who rage- or dead-clicked there
}

// SignalRecordings counts the recordings that show a page (a URL
// containing it) and have at least one rage click, or one dead click,
// as the recordings list filters them with page= and signal=.
type SignalRecordings struct {
	RageClicks int64
	DeadClicks int64
}

// Overview answers the questions of a site's overview page. Every answer
// includes all data acknowledged before the call.
type Overview interface {
	// Activity counts users, sessions and events in cur and prev, and in
	// each day of cur in the zone loc (midnight to midnight local time,
	// 23 or 25 hours across a change of daylight saving time; UTC when
	// loc is nil).
	Activity(ctx context.Context, siteID int64, cur, prev Period, loc *time.Location) (Activity, error)
	// TopPages lists the most viewed pages of cur, the most views first,
	// with their views in prev.
	TopPages(ctx context.Context, siteID int64, cur, prev Period, limit int) (TopPages, error)
	// FrustrationSpots lists the pages with the most rage and dead clicks
	// in p, the most first.
	FrustrationSpots(ctx context.Context, siteID int64, p Period, limit int) ([]FrustrationSpot, error)
	// SignalRecordings counts, for each page path, the recordings started
	// since from that show it with rage or dead clicks.
	SignalRecordings(ctx context.Context, siteID int64, from time.Time, paths []string) (map[string]SignalRecordings, error)
	// NewestRecordingStart returns when the nth newest recording of the
	// site started (one with a chunk); zero when it has fewer.
	NewestRecordingStart(ctx context.Context, siteID int64, n int) (time.Time, error)
	// NPSCounts counts the NPS answers of a survey's responses started
	// in p, by score (0 to 10).
	NPSCounts(ctx context.Context, siteID int64, surveyID string, p Period) ([11]int64, error)
}
