package store

import (
	"context"
	"time"
)

// EventName names one event of a site's event catalog: a track event's
// name, or a page or screen view's.
type EventName struct {
	Kind Kind
	Name string
}

// EventInfo is one event of the event catalog.
type EventInfo struct {
	EventName
	Count     int64 // how many were stored
	FirstSeen time.Time
	LastSeen  time.Time // by the events' own timestamps
	Sources   []Source
	// Properties are the event's top-level property keys, by key; nil
	// unless asked for.
	Properties []EventProperty
}

// EventProperty is one top-level property key of an event.
type EventProperty struct {
	Key string
	// Types are the JSON types its values had: string, number, boolean,
	// datetime (a string that reads as an ISO-8601 date), object, array,
	// null.
	Types   []string
	Count   int64    // events that had it
	Samples []string // a few distinct values, cut to 64 characters
}

// EventUsers is how many distinct users did each event, as of a moment.
type EventUsers struct {
	Users map[EventName]int64
	// At is when they were counted; the counts may be that old.
	At time.Time
	// Approximate is set when the counts are estimates (HyperLogLog,
	// about 2% off), not exact.
	Approximate bool
}

// EventCatalog describes the events a site has received: the names and
// properties that segments, recordings filters and survey triggers pick
// from, and that their validation checks names against.
type EventCatalog interface {
	// Events lists the site's events, by kind and name, with their
	// properties when properties is set. It includes every acknowledged
	// event.
	Events(ctx context.Context, siteID int64, properties bool) ([]EventInfo, error)
	// EventUsers counts the distinct users of each event. Counting reads
	// every event, so the answer may be kept a while (see At).
	EventUsers(ctx context.Context, siteID int64) (EventUsers, error)
}
