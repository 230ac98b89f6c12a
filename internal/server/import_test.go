package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// TestImportUsersThroughHTTP uploads a CSV with good and bad rows: the
// report names the bad ones by line, the good ones read back through the
// API with their history, and the scopes and a bad header are refused.
func TestImportUsersThroughHTTP(t *testing.T) {
	s := startServer(t, nil)
	if code, out := s.send(t, "/v1/identify", `{"userId":"seed","traits":{"ltv":1}}`); code != 200 {
		t.Fatalf("identify: %d %v", code, out)
	}
	post := func(scope store.Scope, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, s.base+"/api/v1/sites/"+s.site+"/imports/users", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.tokens[scope])
		req.Header.Set("Content-Type", "text/csv")
		return do(t, req)
	}
	const file = "user_id,plan,ltv\nann,pro,120\nbob,free,lots\n,x,1\n"
	if code, out := post(store.ScopeWrite, file); code != 403 {
		t.Errorf("import with a write token: %d %v", code, out)
	}
	if code, out := post(store.ScopeAdmin, "plan,ltv\npro,1\n"); code != 400 || errorCode(out) != "invalid_csv" {
		t.Errorf("no user ID column: %d %v", code, out)
	}
	code, rep := post(store.ScopeAdmin, file)
	b, _ := json.Marshal(rep)
	if code != 200 || rep["rows"] != 3.0 || rep["applied"] != 2.0 || rep["rejected_cells"] != 1.0 || rep["rejected_rows"] != 1.0 ||
		!strings.Contains(string(b), `"column":"ltv","line":3`) || !strings.Contains(string(b), `"code":"missing_id","line":4`) {
		t.Errorf("report: %d %s", code, b)
	}
	var ann struct {
		Attributes map[string]struct {
			Value any    `json:"value"`
			Type  string `json:"type"`
		} `json:"attributes"`
	}
	s.getJSON(t, "/users/ann", &ann)
	if ann.Attributes["plan"].Value != "pro" || ann.Attributes["ltv"].Value != 120.0 || ann.Attributes["ltv"].Type != "number" {
		t.Errorf("ann = %+v", ann)
	}
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+s.site+"/users/ann/history", nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Count(string(h), `"key"`) != 2 {
		t.Errorf("ann's history: %s", h)
	}
	if code, again := post(store.ScopeAdmin, file); code != 200 || again["changed"] != 0.0 {
		t.Errorf("re-import: %d %v", code, again)
	}
}

// TestImportCompaniesThroughHTTP uploads a CSV of company attributes: the
// company a user belongs to shows them on the user's profile, a cell of
// the wrong type and a row without an ID are refused by line, and the
// scopes and a header without a company ID column are refused.
func TestImportCompaniesThroughHTTP(t *testing.T) {
	s := startServer(t, nil)
	if code, out := s.send(t, "/v1/group", `{"userId":"ann","groupId":"acme","traits":{"seats":3}}`); code != 200 {
		t.Fatalf("group: %d %v", code, out)
	}
	post := func(scope store.Scope, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, s.base+"/api/v1/sites/"+s.site+"/imports/companies", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.tokens[scope])
		req.Header.Set("Content-Type", "text/csv")
		return do(t, req)
	}
	const file = "group_id;name;seats;renews:datetime\nacme;Acme Inc;12;2027-01-31\nglobex;Globex;many;2027-02-01\n;Nobody;1;\n"
	if code, out := post(store.ScopeRead, file); code != 403 {
		t.Errorf("import with a read token: %d %v", code, out)
	}
	if code, out := post(store.ScopeAdmin, "user_id,name\nann,x\n"); code != 400 || errorCode(out) != "invalid_csv" {
		t.Errorf("no company ID column: %d %v", code, out)
	}
	code, rep := post(store.ScopeAdmin, file)
	b, _ := json.Marshal(rep)
	if code != 200 || rep["rows"] != 3.0 || rep["applied"] != 2.0 || rep["rejected_cells"] != 1.0 || rep["rejected_rows"] != 1.0 ||
		rep["changed"] != 5.0 || rep["delimiter"] != ";" ||
		!strings.Contains(string(b), `"column":"seats","line":3`) || !strings.Contains(string(b), `"code":"missing_id","line":4`) {
		t.Errorf("report: %d %s", code, b)
	}
	var ann struct {
		Companies []struct {
			GroupID    string         `json:"group_id"`
			Attributes map[string]any `json:"attributes"`
		} `json:"companies"`
	}
	s.getJSON(t, "/users/ann", &ann)
	got, _ := json.Marshal(ann.Companies)
	if len(ann.Companies) != 1 || ann.Companies[0].GroupID != "acme" || !strings.Contains(string(got), `"Acme Inc"`) ||
		!strings.Contains(string(got), "12") || !strings.Contains(string(got), "2027-01-31") {
		t.Errorf("ann's companies: %s", got)
	}
	if code, again := post(store.ScopeAdmin, file); code != 200 || again["changed"] != 0.0 {
		t.Errorf("re-import: %d %v", code, again)
	}
}
