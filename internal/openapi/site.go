package openapi

const site = "/api/v1/sites/{site}"

func read(method, path, tag, summary string, result Schema, q ...Param) Op {
	return Op{Method: method, Path: site + path, Tag: tag, Auth: "token", Scope: "read", Summary: summary, Result: result, Query: q}
}

func change(scope, method, path, tag, summary string, body Schema, status int, result Schema) Op {
	return Op{Method: method, Path: site + path, Tag: tag, Auth: "token", Scope: scope, Summary: summary, Body: body, Status: status, Result: result}
}

var (
	limitParam  = Param{Name: "limit", Type: "integer", Description: "The most rows to return."}
	cursorParam = Param{Name: "cursor", Description: "Where the previous page ended."}
)

var siteOps = []Op{
	read("GET", "", "sites", "The site and its settings.", anyObj),
	change("admin", "PATCH", "", "sites", "Change the site's settings (name, origins, Do-Not-Track, key attributes, the query parameters kept and scrubbed, the time zone of its insights).", anyObj, 200, anyObj),
	read("GET", "/install", "sites", "Whether the tracker snippet is live on the site.", anyObj),
	read("GET", "/overview", "sites", "The site's overview: users, sessions, pages, signals.", anyObj),
	change("admin", "GET", "/tokens", "sites", "The site's API tokens (never their secrets).", nil, 200, list("tokens", anyObj)),
	change("admin", "POST", "/tokens", "sites", "Create an API token; its secret is shown once.", anyObj, 201, anyObj),
	change("admin", "DELETE", "/tokens/{id}", "sites", "Revoke an API token.", nil, 204, nil),
	change("admin", "GET", "/write-key", "sites", "The site's write key.", nil, 200, anyObj),
	change("admin", "POST", "/write-key", "sites", "Rotate the site's write key.", nil, 200, anyObj),
	read("GET", "/attributes", "attributes", "The attribute catalog: keys, types, users.", anyObj),
	change("admin", "PATCH", "/attributes/{key}", "attributes", "Change an attribute's type, converting stored values.", anyObj, 200, anyObj),
	read("GET", "/rejections", "attributes", "Values refused for not fitting their key's type.", anyObj),
	read("GET", "/quarantine", "attributes", "Acknowledged messages the database refused, set aside.", anyObj),
	read("GET", "/events", "events", "The event catalog.", anyObj),
	read("GET", "/events/{name}", "events", "One event: properties, users, trend.", anyObj),
}

var userOps = []Op{
	read("GET", "/users", "users", "Search users by ID or attribute.", anyObj, limitParam),
	read("GET", "/users/{id}", "users", "A user's profile: identities, attributes.", anyObj),
	read("GET", "/users/{id}/history", "users", "A user's attribute changes.", anyObj),
	read("GET", "/users/{id}/events", "users", "A user's events, newest first.", anyObj, limitParam),
	read("GET", "/users/{id}/sessions", "users", "A user's sessions.", anyObj, limitParam),
	read("GET", "/users/{id}/segments", "users", "The saved segments a user is in.", anyObj),
	change("write", "POST", "/merge", "users", "Merge two identities into one user.", anyObj, 200, anyObj),
}

var segmentOps = []Op{
	read("POST", "/segments/preview", "segments", "The size and first members of a segment definition.", anyObj),
	read("GET", "/segments", "segments", "Saved segments.", list("segments", anyObj)),
	change("write", "POST", "/segments", "segments", "Save a segment (JSON definition or text form).", anyObj, 201, anyObj),
	read("GET", "/segments/{seg}", "segments", "A saved segment with its size.", anyObj),
	change("write", "PUT", "/segments/{seg}", "segments", "Change a saved segment.", anyObj, 200, anyObj),
	change("write", "DELETE", "/segments/{seg}", "segments", "Delete a saved segment.", nil, 204, nil),
	read("GET", "/segments/{seg}/members", "segments", "A page of a segment's members.", anyObj, limitParam, cursorParam),
	read("GET", "/segments/{seg}/members/{id}", "segments", "Whether a user is a member.", anyObj),
	{Method: "GET", Path: site + "/segments/{seg}/export", Tag: "segments", Auth: "token", Scope: "read",
		Summary: "Every member, as CSV or JSON lines.", Result: str, Content: "text/csv", Also: map[string]Schema{"application/json": anyArr},
		Query: []Param{{Name: "format", Description: "csv or json"}}},
	read("GET", "/segments/{seg}/trend", "segments", "A saved segment's size over time.", anyObj),
	read("POST", "/segments/trend", "segments", "A definition's size over time.", anyObj),
}

var recordingOps = []Op{
	read("GET", "/recordings", "recordings", "Recordings, filtered by segment and session filters.", anyObj, limitParam),
	read("GET", "/recordings/{rec}", "recordings", "A recording with its user and pages.", anyObj),
	read("GET", "/recordings/{rec}/events", "recordings", "A recording's rrweb events, every chunk's in order, as one array (gzipped when accepted).", anyArr),
	change("write", "DELETE", "/recordings/{rec}", "recordings", "Delete a recording.", nil, 200, obj(map[string]Schema{"deleted": boolean})),
	read("GET", "/recording-settings", "recordings", "Recording settings: on, sampling, quota, retention.", anyObj),
	change("admin", "PUT", "/recording-settings", "recordings", "Change the recording settings.", anyObj, 200, anyObj),
}

var surveyOps = []Op{
	read("GET", "/surveys", "surveys", "Surveys.", list("surveys", anyObj)),
	change("write", "POST", "/surveys", "surveys", "Create a survey (a draft).", anyObj, 201, anyObj),
	read("GET", "/surveys/{id}", "surveys", "A survey.", anyObj),
	change("write", "PUT", "/surveys/{id}", "surveys", "Change a survey.", anyObj, 200, anyObj),
	change("write", "DELETE", "/surveys/{id}", "surveys", "Delete a survey and its responses.", nil, 204, nil),
	change("write", "POST", "/surveys/{id}/status", "surveys", "Make a survey live, pause or end it.", anyObj, 200, anyObj),
	read("GET", "/surveys/{id}/results", "surveys", "Per-question results and NPS, optionally by segment.", anyObj),
	read("GET", "/surveys/{id}/responses", "surveys", "A page of responses.", anyObj, limitParam, cursorParam),
	{Method: "GET", Path: site + "/surveys/{id}/responses.csv", Tag: "surveys", Auth: "token", Scope: "read", Summary: "Every response as CSV.",
		Result: str, Content: "text/csv"},
	read("GET", "/feedback-settings", "feedback", "The feedback tab's settings.", anyObj),
	change("admin", "PUT", "/feedback-settings", "feedback", "Change the feedback tab's settings.", anyObj, 200, anyObj),
	read("GET", "/feedback", "feedback", "Feedback, newest first, filtered by segment, page, rating.", anyObj, limitParam, cursorParam),
	read("GET", "/feedback/summary", "feedback", "Feedback counts and average rating by day or week.", anyObj),
}
