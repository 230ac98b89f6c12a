package openapi

import (
	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/ingest"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
)

// id is an ID as Segment's libraries send one: a string, or a number
// taken as its decimal text.
var id = Schema{"type": []string{"string", "number", "null"}}

// wireContext is a call's context, as ingestion reads it.
var wireContext = Schema{"type": "object", "description": "What Segment's libraries send as context; these fields are read, others ignored.",
	"properties": map[string]Schema{
		"ip": str, "userAgent": str, "locale": str, "timezone": str,
		"page":     Schema{"type": "object", "properties": map[string]Schema{"url": str, "path": str, "title": str, "referrer": str}},
		"campaign": Schema{"type": "object", "properties": map[string]Schema{"name": str, "source": str, "medium": str, "term": str, "content": str}},
	}}

// segmentCall is a call of the Segment HTTP tracking spec, as the
// ingestion endpoints take it (internal/ingest's wireMessage).
var segmentCall = Schema{"type": "object", "description": "A call of the Segment HTTP tracking spec: userId or anonymousId, " +
	"and traits (identify, group), event and properties (track), name and properties (page, screen), groupId (group), " +
	"previousId (alias); messageId, timestamp and context are optional. A refused call is listed in the answer's rejected.",
	"properties": map[string]Schema{
		"type":              d(enum("identify", "track", "page", "screen", "group", "alias"), "In a batch: the call's kind."),
		"userId":            id,
		"anonymousId":       id,
		"groupId":           id,
		"previousId":        id,
		"event":             d(str, "track: the event's name."),
		"name":              d(str, "page, screen: the page's name."),
		"properties":        Schema{"type": []string{"object", "null"}, "description": "The event's properties (free-form)."},
		"traits":            Schema{"type": []string{"object", "null"}, "description": "Attributes to set (free-form: string, number, boolean, or an ISO-8601 date-time string)."},
		"context":           wireContext,
		"timestamp":         d(str, "ISO-8601; when the call happened."),
		"originalTimestamp": str, "sentAt": str,
		"messageId": d(str, "Makes a retried call a duplicate rather than a second message."),
	}}

var batchBody = Schema{"type": "object", "required": []string{"batch"}, "properties": map[string]Schema{
	"batch": Schema{"type": "array", "minItems": 1, "items": segmentCall}, "sentAt": str, "writeKey": str,
	"context": d(wireContext, "Applies to every call of the batch.")}}

var ingestResult = ref("IngestResult")

func init() {
	schemas["IngestResult"] = d(Of(ingest.Response{}), "What happened to each message of an ingestion call: rejected and warnings name a message by its index in the batch.")
}

var ingestErrors = []string{"malformed_json", "malformed_body", "malformed_gzip", "request_too_large", "batch_too_large", "missing_batch",
	"empty_batch", "all_rejected", "overloaded", "shutting_down", "invalid_utf8", "invalid_number", "too_deep"}

func ingestOp(path, summary string, body Schema) Op {
	return Op{Method: "POST", Path: path, Tag: "ingestion", Auth: "writeKey", Summary: summary, Body: body, Result: ingestResult,
		Errors: ingestErrors}
}

var platformOps = []Op{
	{Method: "GET", Path: "/healthz", Tag: "platform", Summary: "Liveness: the process answers.", Result: object(map[string]Schema{"status": enum("ok")})},
	{Method: "GET", Path: "/readyz", Tag: "platform", Summary: "Readiness: the server takes writes and answers reads at once (503 with reasons when not).",
		Result: readiness(enum("ready")), Extra: map[int]Schema{503: readiness(enum("not_ready"))}},
	{Method: "GET", Path: "/metrics", Tag: "platform", Summary: "Prometheus metrics, when a metrics token is configured (Authorization: Bearer METRICS_TOKEN).",
		Result: str, Content: "text/plain", Errors: []string{"unauthorized", "not_found"}},
	{Method: "GET", Path: "/api/v1/openapi.json", Tag: "platform", Summary: "This document.",
		Result: object(map[string]Schema{"openapi": enum("3.1.0"), "info": d(Schema{"type": "object"}, "The API's title, version and description."),
			"paths":      d(Schema{"type": "object"}, "The operations by path (OpenAPI 3.1)."),
			"components": d(Schema{"type": "object"}, "The named schemas, responses and security schemes.")}, "components")},
}

func readiness(status Schema) Schema {
	return object(map[string]Schema{"status": status, "reasons": nullable(arr(str)), "store": Of(store.Health{})})
}

var ingestOps = []Op{
	ingestOp("/v1/identify", "Identify a user and set their attributes (traits).", segmentCall),
	ingestOp("/v1/track", "Record an event.", segmentCall),
	ingestOp("/v1/page", "Record a page view.", segmentCall),
	ingestOp("/v1/screen", "Record a screen view.", segmentCall),
	ingestOp("/v1/group", "Link a user to a company and set its attributes.", segmentCall),
	ingestOp("/v1/alias", "Join a previous identity into a user.", segmentCall),
	ingestOp("/v1/batch", "Several calls at once: {batch: [call…]}. A 2xx answer means every accepted message is on disk.", batchBody),
	ingestOp("/v1/import", "Older libraries' name for /v1/batch.", batchBody),
}

var trackerOps = []Op{
	{Method: "GET", Path: "/t/{file}", Tag: "tracker", Summary: "The tracker script (sightline.js, or its versioned name).", Result: str, Content: "text/javascript",
		NotModified: true, Errors: []string{"not_found"}},
	{Method: "GET", Path: "/t/chunks/{file}", Tag: "tracker", Summary: "A lazily loaded part of the tracker (the recorder).", Result: str, Content: "text/javascript",
		NotModified: true, Errors: []string{"not_found"}},
	{Method: "GET", Path: "/t/config", Tag: "tracker", Auth: "siteKey", Summary: "The site's tracker settings (recording, feedback, surveys).",
		Result: object(map[string]Schema{
			"respect_dnt": d(boolean, "Capture nothing in a browser that sends Do-Not-Track or Global Privacy Control."),
			"keep_params": d(arr(str), "The query parameters sent unscrubbed."),
			"recording":   Of(recording.RecordingConfig{}), "feedback": Of(feedback.Settings{}),
			"surveys": d(boolean, "Whether the site has a live survey (ask /t/surveys then).")}, "recording", "feedback", "surveys")},
	{Method: "OPTIONS", Path: "/t/batch", Tag: "tracker", Summary: "CORS preflight of /t/batch.", Status: 204},
	{Method: "POST", Path: "/t/batch", Tag: "tracker", Auth: "siteKey", Summary: "The tracker's batch of events (text/plain JSON, from the site's allowed origins).",
		Body: batchBody, Result: ingestResult, Errors: ingestErrors},
	{Method: "OPTIONS", Path: "/t/rec", Tag: "tracker", Summary: "CORS preflight of /t/rec.", Status: 204},
	{Method: "POST", Path: "/t/rec", Tag: "tracker", Auth: "siteKey", Summary: "A recording chunk (rrweb events, optionally gzipped).",
		Result: Of(recording.Result{}), Errors: []string{"malformed_gzip", "chunk_too_large", "recording_too_large", "recording_disabled",
			"recording_deleted", "quota_exceeded", "malformed_json", "busy"}},
	{Method: "GET", Path: "/t/bg", Tag: "tracker", Auth: "siteKey",
		Summary: "Whether a browser should capture the heatmap background of its page (url) at its width (width); a yes grants the capture to it for a few minutes.",
		Result:  object(map[string]Schema{"capture": boolean}, "capture"), Errors: []string{"invalid_parameter"}},
	{Method: "POST", Path: "/t/bg", Tag: "tracker", Auth: "siteKey",
		Summary: "A heatmap background the tracker captured: a recording chunk of the page's Meta and FullSnapshot events, after GET /t/bg said yes.",
		Result:  Of(recording.Result{}), Errors: []string{"malformed_gzip", "chunk_too_large", "recording_disabled", "background_not_wanted",
			"invalid_field", "quota_exceeded", "malformed_json", "busy"}},
	{Method: "GET", Path: "/t/surveys", Tag: "tracker", Auth: "siteKey", Summary: "The surveys to offer a visitor on a page.",
		Result: Of([]survey.Offer{}), Errors: []string{"invalid_parameter"}},
	{Method: "POST", Path: "/t/survey", Tag: "tracker", Auth: "siteKey", Summary: "A visitor's (partial or completed) survey response.",
		Body: input(Of(survey.ResponseInput{}), "survey"), Result: object(map[string]Schema{"success": boolean, "response": d(str, "The response's ID: send it again to add answers."),
			"completed": boolean}), Errors: []string{"unknown_survey", "invalid_answer", "invalid_nps", "missing_id", "invalid_id", "malformed_json"}},
	{Method: "POST", Path: "/t/survey/dismiss", Tag: "tracker", Auth: "siteKey", Summary: "A visitor closed a survey.",
		Body: input(Of(survey.DismissInput{}), "survey"), Result: object(map[string]Schema{"success": boolean, "survey": str}),
		Errors: []string{"unknown_survey", "missing_id", "malformed_json"}},
	{Method: "POST", Path: "/t/feedback", Tag: "tracker", Auth: "siteKey", Summary: "Feedback from the feedback tab: a 1–5 rating, a comment.",
		Body: input(Of(feedback.Input{}), "rating"), Result: object(map[string]Schema{"success": boolean, "id": str}),
		Errors: []string{"feedback_disabled", "invalid_rating", "too_long", "missing_id", "malformed_json"}},
}

var (
	me        = Of(account.MeJSON{})
	siteAcc   = Of(account.SiteJSON{})
	role      = enum("owner", "admin", "member", "viewer")
	inviteOut = Of(account.InviteJSON{})
	memberOut = Of(account.MemberJSON{})
)

var accountOps = []Op{
	{Method: "GET", Path: "/api/v1/setup", Tag: "accounts", Summary: "Whether the server still needs its owner.",
		Result: object(map[string]Schema{"needed": boolean})},
	{Method: "POST", Path: "/api/v1/setup", Tag: "accounts", Summary: "Create the owner account (once); signs in.",
		Body: object(map[string]Schema{"email": str, "name": str, "password": str}, "name"), Status: 201, Result: me,
		Errors: []string{"invalid_field", "forbidden", "malformed_json"}},
	{Method: "POST", Path: "/api/v1/session", Tag: "accounts", Summary: "Sign in.",
		Body: object(map[string]Schema{"email": str, "password": str}), Result: me,
		Errors: []string{"invalid_credentials", "rate_limited", "malformed_json"}},
	{Method: "DELETE", Path: "/api/v1/session", Tag: "accounts", Auth: "session", Summary: "Sign out.", Status: 204},
	{Method: "GET", Path: "/api/v1/me", Tag: "accounts", Auth: "session", Summary: "The signed-in account and its sites.", Result: me},
	{Method: "PATCH", Path: "/api/v1/me", Tag: "accounts", Auth: "session", Summary: "Change one's name or password (with the current one).",
		Body: closed(object(map[string]Schema{"name": nullable(str), "password": nullable(str), "current_password": str},
			"name", "password", "current_password")), Result: me, Errors: []string{"invalid_field", "invalid_credentials"}},
	{Method: "GET", Path: "/api/v1/sites", Tag: "accounts", Auth: "session",
		Summary: "The sites the account may see (with a bearer token instead: the token's site).",
		Result:  object(map[string]Schema{"sites": arr(siteAcc)})},
	{Method: "POST", Path: "/api/v1/sites", Tag: "accounts", Auth: "session", Summary: "Create a site (owners and admins).",
		Body:   closed(object(map[string]Schema{"name": Schema{"type": "string", "minLength": 1, "maxLength": 200}, "origins": arr(str)}, "origins")),
		Status: 201, Result: object(map[string]Schema{"site": siteAcc, "write_key": d(str, "The new site's write key.")}),
		Errors: []string{"invalid_field", "forbidden"}},
	{Method: "GET", Path: "/api/v1/accounts", Tag: "accounts", Auth: "session", Summary: "The team: accounts and pending invites.",
		Result: object(map[string]Schema{"accounts": arr(memberOut), "invites": arr(inviteOut)}), Errors: []string{"forbidden"}},
	{Method: "PATCH", Path: "/api/v1/accounts/{id}", Tag: "accounts", Auth: "session", Summary: "Change an account's role or site access.",
		Body:   closed(object(map[string]Schema{"role": nullable(role), "sites": nullable(arr(str))}, "role", "sites")),
		Result: object(map[string]Schema{"account": memberOut}), Errors: []string{"invalid_field", "forbidden", "not_found"}},
	{Method: "DELETE", Path: "/api/v1/accounts/{id}", Tag: "accounts", Auth: "session", Summary: "Remove an account.", Status: 204,
		Errors: []string{"forbidden", "not_found"}},
	{Method: "POST", Path: "/api/v1/invites", Tag: "accounts", Auth: "session", Summary: "Invite someone.",
		Body:   closed(object(map[string]Schema{"email": str, "role": role, "sites": arr(str)}, "sites")),
		Status: 201, Result: object(map[string]Schema{"invite": inviteOut, "url": d(str, "The invitation's link, shown once.")}),
		Errors: []string{"invalid_field", "forbidden", "conflict"}},
	// One path with GET …/{token}: OpenAPI takes paths that differ only
	// in a parameter's name for the same.
	{Method: "DELETE", Path: "/api/v1/invites/{token}", Tag: "accounts", Auth: "session", Summary: "Withdraw an invite (by its ID).", Status: 204,
		Errors: []string{"forbidden", "not_found"}},
	{Method: "GET", Path: "/api/v1/invites/{token}", Tag: "accounts", Summary: "An invite, by its secret token.",
		Result: object(map[string]Schema{"email": str, "role": role}), Errors: []string{"not_found"}},
	{Method: "POST", Path: "/api/v1/invites/{token}/accept", Tag: "accounts", Summary: "Accept an invite: create the account; signs in.",
		Body: object(map[string]Schema{"name": str, "password": str}, "name"), Status: 201, Result: me,
		Errors: []string{"invalid_field", "not_found", "malformed_json"}},
}
