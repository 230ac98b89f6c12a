package openapi

import (
	"github.com/sightline/sightline/internal/api"
	"github.com/sightline/sightline/internal/notify"
)

var triggers = enum("recording.new", "segment.entered", "survey.response", "feedback.new")

func init() {
	dest := Of(notify.DestinationView{})
	dest["properties"].(map[string]Schema)["kind"] = enum("webhook", "slack")
	schemas["Destination"] = d(dest, "A destination as the API shows it: never its secrets, a Slack URL only as its host.")
	rule := Of(notify.Rule{})
	rule["properties"].(map[string]Schema)["trigger"] = triggers
	schemas["Rule"] = rule
	schemas["DeliveryAttempt"] = Of(api.AttemptJSON{})
}

var destinationErrors = []string{"destination_not_found"}

var ruleErrors = []string{"invalid_name", "invalid_trigger", "invalid_limit", "invalid_max_rating", "invalid_nps", "invalid_answer",
	"missing_segment", "unknown_segment", "unknown_survey", "unknown_destination", "too_many"}

var newDestination = closed(Schema{"type": "object", "required": []string{"name", "kind", "url"}, "properties": map[string]Schema{
	"name": str, "kind": {"enum": []string{"webhook", "slack"}},
	"url": {"type": "string", "description": "https (http when the server allows it); a public address unless the server allows private ones. Slack: an incoming-webhook URL."}}})

var ruleBody = closed(Schema{"type": "object", "required": []string{"name", "trigger", "destination_id"}, "properties": map[string]Schema{
	"name":           str,
	"trigger":        {"enum": []string{"recording.new", "segment.entered", "survey.response", "feedback.new"}},
	"segment_id":     {"type": "string", "description": "segment.entered: required; others: only users in it."},
	"destination_id": str,
	"hourly_limit":   {"type": "integer", "description": "Messages an hour; the rest are listed in one digest after the hour (default 20)."},
	"enabled":        boolean,
	"survey": {"type": "object", "description": "survey.response's condition.", "properties": map[string]Schema{
		"survey_id": str, "nps": {"enum": []string{"detractor", "passive", "promoter"}}, "question_id": str, "answer": str}},
	"max_rating": {"type": "integer", "minimum": 1, "maximum": 5, "description": "feedback.new: a rating at or below it."}}})

var alertOps = []Op{
	read("GET", "/alerts/destinations", "alerts", "Alert destinations with their delivery state (never their secrets).",
		list("destinations", ref("Destination"))),
	change("admin", "POST", "/alerts/destinations", "alerts", "Add a destination; a webhook's signing secret (whsec_…) is in this answer only.",
		newDestination, 201, Of(api.CreatedDestination{})),
	change("admin", "DELETE", "/alerts/destinations/{id}", "alerts", "Delete a destination no rule uses.", nil, 204, nil),
	change("admin", "POST", "/alerts/destinations/{id}/enable", "alerts", "Re-enable a destination disabled after failures.", nil, 200, ref("Destination")),
	change("admin", "POST", "/alerts/destinations/{id}/rotate-secret", "alerts",
		"A new signing secret, shown once; the old one keeps signing beside it for overlap_hours (default 24).",
		Schema{"type": "object", "properties": map[string]Schema{"overlap_hours": integer}}, 200, obj(map[string]Schema{"secret": str})),
	change("admin", "POST", "/alerts/destinations/{id}/test", "alerts", "Send a test message now and return the attempt.", nil, 200, ref("DeliveryAttempt")),
	read("GET", "/alerts/rules", "alerts", "Alert rules.", list("rules", ref("Rule"))),
	change("admin", "POST", "/alerts/rules", "alerts", "Create a rule.", ruleBody, 201, ref("Rule")),
	change("admin", "PUT", "/alerts/rules/{id}", "alerts", "Replace a rule.", ruleBody, 200, ref("Rule")),
	change("admin", "DELETE", "/alerts/rules/{id}", "alerts", "Delete a rule.", nil, 204, nil),
	read("GET", "/alerts/deliveries", "alerts", "The delivery log, newest first.", list("deliveries", ref("DeliveryAttempt")),
		limitParam, Param{Name: "destination", Description: "Only this destination's attempts."}),
}
