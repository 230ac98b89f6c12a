package api

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

func (a *API) registerEvents(mux *http.ServeMux, p string) {
	mux.Handle("GET "+p+"/events", a.auth(store.ScopeRead, a.listEvents))
	mux.Handle("GET "+p+"/events/{name}", a.auth(store.ScopeRead, a.getEvent))
}

// eventJSON is one event of the catalog as the API shows it.
type eventJSON struct {
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	Count      int64          `json:"count"`
	Users      *int64         `json:"users,omitempty"`
	FirstSeen  time.Time      `json:"first_seen"`
	LastSeen   time.Time      `json:"last_seen"`
	Sources    []string       `json:"sources"`
	Properties []propertyJSON `json:"properties,omitempty"`
}

type propertyJSON struct {
	Key     string   `json:"key"`
	Types   []string `json:"types"`
	Count   int64    `json:"count"`
	Samples []string `json:"sample_values"`
}

func eventOut(e store.EventInfo, users *store.EventUsers) eventJSON {
	out := eventJSON{Name: e.Name, Kind: e.Kind.String(), Count: e.Count, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen,
		Sources: make([]string, 0, len(e.Sources))}
	for _, s := range e.Sources {
		out.Sources = append(out.Sources, s.String())
	}
	if users != nil {
		n := users.Users[e.EventName] // 0 when the event came after the count
		out.Users = &n
	}
	if e.Properties != nil {
		out.Properties = make([]propertyJSON, 0, len(e.Properties))
		for _, p := range e.Properties {
			out.Properties = append(out.Properties, propertyJSON{Key: p.Key, Types: p.Types, Count: p.Count, Samples: p.Samples})
		}
	}
	return out
}

// eventKind reads ?kind=: track (the default for one event), page or
// screen; "" for every kind when all is set.
func eventKind(r *http.Request, all bool) (store.Kind, error) {
	s := r.URL.Query().Get("kind")
	if s == "" && all {
		return 0, nil
	}
	if s == "" {
		return store.KindTrack, nil
	}
	switch k := store.ParseKind(s); k {
	case store.KindTrack, store.KindPage, store.KindScreen:
		return k, nil
	}
	return 0, apierr.Invalid("invalid_parameter", "kind", "kind is track, page or screen")
}

// boolParam reads an optional true/false query parameter.
func boolParam(r *http.Request, name string, def bool) (bool, error) {
	switch r.URL.Query().Get(name) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, apierr.Invalid("invalid_parameter", name, "%s is true or false", name)
}

// usersOf counts users per event when asked (?users=, default true).
func (a *API) usersOf(r *http.Request, site store.Site) (*store.EventUsers, error) {
	want, err := boolParam(r, "users", true)
	if err != nil || !want {
		return nil, err
	}
	u, err := a.store.EventUsers(r.Context(), site.ID)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func usersFields(out map[string]any, u *store.EventUsers) {
	if u != nil {
		out["users_counted_at"] = u.At
		out["users_approximate"] = u.Approximate
	}
}

// listEvents answers GET /events: the event catalog, the most frequent
// first, filtered by ?kind=, with each event's properties when
// ?properties=true and without counting users when ?users=false (for
// autocompletion, which needs names only).
func (a *API) listEvents(w http.ResponseWriter, r *http.Request, site store.Site) error {
	kind, err := eventKind(r, true)
	if err != nil {
		return err
	}
	props, err := boolParam(r, "properties", false)
	if err != nil {
		return err
	}
	events, err := a.store.Events(r.Context(), site.ID, props)
	if err != nil {
		return err
	}
	users, err := a.usersOf(r, site)
	if err != nil {
		return err
	}
	slices.SortStableFunc(events, func(x, y store.EventInfo) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Name, y.Name))
	})
	list := make([]eventJSON, 0, len(events))
	for _, e := range events {
		if kind == 0 || e.Kind == kind {
			list = append(list, eventOut(e, users))
		}
	}
	out := map[string]any{"events": list}
	usersFields(out, users)
	apierr.WriteJSON(w, http.StatusOK, out)
	return nil
}

// getEvent answers GET /events/{name}: one event (?kind=, track by
// default) with its properties. An unknown name is a 404 that suggests
// the nearest known ones.
func (a *API) getEvent(w http.ResponseWriter, r *http.Request, site store.Site) error {
	kind, err := eventKind(r, false)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	events, err := a.store.Events(r.Context(), site.ID, true)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(events, func(e store.EventInfo) bool { return e.Kind == kind && e.Name == name })
	if i < 0 {
		msg, _ := unknownEvent(name, kind, events)
		return &apierr.Error{Status: http.StatusNotFound, Code: "event_not_found", Field: "name", Message: msg}
	}
	users, err := a.usersOf(r, site)
	if err != nil {
		return err
	}
	out := map[string]any{"event": eventOut(events[i], users)}
	usersFields(out, users)
	apierr.WriteJSON(w, http.StatusOK, out)
	return nil
}

// namesOf lists the names of the events of one kind.
func namesOf(events []store.EventInfo, kind store.Kind) []string {
	var names []string
	for _, e := range events {
		if e.Kind == kind {
			names = append(names, e.Name)
		}
	}
	return names
}

// unknownEvent says that a site has no such event, with the nearest
// known names, which it returns too.
func unknownEvent(name string, kind store.Kind, events []store.EventInfo) (string, []string) {
	what := "event"
	if kind != store.KindTrack {
		what = kind.String()
	}
	s := segment.Suggest(name, namesOf(events, kind))
	return fmt.Sprintf("this site has no %s %q yet", what, name) + segment.Hint(name, s), s
}

// segmentWarnings lists the warnings of a valid segment: events and
// property keys the site has not seen.
func (a *API) segmentWarnings(ctx context.Context, site store.Site, n segment.Node) ([]segment.Warning, error) {
	events, err := a.store.Events(ctx, site.ID, true)
	if err != nil {
		return nil, err
	}
	cat := segment.StaticEventCatalog{}
	for _, e := range events {
		if e.Kind != store.KindTrack {
			continue
		}
		keys := make([]string, len(e.Properties))
		for i, p := range e.Properties {
			keys[i] = p.Key
		}
		cat[e.Name] = keys
	}
	w := segment.Warnings(n, cat)
	if w == nil {
		w = []segment.Warning{}
	}
	return w, nil
}
