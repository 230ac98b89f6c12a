// Package eventcat describes a site's events the way the event catalog
// keeps them: per event name and kind, how many there were, when, and by
// which way they arrived; per top-level property, the JSON types it had
// and a few sample values. Batch aggregates a run of events in memory so
// that a store adds each batch to its catalog with one small upsert, and
// rebuilds the catalog from stored events with the same code, so that the
// two never disagree.
package eventcat

import (
	"strings"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Limits of what the catalog keeps.
const (
	// MaxSamples is how many distinct sample values a property keeps.
	MaxSamples = 5
	// MaxSampleRunes is how long a sample value may be, in characters;
	// longer ones are cut.
	MaxSampleRunes = 64
	// MaxProperties is how many property keys an event keeps. Keys past it
	// (a site sending IDs as keys) are not catalogued; the events still
	// count.
	MaxProperties = 1000
)

// Types is a set of JSON types a property had.
type Types uint8

// The property types. Their values are stored and must not change.
const (
	String Types = 1 << iota
	Number
	Boolean
	// Datetime is a string that looks like an ISO-8601 date or date-time
	// (see LooksLikeTime).
	Datetime
	Object
	Array
	Null
)

var typeNames = [...]string{"string", "number", "boolean", "datetime", "object", "array", "null"}

// Names returns the names of the types in the set, in a fixed order.
func (t Types) Names() []string {
	out := []string{}
	for i, n := range typeNames {
		if t&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Sources is a set of the ways events arrived, one bit per store.Source.
type Sources uint8

// SourceBit returns the set holding only s.
func SourceBit(s store.Source) Sources { return 1 << s }

// List returns the sources in the set.
func (s Sources) List() []store.Source {
	var out []store.Source
	for _, src := range []store.Source{store.SourceTracker, store.SourceServer} {
		if s&SourceBit(src) != 0 {
			out = append(out, src)
		}
	}
	return out
}

// Catalogued reports whether events of a kind have a place in the catalog:
// track events, page views and screen views, the kinds with a name.
func Catalogued(k store.Kind) bool {
	return k == store.KindTrack || k == store.KindPage || k == store.KindScreen
}

// Key names one event of a site: a name of a kind.
type Key struct {
	Site int64
	Kind store.Kind
	Name string
}

// Event is what a batch (or the catalog) knows of one event.
type Event struct {
	Count       int64
	First, Last time.Time
	Sources     Sources
	Properties  map[string]*Property
}

// Property is what a batch (or the catalog) knows of one property of an
// event.
type Property struct {
	Types   Types
	Count   int64 // events that had it
	Samples []string
}

// Batch aggregates events. The zero Batch is empty and ready.
type Batch struct {
	Events map[Key]*Event
	seen   []string // the keys of the document being added
}

// Len returns how many distinct events the batch holds.
func (b *Batch) Len() int { return len(b.Events) }

// Add adds one event: n occurrences (1 for a single event) of a name of a
// kind with the same properties (a JSON object, or "" for none), between
// first and last, from the given sources. A document that is not a JSON
// object adds no properties.
func (b *Batch) Add(site int64, kind store.Kind, name string, first, last time.Time, n int64, src Sources, props string) {
	if b.Events == nil {
		b.Events = map[Key]*Event{}
	}
	k := Key{Site: site, Kind: kind, Name: name}
	e := b.Events[k]
	if e == nil {
		e = &Event{First: first, Last: last}
		b.Events[k] = e
	}
	e.Count += n
	if first.Before(e.First) {
		e.First = first
	}
	if last.After(e.Last) {
		e.Last = last
	}
	e.Sources |= src
	if props == "" || props == "{}" {
		return
	}
	b.seen = b.seen[:0]
	_ = Scan(props, func(key string, t Types, sample string) {
		for _, s := range b.seen {
			if s == key {
				return // a repeated key: its first value counts
			}
		}
		b.seen = append(b.seen, key)
		p := e.Properties[key]
		if p == nil {
			if len(e.Properties) >= MaxProperties {
				return
			}
			if e.Properties == nil {
				e.Properties = map[string]*Property{}
			}
			p = &Property{}
			e.Properties[strings.Clone(key)] = p
		}
		p.Types |= t
		p.Count += n
		p.AddSample(sample, t)
	})
}

// AddSample keeps v as a sample when there is room and it is new. Null
// values have no sample.
func (p *Property) AddSample(v string, t Types) {
	if t == Null || len(p.Samples) >= MaxSamples {
		return
	}
	v = CutSample(v)
	for _, s := range p.Samples {
		if s == v {
			return
		}
	}
	p.Samples = append(p.Samples, strings.Clone(v))
}

// CutSample cuts a sample value to MaxSampleRunes characters.
func CutSample(v string) string {
	if len(v) <= MaxSampleRunes {
		return v
	}
	n := 0
	for i := range v {
		if n == MaxSampleRunes {
			return v[:i]
		}
		n++
	}
	return v
}
