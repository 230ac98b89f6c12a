package survey_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/survey"
)

// valid is a definition using every feature; cases change one thing.
const valid = `{
  "name": "Q3 NPS",
  "questions": [
    {"id": "score", "type": "nps", "prompt": "How likely are you to recommend us?", "required": true,
     "low_label": "Not likely", "high_label": "Very likely",
     "branching": [{"if": {"question": "score", "op": "gte", "value": 9}, "goto": "love"},
                   {"if": {"question": "score", "op": "in", "value": [7, 8]}, "goto": "end"}]},
    {"id": "why", "type": "single_choice", "prompt": "What let you down?", "options": ["Speed", "Price", "Bugs"],
     "branching": [{"if": {"question": "why", "op": "eq", "value": "Bugs"}, "goto": "bugs"}]},
    {"id": "price", "type": "rating", "prompt": "How fair is the price?", "branching": [{"if": {"question": "price", "op": "lte", "value": 5}, "goto": "end"}]},
    {"id": "bugs", "type": "multiple_choice", "prompt": "Where?", "options": ["Export", "Import", "Reports"]},
    {"id": "love", "type": "text", "prompt": "What do you love?"}
  ],
  "thank_you": {"title": "Thanks!", "message": "We read every answer."},
  "appearance": {"position": "bottom-left", "background": "#fff", "text": "#112233", "accent": "#4F46E5"},
  "targeting": {
    "segment": {"text": "plan = \"pro\""},
    "urls": [{"match": "starts_with", "value": "https://app.example.com/app"}, {"match": "regex", "value": "/reports/[0-9]+$"}],
    "devices": ["desktop", "tablet"],
    "trigger": {"type": "delay", "seconds": 5},
    "frequency": {"once": true, "dismiss_days": 30},
    "sample_percent": 50,
    "quota": 500
  }
}`

// edit returns valid with a JSON value replaced at a dotted path (numbers
// index arrays); a nil value deletes the key.
func edit(t *testing.T, path string, v any) string {
	t.Helper()
	var doc any
	if err := json.Unmarshal([]byte(valid), &doc); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(path, ".")
	cur := doc
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if v == nil {
					delete(c, p)
				} else {
					c[p] = v
				}
			} else {
				if c[p] == nil {
					c[p] = map[string]any{}
				}
				cur = c[p]
			}
		case []any:
			var n int
			for _, ch := range p {
				n = n*10 + int(ch-'0')
			}
			if last {
				c[n] = v
			} else {
				cur = c[n]
			}
		}
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func TestParseValid(t *testing.T) {
	d, err := survey.Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Questions) != 5 || d.Targeting.Trigger.Seconds != 5 || d.Targeting.SamplePercent != 50 {
		t.Fatalf("parsed %+v", d)
	}
	// Defaults fill what a minimal survey leaves out.
	d, err = survey.Parse([]byte(`{"name":"n","questions":[{"id":"q","type":"nps","prompt":"p"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	tg := d.Targeting
	if !tg.Frequency.Once || tg.SamplePercent != 100 || tg.Trigger.Type != "load" || d.Appearance.Position != "bottom-right" ||
		d.Appearance.Accent == "" {
		t.Fatalf("defaults: %+v %+v", tg, d.Appearance)
	}
}

func TestParseInvalid(t *testing.T) {
	long := strings.Repeat("x", 501)
	tests := []struct {
		name, body, field, code string
	}{
		{"not JSON", `{"name":`, "", "invalid_json"},
		{"unknown field", `{"name":"n","colour":"red"}`, "", "invalid_json"},
		{"wrong type", `{"name":"n","questions":"q"}`, "questions", "invalid_json"},
		{"no name", edit(t, "name", ""), "name", "missing_field"},
		{"no questions", edit(t, "questions", []any{}), "questions", "missing_field"},
		{"question without type", edit(t, "questions.0.type", ""), "questions[0].type", "missing_field"},
		{"unknown type", edit(t, "questions.4.type", "essay"), "questions[4].type", "invalid_type"},
		{"bad id", edit(t, "questions.1.id", "a b"), "questions[1].id", "invalid_id"},
		{"reserved id", edit(t, "questions.4.id", "end"), "questions[4].id", "invalid_id"},
		{"duplicate id", edit(t, "questions.3.id", "why"), "questions[3].id", "duplicate_id"},
		{"long prompt", edit(t, "questions.2.prompt", long), "questions[2].prompt", "too_long"},
		{"empty prompt", edit(t, "questions.2.prompt", " "), "questions[2].prompt", "missing_field"},
		{"choice with one option", edit(t, "questions.1.options", []any{"Only"}), "questions[1].options", "invalid_options"},
		{"duplicate option", edit(t, "questions.3.options", []any{"A", "A"}), "questions[3].options[1]", "duplicate_option"},
		{"empty option", edit(t, "questions.3.options", []any{"A", ""}), "questions[3].options[1]", "missing_field"},
		{"options on a score", edit(t, "questions.2.options", []any{"a", "b"}), "questions[2].options", "unexpected_field"},
		{"labels on text", edit(t, "questions.4.low_label", "low"), "questions[4].low_label", "unexpected_field"},
		{"goto unknown", edit(t, "questions.1.branching.0.goto", "nope"), "questions[1].branching[0].goto", "unknown_question"},
		{"goto backwards", edit(t, "questions.1.branching.0.goto", "score"), "questions[1].branching[0].goto", "invalid_goto"},
		{"goto itself", edit(t, "questions.1.branching.0.goto", "why"), "questions[1].branching[0].goto", "invalid_goto"},
		{"if a later question", edit(t, "questions.1.branching.0.if.question", "bugs"), "questions[1].branching[0].if.question", "invalid_question"},
		{"if unknown question", edit(t, "questions.1.branching.0.if.question", "zz"), "questions[1].branching[0].if.question", "unknown_question"},
		{"score out of range", edit(t, "questions.0.branching.0.if.value", 11), "questions[0].branching[0].if.value", "invalid_value"},
		{"score not whole", edit(t, "questions.0.branching.0.if.value", 8.5), "questions[0].branching[0].if.value", "invalid_value"},
		{"rating out of range", edit(t, "questions.2.branching.0.if.value", 0), "questions[2].branching[0].if.value", "invalid_value"},
		{"in needs a list", edit(t, "questions.0.branching.1.if.value", 7), "questions[0].branching[1].if.value", "invalid_value"},
		{"unknown op", edit(t, "questions.0.branching.0.if.op", "gt"), "questions[0].branching[0].if.op", "invalid_op"},
		{"lte on a choice", edit(t, "questions.1.branching.0.if.op", "lte"), "questions[1].branching[0].if.op", "invalid_op"},
		{"eq on an unknown option", edit(t, "questions.1.branching.0.if.value", "Colour"), "questions[1].branching[0].if.value", "invalid_value"},
		{"branch on text", edit(t, "questions.4.branching", []any{map[string]any{"if": map[string]any{"question": "love", "op": "eq", "value": "x"}, "goto": "end"}}),
			"questions[4].branching[0].if.question", "invalid_question"},
		{"bad colour", edit(t, "appearance.accent", "blue"), "appearance.accent", "invalid_colour"},
		{"colour of 4 digits", edit(t, "appearance.text", "#1234"), "appearance.text", "invalid_colour"},
		{"bad position", edit(t, "appearance.position", "top"), "appearance.position", "invalid_value"},
		{"two segment forms", edit(t, "targeting.segment.id", "seg_x"), "targeting.segment", "invalid_segment"},
		{"empty segment", edit(t, "targeting.segment", map[string]any{}), "targeting.segment", "invalid_segment"},
		{"bad url match", edit(t, "targeting.urls.0.match", "ends_with"), "targeting.urls[0].match", "invalid_value"},
		{"bad regex", edit(t, "targeting.urls.1.value", "("), "targeting.urls[1].value", "invalid_regex"},
		{"long regex", edit(t, "targeting.urls.1.value", strings.Repeat("a", 600)), "targeting.urls[1].value", "too_long"},
		{"empty url", edit(t, "targeting.urls.0.value", ""), "targeting.urls[0].value", "missing_field"},
		{"bad device", edit(t, "targeting.devices.1", "watch"), "targeting.devices[1]", "invalid_value"},
		{"duplicate device", edit(t, "targeting.devices.1", "desktop"), "targeting.devices[1]", "duplicate_value"},
		{"bad trigger", edit(t, "targeting.trigger.type", "hover"), "targeting.trigger.type", "invalid_value"},
		{"delay of 0", edit(t, "targeting.trigger.seconds", 0), "targeting.trigger.seconds", "invalid_value"},
		{"event without name", edit(t, "targeting.trigger", map[string]any{"type": "event"}), "targeting.trigger.event", "missing_field"},
		{"scroll over 100", edit(t, "targeting.trigger", map[string]any{"type": "scroll", "percent": 120}), "targeting.trigger.percent", "invalid_value"},
		{"seconds on load", edit(t, "targeting.trigger.type", "load"), "targeting.trigger.seconds", "unexpected_field"},
		{"negative dismiss days", edit(t, "targeting.frequency.dismiss_days", -1), "targeting.frequency.dismiss_days", "invalid_value"},
		{"repeat without days", edit(t, "targeting.frequency.once", false), "targeting.frequency.repeat_days", "invalid_value"},
		{"repeat with once", edit(t, "targeting.frequency.repeat_days", 3), "targeting.frequency.repeat_days", "unexpected_field"},
		{"sample 0", edit(t, "targeting.sample_percent", 0), "targeting.sample_percent", "invalid_value"},
		{"sample over 100", edit(t, "targeting.sample_percent", 101), "targeting.sample_percent", "invalid_value"},
		{"negative quota", edit(t, "targeting.quota", -5), "targeting.quota", "invalid_value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := survey.Parse([]byte(tt.body))
			es, ok := survey.AsErrors(err)
			if !ok {
				t.Fatalf("Parse = %v, want a validation error", err)
			}
			for _, e := range es {
				if e.Field == tt.field && e.Code == tt.code {
					return
				}
			}
			t.Fatalf("errors %v, want %s at %q", es, tt.code, tt.field)
		})
	}
}

func TestTransitions(t *testing.T) {
	tests := []struct {
		from, to survey.Status
		ok       bool
	}{
		{"draft", "live", true}, {"draft", "paused", false}, {"draft", "ended", true},
		{"live", "paused", true}, {"live", "ended", true}, {"live", "draft", false},
		{"paused", "live", true}, {"paused", "ended", true}, {"paused", "draft", false},
		{"ended", "live", false}, {"ended", "paused", false}, {"ended", "draft", false},
	}
	for _, tt := range tests {
		if got := survey.CanMove(tt.from, tt.to); got != tt.ok {
			t.Errorf("%s → %s: %v, want %v", tt.from, tt.to, got, tt.ok)
		}
	}
}

// FuzzParse checks that no definition makes Parse panic, and that what it
// accepts survives a round trip through JSON unchanged.
func FuzzParse(f *testing.F) {
	f.Add(valid)
	f.Add(`{"name":"n","questions":[{"id":"q","type":"rating","prompt":"p","branching":[{"if":{"question":"q","op":"in","value":[1,2]},"goto":"end"}]}]}`)
	f.Add(`{"name":"n","questions":[{"id":"q","type":"single_choice","prompt":"p","options":["a","b"]}],"targeting":{"urls":[{"match":"regex","value":"a(b"}]}}`)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := survey.Parse([]byte(s))
		if err != nil {
			if _, ok := survey.AsErrors(err); !ok {
				t.Fatalf("Parse error is not a validation error: %v", err)
			}
			return
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := survey.Parse(b)
		if err != nil {
			t.Fatalf("a parsed definition does not parse again: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(d2)
		if string(b) != string(b2) {
			t.Fatalf("round trip changed the definition:\n%s\n%s", b, b2)
		}
	})
}
