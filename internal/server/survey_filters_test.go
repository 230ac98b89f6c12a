package server_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// download reads an export with a read token: the status and the body.
func (s *testServer) download(t *testing.T, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.base+"/api/v1/sites/"+s.site+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// respondent is a generated user and the answer the test gave for them.
type respondent struct {
	user, plan string
	score      int
	text       string // "" when the user wrote nothing
}

func npsGroup(score int) string {
	switch {
	case score >= 9:
		return "promoter"
	case score >= 7:
		return "passive"
	}
	return "detractor"
}

// TestSurveyResultsFilters filters a survey's results, responses and CSV
// export by a segment and an NPS group, on generated answers, and checks
// every count against what the test itself sent.
func TestSurveyResultsFilters(t *testing.T) {
	s, _ := startSurveyServer(t)
	rng := rand.New(rand.NewPCG(12, 2026))
	var people []respondent
	var batch []string
	for i := range 46 {
		p := respondent{user: fmt.Sprintf("u%02d", i), plan: []string{"pro", "free"}[rng.IntN(2)], score: rng.IntN(11)}
		if rng.IntN(3) > 0 {
			p.text = fmt.Sprintf("comment %d", i)
		}
		people = append(people, p)
		batch = append(batch, fmt.Sprintf(`{"type":"identify","userId":%q,"anonymousId":"anon-%s","traits":{"plan":%q,"seats":%d}}`,
			p.user, p.user, p.plan, i))
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
	pro := s.saveSegment(t, "pro", `plan = "pro"`)
	id := s.createSurvey(t, `{"name": "NPS", "questions": [
		{"id": "score", "type": "nps", "prompt": "How likely?", "required": true},
		{"id": "more", "type": "text", "prompt": "Why?"}]}`, true)
	for _, p := range people {
		answers := fmt.Sprintf(`{"score": %d}`, p.score)
		if p.text != "" {
			answers = fmt.Sprintf(`{"score": %d, "more": %q}`, p.score, p.text)
		}
		body := fmt.Sprintf(`{"survey":%q,"response":"resp-%s-0001","anonymousId":"anon-%s","userId":%q,"sessionId":"ses-%s",
			"url":"https://app.example.com/app","answers":%s,"completed":true}`, id, p.user, p.user, p.user, p.user, answers)
		if code, e := s.answer(t, s.writeKey, body); code != 200 {
			t.Fatalf("answer: %d %s", code, e)
		}
	}

	for _, segment := range []string{"", pro} {
		for _, group := range []string{"", "promoter", "passive", "detractor"} {
			t.Run(fmt.Sprintf("segment=%s,nps_group=%s", segment, group), func(t *testing.T) {
				var want []respondent
				for _, p := range people {
					if (segment == "" || p.plan == "pro") && (group == "" || npsGroup(p.score) == group) {
						want = append(want, p)
					}
				}
				texts, counts := 0, map[string]int{}
				for _, p := range want {
					counts[npsGroup(p.score)]++
					if p.text != "" {
						texts++
					}
				}
				q := url.Values{}
				if segment != "" {
					q.Set("segment", segment)
				}
				if group != "" {
					q.Set("nps_group", group)
				}
				var res struct {
					Results struct {
						Responses int
						NPS       struct{ Responses, Promoters, Passives, Detractors int }
						Questions []struct {
							ID       string
							Answered int
						}
					}
				}
				s.getJSON(t, "/surveys/"+id+"/results?"+q.Encode(), &res)
				r := res.Results
				if r.Responses != len(want) || r.NPS.Responses != len(want) || r.NPS.Promoters != counts["promoter"] ||
					r.NPS.Passives != counts["passive"] || r.NPS.Detractors != counts["detractor"] {
					t.Errorf("results: %+v, want %d responses, %v", r, len(want), counts)
				}
				if len(r.Questions) != 2 || r.Questions[1].Answered != texts {
					t.Errorf("text answers: %+v, want %d", r.Questions, texts)
				}

				// The responses, page by page (7 a page), are exactly these.
				var got []string
				cursor := ""
				for range 20 {
					var page struct {
						Responses []struct {
							UserID string `json:"user_id"`
							NPS    int    `json:"nps"`
						} `json:"responses"`
						Next string `json:"next_cursor"`
					}
					qq := url.Values{"limit": {"7"}, "cursor": {cursor}}
					for k, v := range q {
						qq[k] = v
					}
					s.getJSON(t, "/surveys/"+id+"/responses?"+qq.Encode(), &page)
					for _, x := range page.Responses {
						got = append(got, x.UserID+":"+strconv.Itoa(x.NPS))
					}
					if cursor = page.Next; cursor == "" {
						break
					}
				}
				var wantIDs []string
				for _, p := range want {
					wantIDs = append(wantIDs, p.user+":"+strconv.Itoa(p.score))
				}
				slices.Sort(got)
				if fmt.Sprint(got) != fmt.Sprint(wantIDs) {
					t.Errorf("responses:\n got %v\nwant %v", got, wantIDs)
				}

				// The export holds the same rows, in the chosen columns.
				qq := url.Values{"columns": {"user_id,nps,plan,more"}}
				for k, v := range q {
					qq[k] = v
				}
				code, raw := s.download(t, "/surveys/"+id+"/responses.csv?"+qq.Encode())
				rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
				if code != 200 || err != nil || len(rows) == 0 || strings.Join(rows[0], ",") != "user_id,nps,plan,more" {
					t.Fatalf("export: %d %v %s", code, err, raw)
				}
				var exported []string
				for _, row := range rows[1:] {
					exported = append(exported, strings.Join(row, ":"))
				}
				slices.Sort(exported)
				var wantRows []string
				for _, p := range want {
					wantRows = append(wantRows, fmt.Sprintf("%s:%d:%s:%s", p.user, p.score, p.plan, p.text))
				}
				slices.Sort(wantRows)
				if fmt.Sprint(exported) != fmt.Sprint(wantRows) {
					t.Errorf("export rows:\n got %v\nwant %v", exported, wantRows)
				}
			})
		}
	}

	// Bad filters and columns: 400 with the code and the field at fault.
	for _, tt := range []struct{ path, code, field string }{
		{"/results?nps_group=happy", "invalid_parameter", "nps_group"},
		{"/responses?nps_group=Promoter", "invalid_parameter", "nps_group"},
		{"/results?segment=seg_nope", "unknown_segment", "segment"},
		{"/responses?segment=seg_nope", "unknown_segment", "segment"},
		{"/responses.csv?columns=user_id,shoe_size", "unknown_column", "columns"},
		{"/responses.csv?columns=nps,nps", "duplicate_column", "columns"},
		{"/responses.csv?columns=", "invalid_parameter", "columns"},
		{"/responses.csv?columns=nps,,plan", "invalid_parameter", "columns"},
		{"/responses.csv?nps_group=x", "invalid_parameter", "nps_group"},
	} {
		code, body := s.get(t, store.ScopeRead, "/surveys/"+id+tt.path)
		e, _ := body["error"].(map[string]any)
		if code != 400 || e["code"] != tt.code || e["field"] != tt.field {
			t.Errorf("%s: %d %v, want 400 %s on %s", tt.path, code, body, tt.code, tt.field)
		}
	}
	// Another site's segment is unknown here: no answer leaks through it.
	other, token := s.otherSite(t)
	req, _ := http.NewRequest("POST", s.base+"/api/v1/sites/"+other+"/segments", strings.NewReader(`{"name":"theirs","text":"did(\"export\")"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	code, body := do(t, req)
	if code != 201 {
		t.Fatalf("the other site's segment: %d %v", code, body)
	}
	theirs := body["id"].(string)
	for _, p := range []string{"/results", "/responses", "/responses.csv"} {
		code, body := s.get(t, store.ScopeRead, "/surveys/"+id+p+"?segment="+theirs)
		if e, _ := body["error"].(map[string]any); code != 400 || e["code"] != "unknown_segment" {
			t.Errorf("%s with another site's segment: %d %v", p, code, body)
		}
	}
}
