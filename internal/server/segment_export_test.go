package server_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// TestSegmentExportColumns exports a segment's members in the columns
// asked for: the default (user_id and the key attributes), a choice in
// any order with the member key and an anonymous member, and refusals
// of unknown, repeated and empty names.
func TestSegmentExportColumns(t *testing.T) { forBackends(t, testSegmentExportColumns) }

func testSegmentExportColumns(t *testing.T) {
	s := startServer(t, nil)
	batch := []string{
		`{"type":"identify","userId":"ann","traits":{"name":"Ann","email":"ann@example.com","plan":"pro","ltv":900,"city":"Oslo"}}`,
		`{"type":"identify","userId":"bob","traits":{"name":"Bob","plan":"pro","ltv":50}}`,
		`{"type":"identify","userId":"cy","traits":{"plan":"free","ltv":5}}`,
		`{"type":"track","userId":"ann","event":"export"}`,
		`{"type":"track","anonymousId":"anon-zed","event":"export"}`,
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
	pro := s.saveSegment(t, "pro", `plan = "pro"`)
	exporters := s.saveSegment(t, "exporters", `did("export")`)
	read := func(path string) [][]string {
		t.Helper()
		code, raw := s.download(t, path)
		rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
		if code != 200 || err != nil || len(rows) == 0 {
			t.Fatalf("%s: %d %v %s", path, code, err, raw)
		}
		return rows
	}
	sorted := func(rows [][]string) string {
		var out []string
		for _, r := range rows {
			out = append(out, strings.Join(r, "|"))
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}

	// The default: user_id, then the site's key attributes (name, email,
	// plan and ltv first, here all there is but city).
	rows := read("/segments/" + pro + "/export")
	if got := strings.Join(rows[0], ","); got != "user_id,name,email,plan,ltv,city" {
		t.Errorf("default columns: %s", got)
	}
	if got := sorted(rows[1:]); got != "ann|Ann|ann@example.com|pro|900|Oslo bob|Bob||pro|50|" {
		t.Errorf("default rows: %s", got)
	}

	// Chosen columns, in the order given; the key tells the anonymous
	// exporter apart and is the one the members endpoint gives.
	var members struct {
		Members []struct {
			UserID string `json:"user_id"`
			Key    int64  `json:"key"`
		} `json:"members"`
	}
	s.getJSON(t, "/segments/"+exporters+"/members", &members)
	var want []string
	for _, m := range members.Members {
		plan := map[string]string{"ann": "pro"}[m.UserID]
		want = append(want, fmt.Sprintf("%s|%d|%s", plan, m.Key, m.UserID))
	}
	slices.Sort(want)
	rows = read("/segments/" + exporters + "/export?columns=plan,key,user_id")
	if strings.Join(rows[0], ",") != "plan,key,user_id" || len(want) != 2 || sorted(rows[1:]) != strings.Join(want, " ") {
		t.Errorf("chosen columns: %v, want %v", rows, want)
	}

	// JSON: user_id and key, and the chosen attributes only.
	code, raw := s.download(t, "/segments/"+pro+"/export?format=json&columns=user_id,ltv")
	var list []struct {
		UserID     string                    `json:"user_id"`
		Attributes map[string]map[string]any `json:"attributes"`
	}
	if err := json.Unmarshal(raw, &list); code != 200 || err != nil || len(list) != 2 {
		t.Fatalf("json: %d %v %s", code, err, raw)
	}
	for _, m := range list {
		if len(m.Attributes) != 1 || m.Attributes["ltv"] == nil {
			t.Errorf("json member %s has attributes %v, want ltv alone", m.UserID, m.Attributes)
		}
	}

	for _, tt := range []struct{ query, code string }{
		{"columns=user_id,shoe_size", "unknown_column"},
		{"columns=plan,user_id,plan", "duplicate_column"},
		{"columns=", "invalid_parameter"},
		{"columns=user_id,,plan", "invalid_parameter"},
		{"columns=" + strings.Repeat("plan,", 200) + "plan", "too_many_columns"},
	} {
		code, body := s.get(t, store.ScopeRead, "/segments/"+pro+"/export?"+tt.query)
		e, _ := body["error"].(map[string]any)
		if code != 400 || e["code"] != tt.code || e["field"] != "columns" {
			t.Errorf("%.60s: %d %v, want 400 %s on columns", tt.query, code, body, tt.code)
		}
	}
}
