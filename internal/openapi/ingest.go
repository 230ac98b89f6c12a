package openapi

// segmentCall is a call of the Segment HTTP tracking spec, as the
// ingestion endpoints take it.
var segmentCall = Schema{"type": "object", "description": "A call of the Segment HTTP tracking spec: userId or anonymousId, " +
	"and traits (identify, group), event and properties (track), name and properties (page, screen), groupId (group), " +
	"previousId (alias); messageId, timestamp and context are optional."}

var ingestResult = ref("IngestResult")

var platformOps = []Op{
	{Method: "GET", Path: "/healthz", Tag: "platform", Summary: "Liveness: the process answers.", Result: obj(map[string]Schema{"status": str})},
	{Method: "GET", Path: "/readyz", Tag: "platform", Summary: "Readiness: the server takes writes and answers reads at once (503 with reasons when not).",
		Result: anyObj},
	{Method: "GET", Path: "/metrics", Tag: "platform", Summary: "Prometheus metrics, when a metrics token is configured (Authorization: Bearer METRICS_TOKEN).",
		Result: str, Content: "text/plain"},
	{Method: "GET", Path: "/api/v1/openapi.json", Tag: "platform", Summary: "This document.", Result: anyObj},
}

var ingestOps = []Op{
	{Method: "POST", Path: "/v1/identify", Tag: "ingestion", Auth: "writeKey", Summary: "Identify a user and set their attributes (traits).", Body: segmentCall, Result: ingestResult},
	{Method: "POST", Path: "/v1/track", Tag: "ingestion", Auth: "writeKey", Summary: "Record an event.", Body: segmentCall, Result: ingestResult},
	{Method: "POST", Path: "/v1/page", Tag: "ingestion", Auth: "writeKey", Summary: "Record a page view.", Body: segmentCall, Result: ingestResult},
	{Method: "POST", Path: "/v1/screen", Tag: "ingestion", Auth: "writeKey", Summary: "Record a screen view.", Body: segmentCall, Result: ingestResult},
	{Method: "POST", Path: "/v1/group", Tag: "ingestion", Auth: "writeKey", Summary: "Link a user to a company and set its attributes.", Body: segmentCall, Result: ingestResult},
	{Method: "POST", Path: "/v1/alias", Tag: "ingestion", Auth: "writeKey", Summary: "Join a previous identity into a user.", Body: segmentCall, Result: ingestResult},
	{Method: "POST", Path: "/v1/batch", Tag: "ingestion", Auth: "writeKey", Summary: "Several calls at once: {batch: [call…]}. A 2xx answer means every accepted message is on disk.",
		Body: obj(map[string]Schema{"batch": {"type": "array", "items": segmentCall}}), Result: ingestResult},
	{Method: "POST", Path: "/v1/import", Tag: "ingestion", Auth: "writeKey", Summary: "Older libraries' name for /v1/batch.",
		Body: obj(map[string]Schema{"batch": {"type": "array", "items": segmentCall}}), Result: ingestResult},
}

var trackerOps = []Op{
	{Method: "GET", Path: "/t/{file}", Tag: "tracker", Summary: "The tracker script (sightline.js, or its versioned name).", Result: str, Content: "text/javascript",
		NotModified: true},
	{Method: "GET", Path: "/t/chunks/{file}", Tag: "tracker", Summary: "A lazily loaded part of the tracker (the recorder).", Result: str, Content: "text/javascript",
		NotModified: true},
	{Method: "GET", Path: "/t/config", Tag: "tracker", Auth: "siteKey", Summary: "The site's tracker settings (recording, feedback, surveys).", Result: anyObj},
	{Method: "OPTIONS", Path: "/t/batch", Tag: "tracker", Summary: "CORS preflight of /t/batch.", Status: 204},
	{Method: "POST", Path: "/t/batch", Tag: "tracker", Auth: "siteKey", Summary: "The tracker's batch of events (text/plain JSON, from the site's allowed origins).", Result: anyObj},
	{Method: "OPTIONS", Path: "/t/rec", Tag: "tracker", Summary: "CORS preflight of /t/rec.", Status: 204},
	{Method: "POST", Path: "/t/rec", Tag: "tracker", Auth: "siteKey", Summary: "A recording chunk (rrweb events, optionally gzipped).", Result: anyObj},
	{Method: "GET", Path: "/t/surveys", Tag: "tracker", Auth: "siteKey", Summary: "The surveys to offer a visitor on a page.", Result: anyArr},
	{Method: "POST", Path: "/t/survey", Tag: "tracker", Auth: "siteKey", Summary: "A visitor's (partial or completed) survey response.", Result: anyObj},
	{Method: "POST", Path: "/t/survey/dismiss", Tag: "tracker", Auth: "siteKey", Summary: "A visitor closed a survey.", Result: anyObj},
	{Method: "POST", Path: "/t/feedback", Tag: "tracker", Auth: "siteKey", Summary: "Feedback from the feedback tab: a 1–5 rating, a comment.", Result: anyObj},
}

var accountOps = []Op{
	{Method: "GET", Path: "/api/v1/setup", Tag: "accounts", Summary: "Whether the server still needs its owner.", Result: anyObj},
	{Method: "POST", Path: "/api/v1/setup", Tag: "accounts", Summary: "Create the owner account (once).", Body: anyObj, Status: 201, Result: anyObj},
	{Method: "POST", Path: "/api/v1/session", Tag: "accounts", Summary: "Sign in.", Body: anyObj, Result: anyObj},
	{Method: "DELETE", Path: "/api/v1/session", Tag: "accounts", Auth: "session", Summary: "Sign out.", Status: 204},
	{Method: "GET", Path: "/api/v1/me", Tag: "accounts", Auth: "session", Summary: "The signed-in account and its sites.", Result: anyObj},
	{Method: "PATCH", Path: "/api/v1/me", Tag: "accounts", Auth: "session", Summary: "Change one's name or password.", Body: anyObj, Result: anyObj},
	{Method: "GET", Path: "/api/v1/sites", Tag: "accounts", Auth: "session", Summary: "The sites the account may see.", Result: anyObj},
	{Method: "POST", Path: "/api/v1/sites", Tag: "accounts", Auth: "session", Summary: "Create a site (owners and admins).", Body: anyObj, Status: 201, Result: anyObj},
	{Method: "GET", Path: "/api/v1/accounts", Tag: "accounts", Auth: "session", Summary: "The team: accounts and pending invites.", Result: anyObj},
	{Method: "PATCH", Path: "/api/v1/accounts/{id}", Tag: "accounts", Auth: "session", Summary: "Change an account's role or site access.", Body: anyObj, Result: anyObj},
	{Method: "DELETE", Path: "/api/v1/accounts/{id}", Tag: "accounts", Auth: "session", Summary: "Remove an account.", Status: 204},
	{Method: "POST", Path: "/api/v1/invites", Tag: "accounts", Auth: "session", Summary: "Invite someone.", Body: anyObj, Status: 201, Result: anyObj},
	// One path with GET …/{token}: OpenAPI takes paths that differ only
	// in a parameter's name for the same.
	{Method: "DELETE", Path: "/api/v1/invites/{token}", Tag: "accounts", Auth: "session", Summary: "Withdraw an invite (by its ID).", Status: 204},
	{Method: "GET", Path: "/api/v1/invites/{token}", Tag: "accounts", Summary: "An invite, by its secret token.", Result: anyObj},
	{Method: "POST", Path: "/api/v1/invites/{token}/accept", Tag: "accounts", Summary: "Accept an invite: create the account.", Body: anyObj, Status: 201, Result: anyObj},
}
