package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// TestEventCatalogThroughHTTP reads the event catalog through the API:
// the list with counts, users, times and sources, one event with its
// properties, an unknown one with a suggestion, and the warnings of a
// segment preview and a recordings filter naming an event the site never
// received.
func TestEventCatalogThroughHTTP(t *testing.T) {
	s := startServer(t, nil)
	batch := []string{
		`{"type":"track","userId":"ann","event":"Export","properties":{"format":"csv","rows":12,"at":"2024-05-01"},"timestamp":"2026-01-02T10:00:00Z","messageId":"e1"}`,
		`{"type":"track","userId":"bob","event":"Export","properties":{"format":"pdf","rows":"many"},"timestamp":"2026-01-03T10:00:00Z","messageId":"e2"}`,
		`{"type":"track","userId":"ann","event":"Export","properties":{},"timestamp":"2026-01-01T10:00:00Z","messageId":"e3"}`,
		`{"type":"track","userId":"ann","event":"Signed Up","messageId":"e4"}`,
		`{"type":"track","userId":"bob","event":"Report/Viewed","properties":{"report":"tax"},"messageId":"e5"}`,
		`{"type":"page","userId":"bob","name":"Pricing","properties":{"path":"/pricing"},"messageId":"p1"}`,
		`{"type":"identify","userId":"cy","traits":{"plan":"pro"},"messageId":"i1"}`,
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}

	var list struct {
		Events []struct {
			Name       string   `json:"name"`
			Kind       string   `json:"kind"`
			Count      int64    `json:"count"`
			Users      *int64   `json:"users"`
			FirstSeen  string   `json:"first_seen"`
			LastSeen   string   `json:"last_seen"`
			Sources    []string `json:"sources"`
			Properties []struct {
				Key     string   `json:"key"`
				Types   []string `json:"types"`
				Count   int64    `json:"count"`
				Samples []string `json:"sample_values"`
			} `json:"properties"`
		} `json:"events"`
		Approximate *bool `json:"users_approximate"`
	}
	s.getJSON(t, "/events", &list)
	if len(list.Events) != 4 {
		t.Fatalf("events = %+v", list.Events)
	}
	ex := list.Events[0] // the most frequent first
	if ex.Name != "Export" || ex.Kind != "track" || ex.Count != 3 || ex.Users == nil || *ex.Users != 2 ||
		ex.FirstSeen != "2026-01-01T10:00:00Z" || ex.LastSeen != "2026-01-03T10:00:00Z" ||
		fmt.Sprint(ex.Sources) != "[server]" || ex.Properties != nil || list.Approximate == nil || *list.Approximate {
		t.Fatalf("Export = %+v (approximate %v)", ex, list.Approximate)
	}
	if p := list.Events[3]; p.Kind != "page" || p.Name != "Pricing" {
		t.Fatalf("page = %+v", p)
	}

	// Names only, for autocompletion: no users, page views left out.
	list.Events, list.Approximate = nil, nil
	s.getJSON(t, "/events?kind=track&users=false&properties=true", &list)
	if len(list.Events) != 3 || list.Events[0].Users != nil || list.Approximate != nil || len(list.Events[0].Properties) != 3 {
		t.Fatalf("track names = %+v", list.Events)
	}

	// One event with its properties, by key.
	var one struct {
		Event struct {
			Name       string `json:"name"`
			Users      int64  `json:"users"`
			Properties []struct {
				Key     string   `json:"key"`
				Types   []string `json:"types"`
				Count   int64    `json:"count"`
				Samples []string `json:"sample_values"`
			} `json:"properties"`
		} `json:"event"`
	}
	s.getJSON(t, "/events/Export", &one)
	props := fmt.Sprint(one.Event.Properties)
	if one.Event.Users != 2 || props != "[{at [datetime] 1 [2024-05-01]} {format [string] 2 [csv pdf]} {rows [string number] 2 [12 many]}]" {
		t.Fatalf("Export = %+v", one.Event)
	}
	s.getJSON(t, "/events/Report%2FViewed", &one)
	if one.Event.Name != "Report/Viewed" || one.Event.Users != 1 {
		t.Fatalf("Report/Viewed = %+v", one.Event)
	}
	s.getJSON(t, "/events/Pricing?kind=page", &one)
	if one.Event.Name != "Pricing" || len(one.Event.Properties) != 1 {
		t.Fatalf("Pricing = %+v", one.Event)
	}

	// An unknown name: 404, with the name that differs only by case.
	code, body := s.get(t, store.ScopeRead, "/events/export")
	e, _ := body["error"].(map[string]any)
	if code != 404 || e["code"] != "event_not_found" || !strings.Contains(fmt.Sprint(e["message"]), `did you mean "Export"?`) {
		t.Fatalf("unknown event: %d %v", code, body)
	}
	if code, _ := s.get(t, store.ScopeRead, "/events?kind=identify"); code != 400 {
		t.Fatalf("kind=identify: %d", code)
	}

	// A segment naming an unknown event previews (size 0) with a warning.
	code, body = s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"text":"did(\"export\", 30d) or did(\"Export\", fromat = \"csv\")"}`)
	warnings, _ := body["warnings"].([]any)
	if code != 200 || body["size"] != 0.0 || len(warnings) != 2 {
		t.Fatalf("preview: %d %v", code, body)
	}
	w0, w1 := warnings[0].(map[string]any), warnings[1].(map[string]any)
	if w0["message"] != `this site has no event "export" yet (names match exactly, case included); did you mean "Export"?` ||
		w0["line"] != 1.0 || w0["column"] != 1.0 || w0["path"] != "conditions[0].name" || fmt.Sprint(w0["suggestions"]) != "[Export]" {
		t.Fatalf("warning = %v", w0)
	}
	if !strings.Contains(fmt.Sprint(w1["message"]), `no property "fromat"; did you mean "format"?`) || w1["path"] != "conditions[1].where[0].key" {
		t.Fatalf("warning = %v", w1)
	}
	// Saving keeps the segment and reports the warning; a known event has none.
	code, body = s.call(t, store.ScopeWrite, "POST", "/segments", `{"name":"x","text":"did(\"export\")"}`)
	if code != 201 || len(body["warnings"].([]any)) != 1 {
		t.Fatalf("save: %d %v", code, body)
	}
	code, body = s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"text":"did(\"Export\", format = \"csv\")"}`)
	if code != 200 || body["size"] != 1.0 || len(body["warnings"].([]any)) != 0 {
		t.Fatalf("preview of a known event: %d %v", code, body)
	}

	// The recordings filter's event gets the same help.
	code, body = s.get(t, store.ScopeRead, "/recordings?event=export")
	warnings, _ = body["warnings"].([]any)
	if code != 200 || len(warnings) != 1 || !strings.Contains(fmt.Sprint(warnings[0]), `did you mean "Export"?`) {
		t.Fatalf("recordings: %d %v", code, body)
	}
	if code, body = s.get(t, store.ScopeRead, "/recordings?event=Export"); code != 200 || len(body["warnings"].([]any)) != 0 {
		t.Fatalf("recordings of a known event: %d %v", code, body)
	}
}
