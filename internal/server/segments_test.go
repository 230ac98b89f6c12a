package server_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// call sends a request with a token of the given scope and a JSON body.
func (s *testServer) call(t *testing.T, scope store.Scope, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.base+"/api/v1/sites/"+s.site+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.tokens[scope])
	return do(t, req)
}

func memberIDs(t *testing.T, body map[string]any) []string {
	t.Helper()
	var ids []string
	ms, _ := body["members"].([]any)
	for _, m := range ms {
		ids = append(ids, m.(map[string]any)["user_id"].(string))
	}
	sort.Strings(ids)
	return ids
}

func TestSegmentsThroughHTTP(t *testing.T) { forBackends(t, testSegmentsThroughHTTP) }

func testSegmentsThroughHTTP(t *testing.T) {
	s := startServer(t, nil)
	var batch []string
	for i, u := range []struct {
		id, plan string
		ltv      float64
		exports  int
	}{{"ann", "pro", 900, 3}, {"bob", "pro", 50, 0}, {"cy", "free", 0, 1}, {"dee", "team", 400, 5}} {
		batch = append(batch, fmt.Sprintf(`{"type":"identify","userId":%q,"traits":{"plan":%q,"ltv":%v},"messageId":"i%d"}`,
			u.id, u.plan, u.ltv, i))
		for j := range u.exports {
			batch = append(batch, fmt.Sprintf(`{"type":"track","userId":%q,"event":"export","properties":{"format":"csv"},"messageId":"e%d-%d"}`, u.id, i, j))
		}
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}

	// An unknown attribute is refused with a suggestion and a position.
	code, body := s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"text":"plam = \"pro\""}`)
	e, _ := body["error"].(map[string]any)
	if code != 400 || e["code"] != "invalid_segment" || !strings.Contains(fmt.Sprint(e["message"]), `did you mean "plan"`) {
		t.Fatalf("unknown attribute: %d %v", code, body)
	}
	if d, _ := e["details"].([]any); len(d) != 1 || d[0].(map[string]any)["line"] != 1.0 || d[0].(map[string]any)["column"] != 1.0 {
		t.Fatalf("details = %v", e["details"])
	}
	// A syntax error points at line and column.
	code, body = s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"text":"plan = \"pro\" and\n  ltv >"}`)
	if code != 400 || !strings.Contains(fmt.Sprint(body), "2:") {
		t.Fatalf("syntax error: %d %v", code, body)
	}

	// Preview: size and members with attributes.
	code, body = s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"text":"plan = \"pro\" and did(\"export\") >= 2"}`)
	if code != 200 || body["size"] != 1.0 || fmt.Sprint(memberIDs(t, body)) != "[ann]" {
		t.Fatalf("preview: %d %v", code, body)
	}
	// Fresh: a user identified a moment ago is in the very next answer.
	s.send(t, "/v1/identify", `{"userId":"eve","traits":{"plan":"pro","ltv":10}}`)
	code, body = s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"text":"plan = \"pro\""}`)
	if fmt.Sprint(memberIDs(t, body)) != "[ann bob eve]" {
		t.Fatalf("fresh preview: %d %v", code, body)
	}

	// Saved segments, in / not in, nested groups.
	code, body = s.call(t, store.ScopeWrite, "POST", "/segments", `{"name":"Pro","text":"plan = \"pro\"","author":"pm@example.com"}`)
	if code != 201 || body["size"] != 3.0 {
		t.Fatalf("create: %d %v", code, body)
	}
	pro := body["id"].(string)
	code, body = s.call(t, store.ScopeRead, "POST", "/segments/preview",
		fmt.Sprintf(`{"text":"not in_segment(\"%s\") and (ltv > 100 or did(\"export\"))"}`, pro))
	if code != 200 || fmt.Sprint(memberIDs(t, body)) != "[cy dee]" {
		t.Fatalf("not in segment: %d %v", code, body)
	}
	// A read token cannot save; a cycle is refused.
	if code, _ := s.call(t, store.ScopeRead, "POST", "/segments", `{"name":"x","text":"plan = \"pro\""}`); code != 403 {
		t.Fatalf("read token saved a segment: %d", code)
	}
	code, body = s.call(t, store.ScopeWrite, "PUT", "/segments/"+pro, fmt.Sprintf(`{"name":"Pro","text":"in_segment(\"%s\")"}`, pro))
	if code != 400 || !strings.Contains(fmt.Sprint(body), "cycle") {
		t.Fatalf("cycle: %d %v", code, body)
	}

	// Members, membership and a user's segments.
	code, body = s.call(t, store.ScopeRead, "GET", "/segments/"+pro+"/members?limit=2&attributes=plan,ltv", "")
	if code != 200 || len(memberIDs(t, body)) != 2 || body["next_after"] == "" {
		t.Fatalf("members page 1: %d %v", code, body)
	}
	first := memberIDs(t, body)
	code, body = s.call(t, store.ScopeRead, "GET", "/segments/"+pro+"/members?limit=2&after="+body["next_after"].(string), "")
	if all := append(first, memberIDs(t, body)...); code != 200 || len(all) != 3 {
		t.Fatalf("members page 2: %d %v", code, body)
	}
	if _, body := s.call(t, store.ScopeRead, "GET", "/segments/"+pro+"/members/bob", ""); body["member"] != true {
		t.Fatalf("bob in Pro: %v", body)
	}
	if _, body := s.call(t, store.ScopeRead, "GET", "/segments/"+pro+"/members/cy", ""); body["member"] != false {
		t.Fatalf("cy in Pro: %v", body)
	}
	if _, body := s.call(t, store.ScopeRead, "GET", "/users/ann/segments", ""); fmt.Sprint(body["segments"]) != fmt.Sprintf("[map[id:%s name:Pro]]", pro) {
		t.Fatalf("ann's segments: %v", body)
	}

	// Exports hold exactly the members.
	req, _ := http.NewRequest("GET", s.base+"/api/v1/sites/"+s.site+"/segments/"+pro+"/export?format=csv&attributes=plan,ltv", nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(rows) != 4 || strings.Join(rows[0], ",") != "user_id,plan,ltv" {
		t.Fatalf("csv export: %v %v", rows, err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[0]+":"+r[1]+":"+r[2])
	}
	sort.Strings(got)
	if fmt.Sprint(got) != "[ann:pro:900 bob:pro:50 eve:pro:10]" {
		t.Fatalf("csv rows: %v", got)
	}
	req, _ = http.NewRequest("GET", s.base+"/api/v1/sites/"+s.site+"/segments/"+pro+"/export?format=json", nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); err != nil || len(list) != 3 {
		t.Fatalf("json export: %v %s", err, raw)
	}

	// A segment in use by another cannot be deleted; then both can.
	_, body = s.call(t, store.ScopeWrite, "POST", "/segments", fmt.Sprintf(`{"name":"Not pro","text":"not in_segment(\"%s\")"}`, pro))
	notPro := body["id"].(string)
	if code, body := s.call(t, store.ScopeWrite, "DELETE", "/segments/"+pro, ""); code != 409 {
		t.Fatalf("delete in use: %d %v", code, body)
	}
	if code, _ := s.call(t, store.ScopeWrite, "DELETE", "/segments/"+notPro, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := s.call(t, store.ScopeWrite, "DELETE", "/segments/"+pro, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := s.call(t, store.ScopeRead, "GET", "/segments/"+pro, ""); code != 404 {
		t.Fatalf("deleted segment still there: %d", code)
	}
}
