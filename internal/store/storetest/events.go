package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// EventStore writes events and keeps their catalog.
type EventStore interface {
	store.Writer
	store.EventCatalog
}

// RunEventCatalog runs the suite of the catalog of a site's events.
func RunEventCatalog(t *testing.T, open Opener[EventStore]) {
	t.Run("each event is listed once by kind and name, with counts, times and sources", func(t *testing.T) {
		s := open(t, NewClock().Now)
		server := track("u1", "", "1", "Export", T0.Add(-time.Hour), `{"format":"csv","rows":12}`)
		tracker := track("u2", "", "2", "Export", T0, `{"format":"pdf","rows":"many","at":"2024-05-01","flag":true,"nested":{"a":1},"list":[1],"none":null}`)
		tracker.Source = store.SourceTracker
		other := track("u1", "", "9", "Elsewhere", T0, "")
		other.SiteID = 2
		write(t, s, server, tracker, track("u1", "", "3", "export", T0, ""), track("u1", "", "4", "Billing", T0, ""),
			pageView("u1", "", "5", "/pricing", T0), identify("u1", "", "6", T0, map[string]any{"plan": "pro"}),
			group("u1", "acme", "7", T0, nil), other)
		write(t, s, server) // a retry: counted once
		es, err := s.Events(ctx, 1, false)
		check(t, err, "Events")
		var names []store.EventName
		for _, e := range es {
			names = append(names, e.EventName)
			if e.Properties != nil {
				t.Errorf("%s has properties though none were asked for", e.Name)
			}
		}
		want := []store.EventName{{Kind: store.KindTrack, Name: "Billing"}, {Kind: store.KindTrack, Name: "Export"}, {Kind: store.KindTrack, Name: "export"}, {Kind: store.KindPage, Name: ""}}
		if !slices.Equal(names, want) {
			t.Fatalf("Events = %+v, want %+v (by kind, then name; no identifies, groups or other sites)", names, want)
		}
		export := es[1]
		if export.Count != 2 || !sameTime(export.FirstSeen, T0.Add(-time.Hour)) || !sameTime(export.LastSeen, T0) ||
			!slices.Equal(slices.Sorted(slices.Values(export.Sources)), []store.Source{store.SourceServer, store.SourceTracker}) {
			t.Errorf("Export = %+v", export)
		}

		es, err = s.Events(ctx, 1, true)
		check(t, err, "Events with properties")
		props := map[string]store.EventProperty{}
		var keys []string
		for _, p := range es[1].Properties {
			props[p.Key] = p
			keys = append(keys, p.Key)
		}
		if !slices.Equal(keys, []string{"at", "flag", "format", "list", "nested", "none", "rows"}) {
			t.Fatalf("Export's properties = %q, want them by key", keys)
		}
		for key, want := range map[string]struct {
			types []string
			count int64
		}{
			"format": {[]string{"string"}, 2}, "rows": {[]string{"string", "number"}, 2}, "at": {[]string{"datetime"}, 1},
			"flag": {[]string{"boolean"}, 1}, "nested": {[]string{"object"}, 1}, "list": {[]string{"array"}, 1}, "none": {[]string{"null"}, 1},
		} {
			p := props[key]
			if !slices.Equal(sorted(p.Types), sorted(want.types)) || p.Count != want.count {
				t.Errorf("property %s = %+v, want types %q in %d events", key, p, want.types, want.count)
			}
		}
		if f := props["format"]; !slices.Equal(sorted(f.Samples), []string{"csv", "pdf"}) {
			t.Errorf("format's samples = %q", f.Samples)
		}
		if billing := es[0]; billing.Properties == nil || len(billing.Properties) != 0 {
			t.Errorf("an event without properties: %+v, want an empty list", billing.Properties)
		}
	})

	t.Run("users per event are counted distinct", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s,
			track("u1", "", "1", "Export", T0, ""), track("u1", "", "2", "Export", T0, ""), track("u2", "", "3", "Export", T0, ""),
			track("", "anon-3", "4", "Export", T0, ""), pageView("u1", "", "5", "/", T0), identify("u4", "", "6", T0, nil))
		got, err := s.EventUsers(ctx, 1)
		check(t, err, "EventUsers")
		want := map[store.EventName]int64{{Kind: store.KindTrack, Name: "Export"}: 3, {Kind: store.KindPage, Name: ""}: 1}
		for name, n := range want {
			if g := got.Users[name]; g != n && !(got.Approximate && g >= n*98/100 && g <= n*102/100+1) {
				t.Errorf("users of %+v = %d, want %d", name, g, n)
			}
		}
		if len(got.Users) != len(want) || got.At.IsZero() {
			t.Errorf("EventUsers = %+v", got)
		}
	})
}
