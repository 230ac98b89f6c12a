package openapi

import (
	"github.com/sightline/sightline/internal/api"
	"github.com/sightline/sightline/internal/compare"
	"github.com/sightline/sightline/internal/csvimport"
	"github.com/sightline/sightline/internal/erase"
	"github.com/sightline/sightline/internal/experiment"
	"github.com/sightline/sightline/internal/heatmap"
	"github.com/sightline/sightline/internal/insight"
	"github.com/sightline/sightline/internal/store"
)

// csvToo lets an answer be CSV as well as JSON (?format=csv).
var csvToo = map[string]Schema{"text/csv": str}

var formatParam = Param{Name: "format", Description: "json (the default) or csv"}

// analyze is read for an analysis whose table is also CSV.
func analyze(method, path, tag, summary string, result Schema, q ...Param) Op {
	op := read(method, path, tag, summary, result, append([]Param{formatParam}, q...)...)
	op.Also = csvToo
	return op
}

// computed is the answer of an insight computed now, result being the
// kind's result.
func computed(kind Schema, result Schema) Schema {
	return object(map[string]Schema{"kind": kind, "result": result, "took_ms": integer})
}

var (
	trendResult     = Of(insight.TrendResult{})
	funnelResult    = Of(insight.FunnelResult{})
	retentionResult = Of(insight.RetentionResult{})
	anyResult       = computed(enum("trend", "funnel", "retention"), Schema{"anyOf": []any{trendResult, funnelResult, retentionResult}})
	insightOut      = Of(api.InsightJSON{})
	insightBody     = closed(input(Of(api.InsightBody{}), "name", "kind", "definition"))
	insightErrors   = []string{"invalid_definition", "invalid_kind", "invalid_parameter", "invalid_segment", "unknown_segment",
		"query_timeout", "query_too_expensive"}
)

var insightOps = []Op{
	errs(analyze("POST", "/insights/trend", "insights", "A trend: series by interval, broken down by segments or top values, with the previous period.",
		computed(enum("trend"), trendResult)), insightErrors...).with(closed(input(Of(insight.Trend{}), "series"))),
	errs(analyze("POST", "/insights/funnel", "insights", "A funnel: users, conversion, drop-off and time between steps, broken down by segments.",
		computed(enum("funnel"), funnelResult)), insightErrors...).with(closed(input(Of(insight.Funnel{}), "steps"))),
	errs(analyze("POST", "/insights/retention", "insights", "A retention table: cohorts by first action, the share returning in each period.",
		computed(enum("retention"), retentionResult)), insightErrors...).with(closed(input(Of(insight.Retention{}), "start", "return"))),
	errs(analyze("POST", "/insights/funnel/dropped", "insights", "The users who dropped at a funnel's step (a page, or every one as CSV).",
		object(map[string]Schema{"users": arr(Of(api.MemberJSON{})), "size": d(integer, "Every user who dropped there."),
			"next_after": d(str, "The after= of the next page; empty on the last.")}), limitParam, Param{Name: "after", Description: "A next_after."}),
		insightErrors...).with(closed(input(Of(api.DroppedBody{}), "funnel", "step"))),
	read("GET", "/insights", "insights", "Saved insights.", object(map[string]Schema{"insights": arr(insightOut)})),
	errs(change("write", "POST", "/insights", "insights", "Save an insight (name, kind, definition); the definition must compute.",
		insightBody, 201, insightOut), append(insightErrors, "invalid_name")...),
	errs(read("GET", "/insights/{id}", "insights", "A saved insight.", insightOut), "not_found"),
	errs(change("write", "PUT", "/insights/{id}", "insights", "Change a saved insight.", insightBody, 200, insightOut),
		append(insightErrors, "invalid_name", "not_found")...),
	errs(change("write", "DELETE", "/insights/{id}", "insights", "Delete a saved insight.", nil, 204, nil), "not_found"),
	errs(analyze("GET", "/insights/{id}/results", "insights", "A saved insight computed now.", anyResult), append(insightErrors, "not_found")...),
	errs(change("write", "PUT", "/insights/{id}/pin", "insights", "Pin a saved insight to the site's overview (at most 8).",
		nil, 200, insightOut), "not_found", "too_many_pins"),
	errs(change("write", "DELETE", "/insights/{id}/pin", "insights", "Unpin a saved insight from the site's overview.",
		nil, 200, insightOut), "not_found"),
	read("GET", "/annotations", "insights", "The site's annotations, drawn on every chart.",
		object(map[string]Schema{"annotations": arr(Of(store.Annotation{}))})),
	errs(change("write", "POST", "/annotations", "insights",
		"Add an annotation (date and text); the site's write key as HTTP Basic user also may, for deploy hooks.",
		closed(object(map[string]Schema{"date": d(date, "YYYY-MM-DD, a day of the site's time zone; today there when left out"),
			"text": Schema{"type": "string", "minLength": 1, "maxLength": 500}}, "date")),
		201, Of(store.Annotation{})), "invalid_date", "invalid_text"),
	errs(change("write", "DELETE", "/annotations/{id}", "insights", "Delete an annotation.", nil, 204, nil), "not_found"),
}

var heatmapParams = []Param{
	{Name: "page", Description: "The page group: a URL, a path, a pattern (/products/*) or a regular expression."},
	{Name: "match", Description: "exact, path, pattern or regex"},
	{Name: "kind", Description: "click, rage, dead or scroll"},
	{Name: "device", Description: "desktop, tablet, mobile, or empty for any"},
	{Name: "from", Description: "RFC 3339 or a date"}, {Name: "to", Description: "RFC 3339 or a date"},
	{Name: "segment", Description: "A saved segment's ID."}, {Name: "text", Description: "A segment definition's text."},
}

var (
	heatmapMap    = Of(heatmap.Map{})
	heatmapErrors = []string{"invalid_parameter", "invalid_segment", "unknown_segment", "query_timeout", "query_too_expensive"}
)

var heatmapOps = []Op{
	errs(read("GET", "/heatmaps", "heatmaps", "A page group's heatmap: per element and a density grid, or the scroll map (kind=scroll).",
		Schema{"anyOf": []any{heatmapMap, Of(heatmap.Scroll{})}}, heatmapParams...), heatmapErrors...),
	errs(read("GET", "/heatmaps/elements", "heatmaps", "The most clicked elements: clicks, users, share of page views, rage and dead shares.",
		object(map[string]Schema{"kind": enum("click", "rage", "dead"), "page_views": integer, "total": integer, "users": integer,
			"elements": Of([]heatmap.Element{}), "more_elements": d(integer, "Elements left out.")}),
		append(heatmapParams, limitParam)...), heatmapErrors...),
	errs(read("GET", "/heatmaps/pages", "heatmaps", "The pages seen, for choosing a page group.",
		object(map[string]Schema{"pages": Of([]heatmap.Page{}), "from": when}),
		Param{Name: "from", Description: "RFC 3339 or a date"}, Param{Name: "to", Description: "RFC 3339 or a date"}), "invalid_parameter"),
	errs(read("GET", "/heatmaps/compare", "heatmaps", "Two segments' click shares per element, the differences ranked.",
		Of(heatmap.Comparison{}), append(heatmapParams, Param{Name: "a", Description: "Segment A's ID"}, Param{Name: "a_text", Description: "or its text"},
			Param{Name: "b", Description: "Segment B's ID (neither: everyone not in A)"}, Param{Name: "b_text", Description: "or its text"})...),
		heatmapErrors...),
	errs(read("GET", "/heatmaps/clicks", "heatmaps", "An element's latest clicks, each with its recording and moment.",
		object(map[string]Schema{"selector": str, "clicks": arr(Of(api.ClickJSON{}))}),
		append(heatmapParams, Param{Name: "selector", Description: "The element's selector."}, limitParam)...), heatmapErrors...),
	errs(read("GET", "/heatmaps/snapshot", "heatmaps", "The recording snapshot that serves as the page group's background, if any.",
		object(map[string]Schema{"snapshot": nullable(object(map[string]Schema{
			"recording": str, "index": d(integer, "The full snapshot's index among the recording's events."),
			"href": d(str, "The page's URL in the recording."), "width": integer, "height": integer, "taken_at": when,
			"html": d(str, "The path that renders the snapshot as HTML.")}))}), heatmapParams...), heatmapErrors...),
	{Method: "GET", Path: site + "/heatmaps/snapshot/{rec}/{index}", Tag: "heatmaps", Auth: "token", Scope: "read",
		Summary: "A recording's full snapshot as HTML without scripts, for a sandboxed frame.", Result: str, Content: "text/html",
		Errors: []string{"not_found", "invalid_parameter"}},
}

var (
	compareErrors = []string{"invalid_comparison", "invalid_parameter", "invalid_segment", "unknown_segment", "unknown_funnel", "query_timeout", "query_too_expensive"}
	experimentOut = Of(api.ExperimentJSON{})
	experimentDef = closed(input(Of(experiment.Definition{})))
)

var compareOps = []Op{
	errs(analyze("POST", "/compare", "compare", "Compare two segments, or one and everyone else: side by side, and every difference ranked with its test.",
		Of(compare.Result{})), compareErrors...).with(closed(input(Of(api.CompareBody{}), "a"))),
	errs(analyze("GET", "/compare", "compare", "The same comparison with its definition in the query (for links and CSV downloads).",
		Of(compare.Result{}), Param{Name: "a", Description: "Segment A's ID"}, Param{Name: "a_text", Description: "or its text"},
		Param{Name: "b", Description: "Segment B's ID"}, Param{Name: "b_text", Description: "or its text"},
		Param{Name: "rest", Description: "B is everyone else: all, or identified"}, Param{Name: "days", Type: "integer", Description: "The period."},
		Param{Name: "from", Description: "The period's start (a date or RFC 3339 time), instead of days."},
		Param{Name: "to", Description: "The period's end."},
		Param{Name: "overlap", Description: "keep: users in both segments count in both; by default they are left out of both."},
		Param{Name: "funnel", Description: "A saved funnel's ID: its conversion is compared too."}),
		compareErrors...),
	read("GET", "/experiments", "experiments", "Experiments.", object(map[string]Schema{"experiments": arr(experimentOut)})),
	errs(change("write", "POST", "/experiments", "experiments", "Define an experiment.", experimentDef, 201, experimentOut),
		"invalid_experiment", "invalid_field", "unknown_funnel", "conflict"),
	errs(read("GET", "/experiments/{id}", "experiments", "An experiment's definition.", experimentOut), "not_found"),
	errs(change("write", "PUT", "/experiments/{id}", "experiments", "Change an experiment.", experimentDef, 200, experimentOut),
		"invalid_experiment", "invalid_field", "unknown_funnel", "not_found"),
	errs(change("write", "DELETE", "/experiments/{id}", "experiments", "Delete an experiment.", nil, 204, nil), "not_found"),
	errs(analyze("GET", "/experiments/{id}/results", "experiments", "Per variant: exposure, conversion with intervals, lift, p-value, sample-ratio check.",
		object(map[string]Schema{"experiment": experimentOut, "results": Of(experiment.Result{})})), "not_found", "invalid_experiment",
		"unknown_funnel", "query_timeout"),
}

var (
	deletionJob  = Of(erase.Job{})
	importReport = Of(csvimport.Report{})
	retention    = Of(store.Retention{})
)

var dataOps = []Op{
	errs(change("admin", "DELETE", "/users/{id}", "data rights", "Delete a user everywhere, as a job (?suppress=true also drops their later messages).",
		nil, 202, deletionJob), "invalid_parameter", "not_found"),
	errs(change("admin", "GET", "/deletions/{job}", "data rights", "A deletion job's state and receipt.", nil, 200, deletionJob), "deletion_not_found"),
	{Method: "GET", Path: site + "/users/{id}/export", Tag: "data rights", Auth: "token", Scope: "read",
		Summary: "Everything held about a user, as a zip of JSON files.", Result: Schema{"type": "string", "contentMediaType": "application/zip"},
		Content: "application/zip", Errors: []string{"not_found", "invalid_parameter"}},
	read("GET", "/retention", "data rights", "How long the site keeps events, sessions, attribute history and survey answers (days; 0: for good).", retention),
	errs(change("admin", "PUT", "/retention", "data rights", "Change the site's retention: the whole setting, each field a number of days (0 keeps for good).",
		d(closed(input(retentionBody)), "A field left out is 0: kept for good."), 200, retention), "malformed_json", "invalid_field"),
	errs(change("admin", "POST", "/imports/users", "data rights", "Import user attributes from CSV (the body); a report of the rows refused.", nil, 200, importReport),
		"invalid_csv", "too_large"),
	errs(change("admin", "POST", "/imports/companies", "data rights", "Import company (group) attributes from CSV (the body; the ID column is group_id, company_id, id or external_id); a report of the rows and cells refused.", nil, 200, importReport),
		"invalid_csv", "too_large"),
	{Method: "DELETE", Path: site, Tag: "data rights", Auth: "session",
		Summary: "Delete the site and all its data (owners, signed in; the body confirms the site's name).",
		Body:    closed(object(map[string]Schema{"confirm": d(str, "The site's name.")})),
		Result:  object(map[string]Schema{"deleted": Schema{"type": "object", "description": "Rows deleted, by table.", "additionalProperties": integer}}),
		Errors:  []string{"confirmation_mismatch", "forbidden", "not_found", "malformed_json"}},
	{Method: "GET", Path: "/api/v1/audit", Tag: "data rights", Auth: "session", Summary: "The audit log (owners), newest first.",
		Result: object(map[string]Schema{"entries": Of([]store.AuditEntry{}), "next_before": d(str, "The before= of the next page; empty on the last."),
			"kept_days": d(integer, "How long entries are kept.")}),
		Query:  []Param{{Name: "limit", Type: "integer", Description: "1 to 1000 (100)."}, {Name: "before", Description: "A next_before."}},
		Errors: []string{"forbidden", "invalid_parameter"}},
}

var retentionBody = func() Schema {
	s := Of(store.Retention{})
	for _, p := range s["properties"].(map[string]Schema) {
		p["minimum"], p["maximum"] = 0, store.MaxRetentionDays
	}
	return s
}()
