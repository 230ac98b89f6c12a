// Package experiment reads A/B tests: which users were exposed to which
// variant (from an attribute, or from an event with a variant property
// such as the tracker's $experiment_viewed), and how each variant did on
// the experiment's goals against the control — conversion with its
// interval, lift with its interval, p-value, the sample-ratio check — for
// everyone exposed and broken down by segment.
//
// Exposure counts from a user's first exposure within the experiment's
// period, and only goal events from then on count. A user exposed to two
// variants is reported apart and left out of both.
//
// The SQL goes through the segment compiler's dialect, so it runs on
// DuckDB and ClickHouse 18.16.
package experiment

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/apierr"
)

// ExposureEvent is the event the tracker's sightline('experiment', key,
// variant) sends, with properties experiment and variant.
const ExposureEvent = "$experiment_viewed"

// Source says where a user's variant comes from.
type Source struct {
	// Kind is "attribute" (the user attribute Attribute holds the
	// variant) or "event" (events named Event whose property Experiment
	// names this experiment carry it in property Property).
	Kind       string `json:"kind"`
	Attribute  string `json:"attribute,omitempty"`
	Event      string `json:"event,omitempty"`
	Experiment string `json:"experiment,omitempty"`
	Property   string `json:"property,omitempty"`
}

// Goal is what an experiment tries to move.
type Goal struct {
	// Kind is "event" (conversion: the share of exposed users who did the
	// event after exposure), "property" (the sum, per exposed user, of a
	// numeric property of the event after exposure) or "funnel"
	// (conversion: the share of exposed users who went through every
	// step after exposure, the last within Window of the first).
	Kind     string `json:"kind"`
	Name     string `json:"name,omitempty"`
	Event    string `json:"event,omitempty"`
	Property string `json:"property,omitempty"`
	// Funnel is a saved funnel's ID (ins_…), whose steps and window the
	// goal takes when its results are read; or else Steps are the
	// funnel's steps, each a did(…) or visited(…) condition in the
	// segment language, or an event's name, and Window its conversion
	// window (30m, 12h, 7d; 7d by default, at most 90d).
	Funnel string   `json:"funnel,omitempty"`
	Steps  []string `json:"steps,omitempty"`
	Window string   `json:"window,omitempty"`
}

// Variant is one arm, with its planned share of traffic (any unit).
type Variant struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight,omitempty"`
}

// Definition is an experiment.
type Definition struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Source      Source    `json:"source"`
	Variants    []Variant `json:"variants"`
	Control     string    `json:"control"`
	Start       time.Time `json:"start"`
	// End is when the experiment stops counting; zero while it runs.
	End   time.Time `json:"end,omitzero"`
	Goals []Goal    `json:"goals"`
	// Breakdown names segments (text form) the results are also given
	// for.
	Breakdown []string `json:"breakdown,omitempty"`
}

// Normalize fills defaults and checks a definition, returning a 400
// error naming the field at fault.
func (d *Definition) Normalize() error {
	d.Name = strings.TrimSpace(d.Name)
	if d.Name == "" {
		return apierr.Invalid("invalid_experiment", "name", "the experiment needs a name")
	}
	switch d.Source.Kind {
	case "attribute":
		if d.Source.Attribute == "" {
			return apierr.Invalid("invalid_experiment", "source.attribute", "name the attribute that holds the variant")
		}
	case "event", "":
		d.Source.Kind = "event"
		if d.Source.Event == "" {
			d.Source.Event = ExposureEvent
		}
		if d.Source.Property == "" {
			d.Source.Property = "variant"
		}
		if d.Source.Experiment == "" {
			return apierr.Invalid("invalid_experiment", "source.experiment",
				"name the experiment as the exposure events' experiment property has it")
		}
	default:
		return apierr.Invalid("invalid_experiment", "source.kind", "the variant comes from an attribute or an event, not %q", d.Source.Kind)
	}
	if len(d.Variants) < 2 {
		return apierr.Invalid("invalid_experiment", "variants", "an experiment has at least two variants")
	}
	seen := map[string]bool{}
	for i := range d.Variants {
		v := &d.Variants[i]
		if v.Name == "" || seen[v.Name] {
			return apierr.Invalid("invalid_experiment", fmt.Sprintf("variants[%d].name", i), "variant names are unique and not empty")
		}
		seen[v.Name] = true
		if v.Weight < 0 {
			return apierr.Invalid("invalid_experiment", fmt.Sprintf("variants[%d].weight", i), "a weight is not negative")
		}
		if v.Weight == 0 {
			v.Weight = 1
		}
	}
	if d.Control == "" {
		d.Control = d.Variants[0].Name
	}
	if !seen[d.Control] {
		return apierr.Invalid("invalid_experiment", "control", "the control %q is not one of the variants", d.Control)
	}
	if d.Start.IsZero() {
		return apierr.Invalid("invalid_experiment", "start", "the experiment needs a start")
	}
	if !d.End.IsZero() && !d.End.After(d.Start) {
		return apierr.Invalid("invalid_experiment", "end", "the end comes after the start")
	}
	if len(d.Goals) == 0 {
		return apierr.Invalid("invalid_experiment", "goals", "an experiment has at least one goal")
	}
	for i := range d.Goals {
		g := &d.Goals[i]
		field := fmt.Sprintf("goals[%d]", i)
		switch g.Kind {
		case "event", "":
			g.Kind = "event"
			if g.Event == "" {
				return apierr.Invalid("invalid_experiment", field+".event", "an event goal names its event")
			}
		case "property":
			if g.Event == "" || g.Property == "" {
				return apierr.Invalid("invalid_experiment", field+".property", "a property goal names its event and numeric property")
			}
		case "funnel":
			if g.Funnel == "" && (len(g.Steps) < MinSteps || len(g.Steps) > MaxSteps) {
				return apierr.Invalid("invalid_experiment", field+".steps",
					"a funnel goal names a saved funnel (funnel) or has %d to %d steps", MinSteps, MaxSteps)
			}
			if _, err := ParseWindow(g.Window); err != nil {
				return apierr.Invalid("invalid_experiment", field+".window", "%v", err)
			}
		default:
			return apierr.Invalid("invalid_experiment", field+".kind", "a goal is an event, a property or a funnel, not %q", g.Kind)
		}
		if g.Name == "" {
			g.Name = g.Event
			if g.Kind == "property" {
				g.Name = g.Event + "." + g.Property
			}
			if g.Kind == "funnel" {
				g.Name = strings.Join(g.Steps, " → ")
				if g.Funnel != "" && len(g.Steps) == 0 {
					g.Name = g.Funnel
				}
			}
		}
	}
	d.Breakdown = slices.DeleteFunc(d.Breakdown, func(s string) bool { return strings.TrimSpace(s) == "" })
	return nil
}

// The number of steps of a funnel goal, as of an insight's funnel.
const (
	MinSteps = 2
	MaxSteps = 10
)

// ParseWindow reads a funnel goal's window: a whole number of seconds,
// minutes, hours or days (30m, 12h, 7d), at most 90 days; 7 days when s
// is empty, as insights' funnels.
func ParseWindow(s string) (time.Duration, error) {
	if s == "" {
		return 7 * 24 * time.Hour, nil
	}
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}
	unit, ok := units[s[len(s)-1]]
	n, err := strconv.Atoi(s[:len(s)-1])
	const most = 90 * 24 * time.Hour
	if !ok || err != nil || n <= 0 || strconv.Itoa(n) != s[:len(s)-1] || n > int(most/time.Second) || time.Duration(n)*unit > most {
		return 0, fmt.Errorf("a window is a duration such as 30m, 12h or 7d, at most 90d; not %q", s)
	}
	return time.Duration(n) * unit, nil
}

// Parse reads a saved definition.
func Parse(b []byte) (Definition, error) {
	var d Definition
	err := json.Unmarshal(b, &d)
	return d, err
}
