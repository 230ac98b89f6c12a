package openapi

import (
	"github.com/sightline/sightline/internal/api"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

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
	kindParam   = Param{Name: "kind", Description: "user (the default): the path's id is a user ID; anonymous: an anonymous ID."}
)

// attrValue is an attribute's current value with its type.
var attrValue = Of(api.AttrJSON{})

// attrMap is a user's or company's attributes by key: a free-form map,
// since the keys are the site's.
var attrMap = Schema{"type": "object", "description": "Attributes by key (the site's own keys).", "additionalProperties": attrValue}

var warnings = arr(Of(segment.Warning{}))

var siteUpdate = Of(store.SiteUpdate{})

var siteOps = []Op{
	read("GET", "", "sites", "The site and its settings.", Of(store.Site{})),
	errs(change("admin", "PATCH", "", "sites", "Change the site's settings (name, origins, Do-Not-Track, key attributes, the query parameters kept and scrubbed, the time zone of its insights).",
		siteUpdate, 200, Of(store.Site{})), "empty_update", "keep_param", "scrub_param", "invalid_field", "invalid_time_zone"),
	read("GET", "/install", "sites", "Whether the tracker snippet is live on the site.", object(map[string]Schema{
		"last_event_at": nullable(when), "last_page_url": str,
		"last_source": d(str, "How the last message arrived (the browser tracker or the server API); empty when none did."),
		"events_24h":  d(integer, "Messages that arrived in the last 24 hours.")})),
	errs(read("GET", "/overview", "sites", "The site's overview: users, sessions, pages, signals.", Of(api.OverviewJSON{}),
		Param{Name: "days", Type: "integer", Description: "The period: 7, 30 or 90 days."}), "invalid_parameter"),
	change("admin", "GET", "/tokens", "sites", "The site's API tokens (never their secrets).", nil, 200,
		object(map[string]Schema{"tokens": arr(Of(store.Token{}))})),
	errs(change("admin", "POST", "/tokens", "sites", "Create an API token; its secret is shown once.",
		object(map[string]Schema{"scope": enum("read", "write", "admin"), "name": str}, "name"), 201,
		object(map[string]Schema{"token": Of(store.Token{}), "secret": d(str, "The token's secret, shown only here.")})), "invalid_field"),
	errs(change("admin", "DELETE", "/tokens/{id}", "sites", "Revoke an API token.", nil, 204, nil), "token_not_found"),
	change("admin", "GET", "/write-key", "sites", "The site's write key.", nil, 200, object(map[string]Schema{"write_key": str})),
	change("admin", "POST", "/write-key", "sites", "Rotate the site's write key.", nil, 200,
		object(map[string]Schema{"site": d(str, "The site's ID."), "write_key": d(str, "The new write key; the old one stops working.")})),
	read("GET", "/attributes", "attributes", "The attribute catalog: keys, types, users.", object(map[string]Schema{
		"attributes": arr(object(map[string]Schema{
			"entity": enum("user", "group"), "key": str, "type": attrType, "users": d(integer, "Users (or companies) with the attribute."),
			"first_seen": when, "sample_values": arr(str), "rejections": d(integer, "Values refused for not fitting the type.")}))})),
	errs(change("admin", "PATCH", "/attributes/{key}", "attributes", "Change an attribute's type, converting stored values.",
		object(map[string]Schema{"type": attrType, "entity": enum("user", "group")}, "entity"), 200,
		object(map[string]Schema{"key": str, "type": attrType, "converted": d(integer, "Stored values converted.")})), "invalid_field"),
	errs(read("GET", "/rejections", "attributes", "Values refused for not fitting their key's type.", object(map[string]Schema{
		"rejections": arr(object(map[string]Schema{
			"entity": enum("user", "group"), "key": str, "expected": attrType, "received": d(str, "The JSON type received."),
			"value": str, "id": d(str, "The user's or company's ID."), "message_id": str, "at": when}))}),
		limitParam, Param{Name: "key", Description: "Only this attribute's."}), "invalid_parameter"),
	errs(read("GET", "/quarantine", "attributes", "Acknowledged messages the database refused, set aside.",
		object(map[string]Schema{"messages": arr(Of(store.QuarantinedMessage{})),
			"next_before": d(integer, "The before= of the next page, when this one is full.")}, "next_before"),
		limitParam, Param{Name: "before", Type: "integer", Description: "A next_before."}), "invalid_parameter"),
	errs(read("GET", "/events", "events", "The event catalog.", object(map[string]Schema{
		"events": arr(Of(api.EventJSON{})), "users_counted_at": when, "users_approximate": boolean}, "users_counted_at", "users_approximate"),
		Param{Name: "kind", Description: "track, page or screen"}, Param{Name: "properties", Type: "boolean", Description: "Include each event's properties."},
		Param{Name: "users", Type: "boolean", Description: "false: do not count users."}), "invalid_parameter"),
	errs(read("GET", "/events/{name}", "events", "One event: properties, users, trend.", object(map[string]Schema{
		"event": Of(api.EventJSON{}), "users_counted_at": when, "users_approximate": boolean}, "users_counted_at", "users_approximate"),
		Param{Name: "kind", Description: "track (the default), page or screen"}), "event_not_found", "invalid_parameter"),
}

var identityRef = object(map[string]Schema{"id": minLen1, "kind": enum("user", "anonymous")}, "kind")

var userOps = []Op{
	errs(read("GET", "/users", "users", "Search users by ID or attribute.", object(map[string]Schema{
		"users": arr(object(map[string]Schema{"user_id": str, "key": d(integer, "The user's internal key."), "last_seen": nullable(when),
			"attributes": d(attrMap, "With ?attributes= only.")}, "attributes")),
		"next_after": d(str, "The after= of the next page; empty on the last.")}),
		limitParam, Param{Name: "q", Description: "An ID or attribute value to search."}, Param{Name: "after", Description: "A next_after."},
		Param{Name: "attributes", Description: "Comma-separated attributes to add to each row (at most 50)."}), "invalid_parameter"),
	errs(read("GET", "/users/{id}", "users", "A user's profile: identities, attributes.", object(map[string]Schema{
		"user_id": str, "anonymous_ids": arr(str), "first_seen": nullable(when), "last_seen": nullable(when),
		"sessions": integer, "events": integer, "attributes": attrMap,
		"companies": arr(object(map[string]Schema{"group_id": str, "attributes": attrMap}))}),
		kindParam, Param{Name: "as_of", Description: "The attributes as they were then (ISO-8601)."}), "invalid_parameter", "not_found"),
	errs(read("GET", "/users/{id}/history", "users", "A user's attribute changes.",
		object(map[string]Schema{"history": arr(Of(api.ChangeJSON{}))}), kindParam, Param{Name: "key", Description: "Only this attribute's."}),
		"invalid_parameter", "not_found"),
	errs(read("GET", "/users/{id}/events", "users", "A user's events, newest first.", object(map[string]Schema{
		"events": arr(Of(api.UserEventJSON{})), "next_before": d(str, "The before= of the next page; empty on the last.")}),
		kindParam, limitParam, Param{Name: "before", Description: "A date-time or a next_before."}), "invalid_parameter", "not_found"),
	errs(read("GET", "/users/{id}/sessions", "users", "A user's sessions.", object(map[string]Schema{
		"sessions": arr(object(map[string]Schema{
			"id": integer, "start": when, "end": when, "duration_seconds": number, "pages": integer, "events": integer,
			"entry_page": str, "exit_page": str, "device_type": str, "browser": str, "os": str, "country": str,
			"locale": str, "timezone": str, "channel": str, "referrer": str, "utm_source": str, "utm_medium": str, "utm_campaign": str,
			"signals": Of(store.Signals{}), "recordings": d(arr(str), "The IDs of the session's recordings, oldest first.")}))}),
		kindParam, limitParam), "invalid_parameter", "not_found"),
	errs(read("GET", "/users/{id}/segments", "users", "The saved segments a user is in.", object(map[string]Schema{
		"segments": arr(object(map[string]Schema{"id": str, "name": str}))}), kindParam), "not_found"),
	errs(change("write", "POST", "/merge", "users", "Merge two identities into one user.",
		object(map[string]Schema{"from": identityRef, "into": identityRef}), 200, object(map[string]Schema{"merged": boolean})),
		"missing_field", "invalid_field", "not_found", "conflict"),
}

var segmentSaved = Of(api.SegmentJSON{})

// segmentBody is a segment as clients send it: a definition as JSON or as
// text (one of the two), a name to save it under.
var segmentBody = d(closed(input(Of(api.SegmentBody{}))), "Send definition (JSON) or text (the text form); a saved segment needs a name.")

var segmentOps = []Op{
	errs(read("POST", "/segments/preview", "segments", "The size and first members of a segment definition.", object(map[string]Schema{
		"size": integer, "members": arr(Of(api.MemberJSON{})), "text": d(str, "The definition in the text form."),
		"definition": d(Schema{"type": "object"}, "The definition as JSON (a tree of conditions)."), "took_ms": integer, "warnings": nullable(warnings)})),
		"invalid_segment", "query_timeout", "query_too_expensive"),
	read("GET", "/segments", "segments", "Saved segments.", object(map[string]Schema{"segments": arr(segmentSaved)}),
		Param{Name: "sizes", Type: "boolean", Description: "Count each segment's members."}),
	errs(change("write", "POST", "/segments", "segments", "Save a segment (JSON definition or text form).", segmentBody, 201, segmentSaved),
		"invalid_segment", "missing_field", "too_long", "conflict"),
	errs(read("GET", "/segments/{seg}", "segments", "A saved segment with its size.", segmentSaved), "not_found"),
	errs(change("write", "PUT", "/segments/{seg}", "segments", "Change a saved segment.", segmentBody, 200, segmentSaved),
		"invalid_segment", "not_found", "conflict"),
	errs(change("write", "DELETE", "/segments/{seg}", "segments", "Delete a saved segment (not one another segment or an alert rule uses).", nil, 204, nil),
		"not_found", "segment_in_use"),
	errs(read("GET", "/segments/{seg}/members", "segments", "A page of a segment's members.", object(map[string]Schema{
		"members": arr(Of(api.MemberJSON{})), "next_after": d(str, "The after= of the next page; empty on the last.")}),
		limitParam, Param{Name: "after", Description: "A next_after."}, Param{Name: "attributes", Description: "Comma-separated attributes to add."}),
		"not_found", "invalid_parameter", "unknown_attribute", "duplicate_attribute", "too_many_attributes"),
	errs(read("GET", "/segments/{seg}/members/{id}", "segments", "Whether a user is a member.",
		object(map[string]Schema{"member": boolean, "took_ms": integer}), kindParam), "not_found"),
	{Method: "GET", Path: site + "/segments/{seg}/export", Tag: "segments", Auth: "token", Scope: "read",
		Summary: "Every member, as CSV or JSON lines.", Result: str, Content: "text/csv", Also: map[string]Schema{"application/json": arr(Of(api.MemberJSON{}))},
		Query: []Param{{Name: "format", Description: "csv or json"}}, Errors: []string{"not_found", "invalid_parameter"}},
	errs(read("GET", "/segments/{seg}/trend", "segments", "A saved segment's size over time.", segmentTrend,
		Param{Name: "days", Type: "integer", Description: "How far back."}), "not_found", "invalid_parameter"),
	errs(read("POST", "/segments/trend", "segments", "A definition's size over time.", segmentTrend), "invalid_segment", "invalid_parameter"),
}

var segmentTrend = object(map[string]Schema{"points": arr(Of(api.TrendPoint{})), "took_ms": integer})

var recordingSettings = Of(store.RecordingSettings{})

var recordingOps = []Op{
	errs(read("GET", "/recordings", "recordings", "Recordings, filtered by segment and session filters.", object(map[string]Schema{
		"recordings": arr(Of(api.RecordingJSON{})), "next_after": d(str, "The after= of the next page; empty on the last."),
		"warnings": nullable(warnings)}), limitParam), "invalid_parameter", "invalid_segment", "query_timeout"),
	errs(read("GET", "/recordings/{rec}", "recordings", "A recording with its user and pages.", object(map[string]Schema{
		"recording": Of(api.RecordingJSON{}), "timeline": arr(Of(api.TimelineItem{}))})), "not_found"),
	errs(read("GET", "/recordings/{rec}/events", "recordings", "A recording's rrweb events, every chunk's in order, as one array (gzipped when accepted).",
		Schema{"type": "array", "description": "rrweb events, as the recorder sent them.", "items": Schema{"type": "object", "properties": map[string]Schema{
			"type": integer, "timestamp": integer}}}), "not_found"),
	errs(change("write", "DELETE", "/recordings/{rec}", "recordings", "Delete a recording.", nil, 200, object(map[string]Schema{"deleted": boolean})), "not_found"),
	read("GET", "/recording-settings", "recordings", "Recording settings: on, sampling, quota, retention.", recordingSettings),
	errs(change("admin", "PUT", "/recording-settings", "recordings", "Change the recording settings; fields left out keep their value.",
		input(Of(recording.SettingsChange{})), 200, recordingSettings), "invalid_field"),
}
