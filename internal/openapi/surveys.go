package openapi

import (
	"github.com/sightline/sightline/internal/api"
	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/survey"
)

var surveyOut = Of(api.SurveyJSON{})

// surveyDefinition is a survey's definition as its body is read (unknown
// fields refused).
var surveyDefinition = input(Of(survey.Definition{}))

var responseFilters = []Param{
	{Name: "from", Description: "A date or RFC 3339 time."}, {Name: "to", Description: "A date or RFC 3339 time."},
	{Name: "segment", Description: "Only respondents in this saved segment."},
	{Name: "segment_text", Description: "Or only respondents in this segment, written out (as in the segment language)."},
	{Name: "nps_group", Description: "detractor, passive or promoter"},
}

var surveyOps = []Op{
	read("GET", "/surveys", "surveys", "Surveys.", object(map[string]Schema{"surveys": arr(surveyOut)})),
	errs(change("write", "POST", "/surveys", "surveys", "Create a survey (a draft).", surveyDefinition, 201, surveyOut), "invalid_field", "missing_field"),
	errs(read("GET", "/surveys/{id}", "surveys", "A survey.", surveyOut), "not_found"),
	errs(change("write", "PUT", "/surveys/{id}", "surveys", "Change a survey.", surveyDefinition, 200, surveyOut), "invalid_field", "missing_field", "not_found"),
	errs(change("write", "DELETE", "/surveys/{id}", "surveys", "Delete a survey and its responses.", nil, 204, nil), "not_found"),
	errs(change("write", "POST", "/surveys/{id}/status", "surveys", "Make a survey live, pause or end it.",
		object(map[string]Schema{"status": enum("draft", "live", "paused", "ended")}), 200, surveyOut), "invalid_field", "not_found"),
	errs(read("GET", "/surveys/{id}/results", "surveys", "Per-question results and NPS, optionally by segment.",
		object(map[string]Schema{"survey": surveyOut, "results": Of(survey.Results{})}),
		append(responseFilters, Param{Name: "interval", Description: "day or week (the default), for the NPS trend"},
			Param{Name: "segments", Description: "Comma-separated saved segments to break the results down by."})...),
		"not_found", "invalid_parameter", "unknown_segment"),
	errs(read("GET", "/surveys/{id}/responses", "surveys", "A page of responses.", object(map[string]Schema{
		"responses": arr(Of(api.ResponseJSON{})), "next_cursor": d(str, "The cursor= of the next page; empty on the last.")}),
		append(responseFilters, limitParam, cursorParam)...), "not_found", "invalid_parameter", "unknown_segment"),
	{Method: "GET", Path: site + "/surveys/{id}/responses.csv", Tag: "surveys", Auth: "token", Scope: "read", Summary: "Every response as CSV.",
		Result: str, Content: "text/csv", Query: responseFilters, Errors: []string{"not_found", "invalid_parameter", "unknown_segment"}},
	read("GET", "/feedback-settings", "feedback", "The feedback tab's settings.", Of(feedback.Settings{})),
	errs(change("admin", "PUT", "/feedback-settings", "feedback", "Change the feedback tab's settings; fields left out take their defaults.",
		input(Of(feedback.Settings{})), 200, Of(feedback.Settings{})), "invalid_field"),
	errs(read("GET", "/feedback", "feedback", "Feedback, newest first, filtered by segment, page, rating.", object(map[string]Schema{
		"feedback": arr(Of(api.FeedbackJSON{})), "next_cursor": d(str, "The cursor= of the next page; empty on the last.")}),
		limitParam, cursorParam, Param{Name: "page", Description: "Only feedback given on this page."},
		Param{Name: "rating", Type: "integer", Description: "1 to 5"}, Param{Name: "segment", Description: "A saved segment."}),
		"invalid_parameter", "unknown_segment"),
	errs(read("GET", "/feedback/summary", "feedback", "Feedback counts and average rating by day or week.", object(map[string]Schema{
		"interval": enum("day", "week"), "count": integer, "average": d(nullable(number), "null when there is no feedback."),
		"by_rating": ratingCounts,
		"points":    arr(object(map[string]Schema{"start": when, "count": integer, "average": number, "by_rating": ratingCounts}))}),
		Param{Name: "interval", Description: "day or week"}, Param{Name: "segment", Description: "A saved segment."}),
		"invalid_parameter", "unknown_segment"),
}

var ratingCounts = Schema{"type": "object", "description": "Count by rating, \"1\" to \"5\".",
	"properties": map[string]Schema{"1": integer, "2": integer, "3": integer, "4": integer, "5": integer},
	"required":   []string{"1", "2", "3", "4", "5"}}
