package survey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a definition. They keep the widget usable and the work per
// request bounded.
const (
	MaxQuestions    = 20
	MaxOptions      = 20
	MaxRules        = 20
	MaxURLRules     = 20
	MaxNameLen      = 200
	MaxPromptLen    = 500
	MaxOptionLen    = 200
	MaxLabelLen     = 100
	MaxThankYouLen  = 1000
	MaxURLValueLen  = 2000
	MaxRegexLen     = 500
	MaxEventNameLen = 200
	MaxDays         = 3650
	MaxQuota        = 10_000_000
	MaxDelaySeconds = 3600
	// MaxTextAnswer is the longest text answer, in characters.
	MaxTextAnswer = 5000
)

// FieldError is one problem of a definition or an answer, at a field path
// such as questions[2].options.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Errors lists every problem found. Validation does not stop at the first.
type Errors []FieldError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// AsErrors returns the problems err carries, if it is a validation error.
func AsErrors(err error) (Errors, bool) {
	var es Errors
	if errors.As(err, &es) {
		return es, true
	}
	var fe FieldError
	if errors.As(err, &fe) {
		return Errors{fe}, true
	}
	return nil, false
}

// checker collects problems.
type checker struct {
	errs    Errors
	dropped int // problems beyond maxErrors, counted but not listed
}

// maxErrors bounds the problems one answer lists: a body with ten
// thousand bad keys gets a short answer, not a long one.
const maxErrors = 20

func (c *checker) add(field, code, format string, args ...any) {
	if len(c.errs) >= maxErrors {
		c.dropped++
		return
	}
	c.errs = append(c.errs, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	if c.dropped > 0 {
		return append(c.errs, FieldError{Code: "more_errors",
			Message: fmt.Sprintf("and %d more problems not listed", c.dropped)})
	}
	return c.errs
}

// text checks a text field's length in characters and that it is readable
// (valid UTF-8, no control characters other than line breaks and tabs).
func (c *checker) text(field, s string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(s) == "":
		c.add(field, "missing_field", "%s is required", field)
	case utf8.RuneCountInString(s) > max:
		c.add(field, "too_long", "%s is %d characters; the limit is %d", field, utf8.RuneCountInString(s), max)
	case !readable(s):
		c.add(field, "invalid_text", "%s must be valid UTF-8 without control characters", field)
	}
}

func readable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return false
		}
	}
	return true
}

var (
	idPattern     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	colourPattern = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
)

// ValidColour reports whether s is a colour as #rgb or #rrggbb.
func ValidColour(s string) bool { return colourPattern.MatchString(s) }

// Parse decodes a definition, filling defaults for what it leaves out, and
// validates it. Segment references are checked by the Service, which can
// reach the site's catalog.
func Parse(data []byte) (Definition, error) {
	d := Definition{
		Appearance: Appearance{Position: defaultPosition, Background: defaultBackground, Text: defaultText, Accent: defaultAccent},
		Targeting: Targeting{Trigger: Trigger{Type: TriggerLoad}, Frequency: Frequency{Once: true},
			SamplePercent: 100},
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Definition{}, Errors{{Field: jsonField(err), Code: "invalid_json", Message: "the survey is not valid: " + err.Error()}}
	}
	if dec.More() {
		return Definition{}, Errors{{Code: "invalid_json", Message: "the survey must be one JSON object"}}
	}
	if err := d.Validate(); err != nil {
		return Definition{}, err
	}
	return d, nil
}

// jsonField names the field a decoding error is about, when it says.
func jsonField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	return ""
}

// Validate checks a definition and prepares its branching conditions. It
// reports every problem with its field path.
func (d *Definition) Validate() error {
	var c checker
	c.text("name", d.Name, true, MaxNameLen)
	d.validateQuestions(&c)
	c.text("thank_you.title", d.ThankYou.Title, false, MaxNameLen)
	c.text("thank_you.message", d.ThankYou.Message, false, MaxThankYouLen)
	d.Appearance.validate(&c)
	d.Targeting.validate(&c)
	return c.err()
}

func (d *Definition) validateQuestions(c *checker) {
	switch {
	case len(d.Questions) == 0:
		c.add("questions", "missing_field", "a survey needs at least one question")
		return
	case len(d.Questions) > MaxQuestions:
		c.add("questions", "too_many", "%d questions; the limit is %d", len(d.Questions), MaxQuestions)
		return
	}
	index := map[string]int{}
	for i, q := range d.Questions {
		f := fmt.Sprintf("questions[%d]", i)
		switch {
		case !idPattern.MatchString(q.ID):
			c.add(f+".id", "invalid_id", "a question id is 1 to 64 letters, digits, _ or -")
		case q.ID == End:
			c.add(f+".id", "invalid_id", "%q is reserved for the end of the survey", End)
		default:
			if j, dup := index[q.ID]; dup {
				c.add(f+".id", "duplicate_id", "id %q is also questions[%d]'s", q.ID, j)
			} else {
				index[q.ID] = i
			}
		}
		c.text(f+".prompt", q.Prompt, true, MaxPromptLen)
		c.text(f+".low_label", q.LowLabel, false, MaxLabelLen)
		c.text(f+".high_label", q.HighLabel, false, MaxLabelLen)
		d.validateQuestion(c, f, q)
	}
	for i := range d.Questions {
		d.validateRules(c, i, index)
	}
}

func (d *Definition) validateQuestion(c *checker, f string, q Question) {
	switch q.Type {
	case NPS, Rating, Text:
		if len(q.Options) > 0 {
			c.add(f+".options", "unexpected_field", "a %s question has no options", q.Type)
		}
	case SingleChoice, MultipleChoice:
		if len(q.Options) < 2 || len(q.Options) > MaxOptions {
			c.add(f+".options", "invalid_options", "a choice question needs 2 to %d options, has %d", MaxOptions, len(q.Options))
		}
		seen := map[string]bool{}
		for j, o := range q.Options {
			of := fmt.Sprintf("%s.options[%d]", f, j)
			c.text(of, o, true, MaxOptionLen)
			if seen[o] {
				c.add(of, "duplicate_option", "option %q is listed twice", o)
			}
			seen[o] = true
		}
	case "":
		c.add(f+".type", "missing_field", "a question needs a type: nps, rating, single_choice, multiple_choice or text")
	default:
		c.add(f+".type", "invalid_type", "type %q is not one of nps, rating, single_choice, multiple_choice, text", q.Type)
	}
	if q.Type != NPS && q.Type != Rating && (q.LowLabel != "" || q.HighLabel != "") {
		c.add(f+".low_label", "unexpected_field", "only nps and rating questions have scale labels")
	}
}

// validateRules checks question i's branching: each rule tests this or an
// earlier question and jumps forward, so a survey always ends.
func (d *Definition) validateRules(c *checker, i int, index map[string]int) {
	q := &d.Questions[i]
	if len(q.Branching) > MaxRules {
		c.add(fmt.Sprintf("questions[%d].branching", i), "too_many", "%d rules; the limit is %d", len(q.Branching), MaxRules)
		return
	}
	for j := range q.Branching {
		r := &q.Branching[j]
		f := fmt.Sprintf("questions[%d].branching[%d]", i, j)
		if r.Goto != End {
			k, ok := index[r.Goto]
			switch {
			case r.Goto == "":
				c.add(f+".goto", "missing_field", "goto names a later question or %q", End)
			case !ok:
				c.add(f+".goto", "unknown_question", "no question %q", r.Goto)
			case k <= i:
				c.add(f+".goto", "invalid_goto", "goto must lead to a later question; %q is not after %q", r.Goto, q.ID)
			}
		}
		k, ok := index[r.If.Question]
		switch {
		case r.If.Question == "":
			c.add(f+".if.question", "missing_field", "the condition names the question whose answer it tests")
			continue
		case !ok:
			c.add(f+".if.question", "unknown_question", "no question %q", r.If.Question)
			continue
		case k > i:
			c.add(f+".if.question", "invalid_question", "%q comes later; a rule tests this question or an earlier one", r.If.Question)
			continue
		}
		r.If.prepare(c, f+".if", d.Questions[k])
	}
}

// prepare checks a condition against the question it tests and decodes
// its value.
func (cd *Condition) prepare(c *checker, f string, q Question) {
	vf := f + ".value"
	switch q.Type {
	case Text:
		c.add(f+".question", "invalid_question", "branching on a text answer is not supported")
		return
	case NPS, Rating:
		lo, hi, _ := q.Type.Scale()
		switch cd.Op {
		case "eq", "lte", "gte":
			var n int
			if json.Unmarshal(cd.Value, &n) != nil || n < lo || n > hi {
				c.add(vf, "invalid_value", "%s needs a whole number from %d to %d", cd.Op, lo, hi)
				return
			}
			cd.nums = []int{n}
		case "in":
			var ns []int
			if json.Unmarshal(cd.Value, &ns) != nil || len(ns) == 0 {
				c.add(vf, "invalid_value", "in needs a list of whole numbers from %d to %d", lo, hi)
				return
			}
			for _, n := range ns {
				if n < lo || n > hi {
					c.add(vf, "invalid_value", "%d is outside %d to %d", n, lo, hi)
					return
				}
			}
			cd.nums = ns
		default:
			c.add(f+".op", "invalid_op", "op must be eq, in, lte or gte")
		}
	case SingleChoice, MultipleChoice:
		switch cd.Op {
		case "eq":
			var s string
			if json.Unmarshal(cd.Value, &s) != nil || !contains(q.Options, s) {
				c.add(vf, "invalid_value", "eq needs one of the question's options")
				return
			}
			cd.strs = []string{s}
		case "in":
			var ss []string
			if json.Unmarshal(cd.Value, &ss) != nil || len(ss) == 0 {
				c.add(vf, "invalid_value", "in needs a list of the question's options")
				return
			}
			for _, s := range ss {
				if !contains(q.Options, s) {
					c.add(vf, "invalid_value", "%q is not an option of %q", s, q.ID)
					return
				}
			}
			cd.strs = ss
		case "lte", "gte":
			c.add(f+".op", "invalid_op", "%s compares scores; a choice question takes eq or in", cd.Op)
		default:
			c.add(f+".op", "invalid_op", "op must be eq or in for a choice question")
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (a *Appearance) validate(c *checker) {
	switch a.Position {
	case "bottom-right", "bottom-left", "center":
	default:
		c.add("appearance.position", "invalid_value", "position must be bottom-right, bottom-left or center")
	}
	for _, col := range []struct{ field, v string }{
		{"appearance.background", a.Background}, {"appearance.text", a.Text}, {"appearance.accent", a.Accent},
	} {
		if !ValidColour(col.v) {
			c.add(col.field, "invalid_colour", "%q is not a colour; write #rgb or #rrggbb", col.v)
		}
	}
}

func (t *Targeting) validate(c *checker) {
	if s := t.Segment; s != nil {
		n := 0
		if s.ID != "" {
			n++
		}
		if len(s.Definition) > 0 && string(s.Definition) != "null" {
			n++
		}
		if strings.TrimSpace(s.Text) != "" {
			n++
		}
		if n != 1 {
			c.add("targeting.segment", "invalid_segment", "give exactly one of id (a saved segment), definition or text")
		}
	}
	if len(t.URLs) > MaxURLRules {
		c.add("targeting.urls", "too_many", "%d URL rules; the limit is %d", len(t.URLs), MaxURLRules)
	}
	for i, u := range t.URLs {
		f := fmt.Sprintf("targeting.urls[%d]", i)
		c.text(f+".value", u.Value, true, MaxURLValueLen)
		switch u.Match {
		case MatchExact, MatchContains, MatchStartsWith:
		case MatchRegex:
			if len(u.Value) > MaxRegexLen {
				c.add(f+".value", "too_long", "a regex is limited to %d bytes", MaxRegexLen)
			} else if _, err := regexp.Compile(u.Value); err != nil {
				c.add(f+".value", "invalid_regex", "the regex does not compile: %v", err)
			}
		default:
			c.add(f+".match", "invalid_value", "match must be exact, contains, starts_with or regex")
		}
	}
	seen := map[string]bool{}
	for i, d := range t.Devices {
		f := fmt.Sprintf("targeting.devices[%d]", i)
		switch {
		case d != "desktop" && d != "mobile" && d != "tablet":
			c.add(f, "invalid_value", "device %q is not desktop, mobile or tablet", d)
		case seen[d]:
			c.add(f, "duplicate_value", "device %q is listed twice", d)
		}
		seen[d] = true
	}
	t.Trigger.validate(c)
	t.Frequency.validate(c)
	if !(t.SamplePercent > 0 && t.SamplePercent <= 100) {
		c.add("targeting.sample_percent", "invalid_value", "sample_percent must be above 0 and at most 100")
	}
	if t.Quota < 0 || t.Quota > MaxQuota {
		c.add("targeting.quota", "invalid_value", "quota must be 0 (none) to %d completed responses", MaxQuota)
	}
}

func (t *Trigger) validate(c *checker) {
	const f = "targeting.trigger"
	if t.Type != TriggerDelay && t.Seconds != 0 {
		c.add(f+".seconds", "unexpected_field", "seconds belongs to a delay trigger")
	}
	if t.Type != TriggerEvent && t.Event != "" {
		c.add(f+".event", "unexpected_field", "event belongs to an event trigger")
	}
	if t.Type != TriggerScroll && t.Percent != 0 {
		c.add(f+".percent", "unexpected_field", "percent belongs to a scroll trigger")
	}
	switch t.Type {
	case TriggerLoad, TriggerExitIntent:
	case TriggerDelay:
		if t.Seconds < 1 || t.Seconds > MaxDelaySeconds {
			c.add(f+".seconds", "invalid_value", "a delay is 1 to %d seconds", MaxDelaySeconds)
		}
	case TriggerEvent:
		c.text(f+".event", t.Event, true, MaxEventNameLen)
	case TriggerScroll:
		if t.Percent < 1 || t.Percent > 100 {
			c.add(f+".percent", "invalid_value", "a scroll depth is 1 to 100 percent")
		}
	default:
		c.add(f+".type", "invalid_value", "trigger must be load, delay, event, exit_intent or scroll")
	}
}

func (fr *Frequency) validate(c *checker) {
	const f = "targeting.frequency"
	switch {
	case fr.Once && fr.RepeatDays != 0:
		c.add(f+".repeat_days", "unexpected_field", "repeat_days is for surveys that are not once per user")
	case !fr.Once && (fr.RepeatDays < 1 || fr.RepeatDays > MaxDays):
		c.add(f+".repeat_days", "invalid_value", "a survey asked again needs repeat_days from 1 to %d", MaxDays)
	}
	if fr.DismissDays < 0 || fr.DismissDays > MaxDays {
		c.add(f+".dismiss_days", "invalid_value", "dismiss_days is 0 (never again) to %d", MaxDays)
	}
}
