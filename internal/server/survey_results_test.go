package server_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

func TestSurveyAnswersResultsAndExport(t *testing.T) {
	s, _ := startSurveyServer(t)
	s.behaviour(t, []string{"ann", "cy"}, []string{"bob", "dee"})
	seg := s.saveSegment(t, "exporters", `did("export") >= 2`)
	id := s.createSurvey(t, npsSurvey(`{}`), true)
	respond := func(resp, user, answers string, completed bool) {
		t.Helper()
		body := fmt.Sprintf(`{"survey":%q,"response":%q,"anonymousId":"anon-%s","userId":%q,"sessionId":"ses-%s",
			"url":"https://app.example.com/app","answers":%s,"completed":%v}`, id, resp, user, user, user, answers, completed)
		if code, e := s.answer(t, s.writeKey, body); code != 200 {
			t.Fatalf("answer %s: %d %s", resp, code, e)
		}
	}
	// ann answers 3, then on the next step says why: one response, upserted.
	respond("resp-ann-0001", "ann", `{"score": 3}`, false)
	var list struct {
		Responses []map[string]any `json:"responses"`
	}
	s.getJSON(t, "/surveys/"+id+"/responses", &list)
	if len(list.Responses) != 1 || list.Responses[0]["completed"] != false {
		t.Fatalf("after the partial answer: %v", list.Responses)
	}
	respond("resp-ann-0001", "ann", `{"why": "Bugs", "more": "exports time out"}`, true)
	respond("resp-bob-0001", "bob", `{"score": 10}`, true)
	respond("resp-cy-00001", "cy", `{"score": 9}`, true)
	respond("resp-dee-0001", "dee", `{"score": 6}`, false)
	// A retry of a completed response changes nothing and is accepted.
	respond("resp-bob-0001", "bob", `{"score": 10}`, true)

	s.getJSON(t, "/surveys/"+id+"/responses?limit=2&attributes=plan", &list)
	if len(list.Responses) != 2 {
		t.Fatalf("page of 2: %v", list.Responses)
	}
	var all struct {
		Responses []map[string]any `json:"responses"`
	}
	s.getJSON(t, "/surveys/"+id+"/responses?attributes=plan", &all)
	byID := map[string]map[string]any{}
	for _, r := range all.Responses {
		byID[r["response_id"].(string)] = r
	}
	ann := byID["resp-ann-0001"]
	if len(all.Responses) != 4 || ann["completed"] != true || ann["nps"] != 3.0 || ann["session_id"] != "ses-ann" ||
		ann["user_id"] != "ann" || fmt.Sprint(ann["answers"]) != "map[more:exports time out score:3 why:Bugs]" ||
		ann["attributes"].(map[string]any)["plan"].(map[string]any)["value"] != "pro" || ann["completed_at"] == nil {
		t.Fatalf("ann's response: %v", ann)
	}

	// Results: promoters bob and cy, detractors ann and dee: NPS 0.
	var res struct {
		Results struct {
			Responses, Completed, Partial int
			Dismissed                     int
			NPS                           struct {
				Score                           float64
				Promoters, Passives, Detractors int
			}
			Questions []struct {
				ID       string
				Answered int
				Counts   map[string]int
			}
			Trend    []map[string]any
			Segments []struct {
				ID          string
				Respondents int
				NPS         struct{ Score float64 }
			}
		}
	}
	s.getJSON(t, "/surveys/"+id+"/results?segments="+seg+"&interval=day", &res)
	r := res.Results
	if r.Responses != 4 || r.Completed != 3 || r.Partial != 1 || r.NPS.Score != 0 || r.NPS.Promoters != 2 || r.NPS.Detractors != 2 {
		t.Fatalf("results: %+v", r)
	}
	if q := r.Questions[0]; q.Answered != 4 || q.Counts["3"] != 1 || q.Counts["10"] != 1 || q.Counts["0"] != 0 {
		t.Fatalf("score distribution: %+v", q)
	}
	if q := r.Questions[1]; q.Answered != 1 || q.Counts["Bugs"] != 1 || q.Counts["Speed"] != 0 {
		t.Fatalf("why distribution: %+v", q)
	}
	if q := r.Questions[2]; q.Answered != 1 {
		t.Fatalf("text answers: %+v", q)
	}
	// Among exporters (ann 3, cy 9): 50 - 50 = 0; one point today.
	if len(r.Segments) != 1 || r.Segments[0].Respondents != 2 || r.Segments[0].NPS.Score != 0 || len(r.Trend) != 1 {
		t.Fatalf("segments and trend: %+v", r)
	}
	// The answer is in the user's events.
	_, ev := s.get(t, store.ScopeRead, "/users/ann/events?limit=20")
	found := 0
	for _, e := range ev["events"].([]any) {
		e := e.(map[string]any)
		if e["name"] == "$survey_response" {
			found++
			if !strings.Contains(fmt.Sprint(e["properties"]), "nps_score:3") {
				t.Errorf("event properties: %v", e["properties"])
			}
		}
	}
	if found != 2 { // the partial answer, then the completion
		t.Fatalf("ann has %d $survey_response events: %v", found, ev)
	}

	// CSV export.
	req, _ := http.NewRequest("GET", s.base+"/api/v1/sites/"+s.site+"/surveys/"+id+"/responses.csv?attributes=plan", nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %s %v", resp.Status, err)
	}
	if len(rows) != 5 || strings.Join(rows[0], ",") != "response_id,created_at,completed_at,completed,user_id,anonymous_id,session_id,url,nps,score,why,more,plan" {
		t.Fatalf("csv: %v", rows)
	}
	for _, row := range rows[1:] {
		if row[0] == "resp-ann-0001" && strings.Join(row[8:], "|") != "3|3|Bugs|exports time out|pro" {
			t.Fatalf("ann's row: %v", row)
		}
	}
}

func TestSurveyBadInput(t *testing.T) {
	s, _ := startSurveyServer(t)
	id := s.createSurvey(t, npsSurvey(`{}`), true)
	draft := s.createSurvey(t, npsSurvey(`{}`), false)
	ended := s.createSurvey(t, npsSurvey(`{}`), true)
	s.call(t, store.ScopeWrite, "POST", "/surveys/"+ended+"/status", `{"status":"ended"}`)
	// A valid partial answer that bad ones must leave as it is.
	if code, e := s.answer(t, s.writeKey, `{"survey":"`+id+`","response":"resp-keep-1","anonymousId":"v1","answers":{"score":2}}`); code != 200 {
		t.Fatalf("partial: %d %s", code, e)
	}
	body := func(survey, response, answers, extra string) string {
		return `{"survey":"` + survey + `","response":"` + response + `","anonymousId":"v1","url":"https://app.example.com/"` +
			extra + `,"answers":` + answers + `}`
	}
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"unknown survey", body("srv_nope", "resp-new-01", `{"score":1}`, ""), 404, "survey_not_found"},
		{"draft survey", body(draft, "resp-new-01", `{"score":1}`, ""), 409, "survey_not_live"},
		{"ended survey", body(ended, "resp-new-01", `{"score":1}`, ""), 409, "survey_not_live"},
		{"no survey", body("", "resp-new-01", `{"score":1}`, ""), 400, "missing_field"},
		{"score out of range", body(id, "resp-keep-1", `{"score":11}`, ""), 400, "invalid_answer"},
		{"score not a number", body(id, "resp-keep-1", `{"score":"ten"}`, ""), 400, "invalid_answer"},
		{"unknown option", body(id, "resp-keep-1", `{"why":"Colour"}`, ""), 400, "invalid_answer"},
		{"unknown question", body(id, "resp-keep-1", `{"colour":"red"}`, ""), 400, "unknown_question"},
		{"oversized text", body(id, "resp-keep-1", `{"more":"`+strings.Repeat("x", 5001)+`"}`, ""), 400, "invalid_answer"},
		{"completed without a required answer", body(id, "resp-keep-1", `{}`, `,"completed":true`), 400, "missing_answer"},
		{"no anonymousId", `{"survey":"` + id + `","response":"resp-keep-1","answers":{"score":1}}`, 400, "missing_field"},
		{"bad response ID", body(id, "short", `{"score":1}`, ""), 400, "invalid_id"},
		{"another visitor's response", strings.Replace(body(id, "resp-keep-1", `{"score":5}`, ""), `"v1"`, `"v2"`, 1), 409, "response_conflict"},
		{"malformed JSON", `{"survey":`, 400, "malformed_json"},
		{"too large", `{"survey":"` + strings.Repeat("x", 600<<10) + `"}`, 413, "request_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := s.tracker(t, s.writeKey, "POST", "/t/survey", nil, tt.body)
			m, _ := out.(map[string]any)
			if code != tt.status || errorCode(m) != tt.code {
				t.Fatalf("got %d %v, want %d %s", code, out, tt.status, tt.code)
			}
			if tt.status == 400 && tt.code != "malformed_json" {
				if f, _ := m["error"].(map[string]any)["field"].(string); f == "" {
					t.Fatalf("no field in %v", m)
				}
			}
		})
	}
	// Nothing was stored by the refused answers.
	var list struct {
		Responses []map[string]any `json:"responses"`
	}
	s.getJSON(t, "/surveys/"+id+"/responses", &list)
	if len(list.Responses) != 1 || fmt.Sprint(list.Responses[0]["answers"]) != "map[score:2]" || list.Responses[0]["completed"] != false {
		t.Fatalf("after refused answers: %v", list.Responses)
	}
	for _, other := range []string{draft, ended} {
		s.getJSON(t, "/surveys/"+other+"/responses", &list)
		if len(list.Responses) != 0 {
			t.Fatalf("survey %s has responses: %v", other, list.Responses)
		}
	}
	// A completed response cannot change.
	s.answer(t, s.writeKey, body(id, "resp-keep-1", `{"score":8}`, `,"completed":true`))
	if code, e := s.answer(t, s.writeKey, body(id, "resp-keep-1", `{"score":9}`, `,"completed":true`)); code != 409 || e != "response_completed" {
		t.Fatalf("changing a completed response: %d %s", code, e)
	}
	// Definitions: invalid ones name the field; live ones cannot be edited;
	// ended ones cannot come back.
	code, out := s.call(t, store.ScopeWrite, "POST", "/surveys", `{"name":"x","questions":[{"id":"q","type":"nps","prompt":"p"}],"appearance":{"accent":"red"}}`)
	if e := out["error"].(map[string]any); code != 400 || e["field"] != "appearance.accent" || e["code"] != "invalid_colour" {
		t.Fatalf("invalid colour: %d %v", code, out)
	}
	code, out = s.call(t, store.ScopeWrite, "POST", "/surveys", npsSurvey(`{"segment":{"text":"plam = \"pro\""}}`))
	if code != 400 || errorCode(out) != "invalid_segment" {
		t.Fatalf("invalid segment: %d %v", code, out)
	}
	if code, out = s.call(t, store.ScopeWrite, "PUT", "/surveys/"+id, npsSurvey(`{}`)); code != 409 || errorCode(out) != "survey_not_editable" {
		t.Fatalf("editing a live survey: %d %v", code, out)
	}
	if code, out = s.call(t, store.ScopeWrite, "POST", "/surveys/"+ended+"/status", `{"status":"live"}`); code != 409 || errorCode(out) != "invalid_transition" {
		t.Fatalf("reviving an ended survey: %d %v", code, out)
	}
	if code, out = s.call(t, store.ScopeRead, "POST", "/surveys", npsSurvey(`{}`)); code != 403 {
		t.Fatalf("creating with a read token: %d %v", code, out)
	}
	if code, out = s.call(t, store.ScopeWrite, "PUT", "/surveys/"+draft, strings.Replace(npsSurvey(`{}`), `"NPS"`, `"Renamed"`, 1)); code != 200 ||
		out["definition"].(map[string]any)["name"] != "Renamed" {
		t.Fatalf("editing a draft: %d %v", code, out)
	}
	if code, _ = s.call(t, store.ScopeWrite, "DELETE", "/surveys/"+draft, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ = s.call(t, store.ScopeRead, "GET", "/surveys/"+draft, ""); code != 404 {
		t.Fatalf("deleted survey: %d", code)
	}
}

func TestSurveySiteIsolation(t *testing.T) {
	s, _ := startSurveyServer(t)
	id := s.createSurvey(t, npsSurvey(`{}`), true)
	other, err := s.admin.CreateSite(context.Background(), "Other", []string{pageOrigin})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.admin.CreateToken(context.Background(), other.ID, store.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	// The other site's token reaches none of this site's surveys.
	for _, path := range []string{"/surveys", "/surveys/" + id, "/surveys/" + id + "/results", "/surveys/" + id + "/responses",
		"/surveys/" + id + "/responses.csv", "/feedback", "/feedback-settings"} {
		req, _ := http.NewRequest("GET", s.base+"/api/v1/sites/"+s.site+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s with another site's token: %s", path, resp.Status)
		}
	}
	// Nor through its own site's path.
	req, _ := http.NewRequest("GET", s.base+"/api/v1/sites/"+other.ID+"/surveys/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	if code, _ := do(t, req); code != 404 {
		t.Fatalf("this site's survey under the other site: %d", code)
	}
	// The other site's key neither sees nor answers this site's survey.
	code, body := s.tracker(t, other.WriteKey, "GET", "/t/surveys", map[string][]string{"a": {"v1"}, "url": {pageOrigin + "/"}}, "")
	if list, _ := body.([]any); code != 200 || len(list) != 0 {
		t.Fatalf("offers with the other key: %d %v", code, body)
	}
	if code, e := s.answer(t, other.WriteKey, `{"survey":"`+id+`","response":"resp-other-1","anonymousId":"v1","answers":{"score":1}}`); code != 404 || e != "survey_not_found" {
		t.Fatalf("answering with the other key: %d %s", code, e)
	}
	code, body = s.tracker(t, other.WriteKey, "POST", "/t/survey/dismiss", nil, `{"survey":"`+id+`","anonymousId":"v1"}`)
	if code != 404 {
		t.Fatalf("dismissing with the other key: %d %v", code, body)
	}
	// Without a key, or from a foreign origin, nothing at all.
	req, _ = http.NewRequest("GET", s.base+"/t/surveys?a=v1&k="+s.writeKey, nil)
	req.Header.Set("Origin", "https://evil.example.org")
	if code, _ := do(t, req); code != 403 {
		t.Fatalf("foreign origin: %d", code)
	}
	req, _ = http.NewRequest("GET", s.base+"/t/surveys?a=v1", nil)
	req.Header.Set("Origin", pageOrigin)
	if code, _ := do(t, req); code != 401 {
		t.Fatalf("no key: %d", code)
	}
}

func TestNPSSegments(t *testing.T) {
	s, clk := startSurveyServer(t)
	s.behaviour(t, nil, []string{"ann", "bob", "cy"})
	id := s.createSurvey(t, npsSurvey(`{}`), true)
	other := s.createSurvey(t, npsSurvey(`{}`), true)
	for _, a := range []struct{ survey, resp, user, score string }{
		{id, "resp-ann-0001", "ann", "3"}, {id, "resp-bob-0001", "bob", "9"}, {other, "resp-cy-00001", "cy", "7"},
		// bob's later answer to the other survey is his latest.
		{other, "resp-bob-0002", "bob", "5"},
	} {
		body := fmt.Sprintf(`{"survey":%q,"response":%q,"anonymousId":"anon-%s","userId":%q,"answers":{"score":%s}}`,
			a.survey, a.resp, a.user, a.user, a.score)
		if code, e := s.answer(t, s.writeKey, body); code != 200 {
			t.Fatalf("answer: %d %s", code, e)
		}
		clk.advance(time.Minute)
	}
	for _, tt := range []struct{ text, want string }{
		{`nps_group() = "detractor"`, "[ann bob]"},
		{`nps_group("` + id + `") = "detractor"`, "[ann]"},
		{`nps_group("` + id + `", 30d) = "promoter"`, "[bob]"},
		{`nps_group() != "detractor"`, "[cy]"},
		{`nps_score() >= 7`, "[cy]"},
		{`nps_score("` + other + `") in (5, 7)`, "[bob cy]"},
		{`not nps_score() between 0 and 10`, "[]"},
	} {
		code, body := s.call(t, store.ScopeRead, "POST", "/segments/preview", fmt.Sprintf(`{"text":%q}`, tt.text))
		if got := fmt.Sprint(memberIDs(t, body)); code != 200 || got != tt.want {
			t.Errorf("%s: %d %s, want %s (%v)", tt.text, code, got, tt.want, body)
		}
	}
	// Without parentheses the name is an attribute, as it always was.
	if code, body := s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"text":"nps_score >= 7"}`); code != 400 ||
		!strings.Contains(fmt.Sprint(body), "attribute") {
		t.Fatalf("nps_score without parentheses: %d %v", code, body)
	}
	code, body := s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"text":"nps_group() = \"detractr\""}`)
	if code != 400 || !strings.Contains(fmt.Sprint(body), "detractor") {
		t.Fatalf("a misspelt group: %d %v", code, body)
	}
}
