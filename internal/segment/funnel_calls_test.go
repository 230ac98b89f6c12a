package segment_test

import (
	"testing"

	"github.com/sightline/sightline/internal/segment"
)

// TestFunnelStepForms checks funnel_step and completed_funnel through the
// text and JSON forms and validation.
func TestFunnelStepForms(t *testing.T) {
	for _, c := range []struct{ text, json string }{
		{`funnel_step("ins_a") = 2`, `{"type":"funnel_step","id":"ins_a","op":"=","value":2}`},
		{`funnel_step("ins_a") >= 4 and plan = "pro"`, ``},
		{`not (funnel_step("ins_b") < 1)`, ``},
		{`completed_funnel("ins_a")`, `{"type":"completed_funnel","id":"ins_a"}`},
		{`not completed_funnel("ins_c") and plan = "pro"`, ``},
	} {
		n, err := segment.Parse(c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.text, err)
		}
		if got := segment.Format(n); got != c.text {
			t.Errorf("format %s = %s", c.text, got)
		}
		data, err := segment.MarshalNode(n)
		if err != nil {
			t.Fatal(err)
		}
		if c.json != "" && string(data) != c.json {
			t.Errorf("JSON of %s = %s, want %s", c.text, data, c.json)
		}
		back, err := segment.ParseJSON(data)
		if err != nil || segment.Format(back) != c.text {
			t.Errorf("through JSON %s: %v, %v", data, back, err)
		}
	}
	for _, bad := range []string{`funnel_step("ins_a")`, `funnel_step() = 1`, `funnel_step("ins_a") = 1.5`, `funnel_step("") = 1`,
		`completed_funnel("")`, `completed_funnel("ins_a") = 2`, `completed_funnel()`} {
		n, err := segment.Parse(bad)
		if err == nil {
			err = segment.Validate(n, nil)
		}
		if err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
