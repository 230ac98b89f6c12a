package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Slack's Block Kit limits that matter here.
const (
	slackHeaderMax = 150
	slackTextMax   = 3000
	slackFieldMax  = 2000
	slackFields    = 10
)

// slackMessage renders an event as a Slack incoming-webhook message: a
// header saying what happened, who with their key attributes, the details
// (answers, comment, digest lines), buttons to the recording, the profile
// and the response, and the site and rule as context. text is the
// fallback notifications show.
func slackMessage(ev Event) ([]byte, error) {
	d := ev.Data
	blocks := []any{
		map[string]any{"type": "header", "text": plain(clip(headerOf(ev), slackHeaderMax))},
		map[string]any{"type": "section", "text": mrkdwn(clip(d.Summary, slackTextMax))},
	}
	if u := d.User; u != nil {
		who := "*Anonymous visitor*"
		if u.ID != "" {
			who = "*" + escape(u.ID) + "*"
		} else if u.AnonymousID != "" {
			who = "*Anonymous visitor* `" + escape(u.AnonymousID) + "`"
		}
		sec := map[string]any{"type": "section", "text": mrkdwn(clip(who, slackTextMax))}
		if fields := attributeFields(u.Attributes); len(fields) > 0 {
			sec["fields"] = fields
		}
		blocks = append(blocks, sec)
	}
	if detail := detailOf(d); detail != "" {
		blocks = append(blocks, map[string]any{"type": "section", "text": mrkdwn(clip(detail, slackTextMax))})
	}
	var buttons []any
	button := func(text, url, id string) {
		if url != "" {
			buttons = append(buttons, map[string]any{"type": "button", "text": plain(text), "url": url, "action_id": id})
		}
	}
	if r := d.Recording; r != nil {
		button("Watch recording", r.URL, "recording")
	}
	if u := d.User; u != nil {
		button("Open profile", u.URL, "profile")
	}
	if r := d.Response; r != nil {
		button("See response", r.URL, "response")
	}
	if f := d.Feedback; f != nil {
		button("See feedback", f.URL, "feedback")
	}
	if len(buttons) > 0 {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": buttons})
	}
	ctx := "Sightline · " + escape(d.Site.Name)
	if d.Rule != nil {
		ctx += " · rule " + escape(d.Rule.Name)
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []any{mrkdwn(clip(ctx, slackTextMax))}})
	return json.Marshal(map[string]any{"text": clip(d.Summary, slackTextMax), "blocks": blocks})
}

func headerOf(ev Event) string {
	d := ev.Data
	switch ev.Type {
	case TriggerRecording:
		if d.Segment != nil {
			return "New recording: " + d.Segment.Name
		}
		return "New recording"
	case TriggerSegment:
		return "Entered segment: " + d.Segment.Name
	case TriggerResponse:
		if d.Survey != nil {
			return "Survey response: " + d.Survey.Name
		}
		return "Survey response"
	case TriggerFeedback:
		return fmt.Sprintf("Feedback: %d/5", d.Feedback.Rating)
	case TypeDigest:
		return fmt.Sprintf("%d more alerts", d.Digest.Count)
	case TypeTest:
		return "Test from Sightline"
	}
	return ev.Type
}

// detailOf is the event's details as mrkdwn: a response's answers, a
// feedback comment, a digest's lines.
func detailOf(d EventData) string {
	switch {
	case d.Feedback != nil && d.Feedback.Comment != "":
		return "> " + escape(strings.ReplaceAll(d.Feedback.Comment, "\n", "\n> ")) + "\n_on " + escape(d.Feedback.Page) + "_"
	case d.Response != nil:
		var answers map[string]any
		json.Unmarshal(d.Response.Answers, &answers)
		keys := make([]string, 0, len(answers))
		for k := range answers {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		if d.Response.NPS != nil {
			fmt.Fprintf(&b, "*NPS* %d\n", *d.Response.NPS)
		}
		for _, k := range keys {
			fmt.Fprintf(&b, "*%s* %s\n", escape(k), escape(valueText(answers[k])))
		}
		return b.String()
	case d.Digest != nil:
		var b strings.Builder
		for _, it := range d.Digest.Items {
			b.WriteString("• " + escape(it) + "\n")
		}
		if more := d.Digest.Count - len(d.Digest.Items); more > 0 {
			fmt.Fprintf(&b, "…and %d more", more)
		}
		return b.String()
	}
	return ""
}

// attributeFields renders key attributes as Block Kit fields, at most ten.
func attributeFields(attrs map[string]any) []any {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []any
	for _, k := range keys {
		if len(out) == slackFields {
			break
		}
		out = append(out, mrkdwn(clip("*"+escape(k)+"*\n"+escape(valueText(attrs[k])), slackFieldMax)))
	}
	return out
}

func valueText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return "—"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func plain(s string) map[string]any  { return map[string]any{"type": "plain_text", "text": s} }
func mrkdwn(s string) map[string]any { return map[string]any{"type": "mrkdwn", "text": s} }

// escape makes user text literal in mrkdwn: Slack reads &, < and > as
// control characters.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// clip shortens s to at most n characters.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
