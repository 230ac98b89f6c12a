package openapi

// csvToo lets an answer be CSV as well as JSON (?format=csv).
var csvToo = map[string]Schema{"text/csv": str}

var formatParam = Param{Name: "format", Description: "json (the default) or csv"}

// analyze is read for an analysis whose table is also CSV.
func analyze(method, path, tag, summary string) Op {
	op := read(method, path, tag, summary, anyObj, formatParam)
	op.Also = csvToo
	return op
}

var insightOps = []Op{
	analyze("POST", "/insights/trend", "insights", "A trend: series by interval, broken down by segments or top values, with the previous period."),
	analyze("POST", "/insights/funnel", "insights", "A funnel: users, conversion, drop-off and time between steps, broken down by segments."),
	analyze("POST", "/insights/retention", "insights", "A retention table: cohorts by first action, the share returning in each period."),
	analyze("POST", "/insights/funnel/dropped", "insights", "The users who dropped at a funnel's step (a page, or every one as CSV)."),
	read("GET", "/insights", "insights", "Saved insights.", list("insights", anyObj)),
	change("write", "POST", "/insights", "insights", "Save an insight (name, kind, definition).", anyObj, 201, anyObj),
	read("GET", "/insights/{id}", "insights", "A saved insight.", anyObj),
	change("write", "PUT", "/insights/{id}", "insights", "Change a saved insight.", anyObj, 200, anyObj),
	change("write", "DELETE", "/insights/{id}", "insights", "Delete a saved insight.", nil, 204, nil),
	analyze("GET", "/insights/{id}/results", "insights", "A saved insight computed now."),
	change("write", "PUT", "/insights/{id}/pin", "insights", "Pin a saved insight to the site's overview (at most 8; 409 too_many_pins beyond).", nil, 200, anyObj),
	change("write", "DELETE", "/insights/{id}/pin", "insights", "Unpin a saved insight from the site's overview.", nil, 200, anyObj),
	read("GET", "/annotations", "insights", "The site's annotations, drawn on every chart.", list("annotations", anyObj)),
	change("write", "POST", "/annotations", "insights",
		"Add an annotation (date and text); the site's write key as HTTP Basic user also may, for deploy hooks.", anyObj, 201, anyObj),
	change("write", "DELETE", "/annotations/{id}", "insights", "Delete an annotation.", nil, 204, nil),
}

var heatmapParams = []Param{
	{Name: "page", Description: "The page group: a URL, a path, a pattern (/products/*) or a regular expression."},
	{Name: "match", Description: "exact, path, pattern or regex"},
	{Name: "kind", Description: "click, rage, dead or scroll"},
	{Name: "device", Description: "desktop, tablet, mobile, or empty for any"},
	{Name: "from", Description: "RFC 3339 or a date"}, {Name: "to", Description: "RFC 3339 or a date"},
	{Name: "segment", Description: "A saved segment's ID or a definition's text."},
}

var heatmapOps = []Op{
	read("GET", "/heatmaps", "heatmaps", "A page group's heatmap: per element and a density grid, or the scroll map.", anyObj, heatmapParams...),
	read("GET", "/heatmaps/elements", "heatmaps", "The most clicked elements: clicks, users, share of page views, rage and dead shares.", anyObj, heatmapParams...),
	read("GET", "/heatmaps/pages", "heatmaps", "The pages seen, for choosing a page group.", anyObj),
	read("GET", "/heatmaps/compare", "heatmaps", "Two segments' click shares per element, the differences ranked.", anyObj, heatmapParams...),
	read("GET", "/heatmaps/clicks", "heatmaps", "An element's latest clicks, each with its recording and moment.", anyObj,
		Param{Name: "selector", Description: "The element's selector."}),
	read("GET", "/heatmaps/snapshot", "heatmaps", "The recording snapshot that serves as the page group's background, if any.", anyObj, heatmapParams...),
	{Method: "GET", Path: site + "/heatmaps/snapshot/{rec}/{index}", Tag: "heatmaps", Auth: "token", Scope: "read",
		Summary: "A recording's full snapshot as HTML without scripts, for a sandboxed frame.", Result: str, Content: "text/html"},
}

var compareOps = []Op{
	analyze("POST", "/compare", "compare", "Compare two segments, or one and everyone else: side by side, and every difference ranked with its test."),
	analyze("GET", "/compare", "compare", "The same comparison with its definition in the query (for links and CSV downloads)."),
	read("GET", "/experiments", "experiments", "Experiments.", list("experiments", anyObj)),
	change("write", "POST", "/experiments", "experiments", "Define an experiment.", anyObj, 201, anyObj),
	read("GET", "/experiments/{id}", "experiments", "An experiment's definition.", anyObj),
	change("write", "PUT", "/experiments/{id}", "experiments", "Change an experiment.", anyObj, 200, anyObj),
	change("write", "DELETE", "/experiments/{id}", "experiments", "Delete an experiment.", nil, 204, nil),
	analyze("GET", "/experiments/{id}/results", "experiments", "Per variant: exposure, conversion with intervals, lift, p-value, sample-ratio check."),
}

var dataOps = []Op{
	change("admin", "DELETE", "/users/{id}", "data rights", "Delete a user everywhere, as a job (?suppress=true also drops their later messages).",
		nil, 202, anyObj),
	change("admin", "GET", "/deletions/{job}", "data rights", "A deletion job's state and receipt.", nil, 200, anyObj),
	{Method: "GET", Path: site + "/users/{id}/export", Tag: "data rights", Auth: "token", Scope: "read",
		Summary: "Everything held about a user, as a zip of JSON files.", Result: Schema{"type": "string", "contentMediaType": "application/zip"},
		Content: "application/zip"},
	read("GET", "/retention", "data rights", "How long the site keeps events, sessions, attribute history and survey answers.", anyObj),
	change("admin", "PUT", "/retention", "data rights", "Change the site's retention.", anyObj, 200, anyObj),
	change("admin", "POST", "/imports/users", "data rights", "Import user attributes from CSV (the body); a report of the rows refused.", nil, 200, anyObj),
	change("admin", "POST", "/imports/companies", "data rights", "Import company (group) attributes from CSV (the body; the ID column is group_id, company_id, id or external_id); a report of the rows and cells refused.", nil, 200, anyObj),
	{Method: "DELETE", Path: site, Tag: "data rights", Auth: "session",
		Summary: "Delete the site and all its data (owners, signed in; the body confirms the site's name).", Body: anyObj, Result: anyObj},
	{Method: "GET", Path: "/api/v1/audit", Tag: "data rights", Auth: "session", Summary: "The audit log (owners).", Result: anyObj,
		Query: []Param{limitParam}},
}
