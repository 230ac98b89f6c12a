package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// seedCompare sends 120 identified users: 60 on the pro plan who
// completed onboarding and export, 60 on the free plan of whom most did
// not complete onboarding and none exports; every one saw a variant of
// the onboarding_v2 experiment (alternately A and B) and variant B's
// users complete "Setup Done" far more often. u0 also saw variant A
// after B: exposed twice, counted in neither.
func seedCompare(t *testing.T, s *testServer) {
	t.Helper()
	var batch []string
	ts := time.Now().UTC().Add(-48 * time.Hour)
	at := func(d time.Duration) string { return ts.Add(d).Format(time.RFC3339Nano) }
	for i := range 120 {
		id := fmt.Sprintf("u%d", i)
		pro := i < 60
		plan, onboarded := "free", i%4 == 0
		if pro {
			plan, onboarded = "pro", i%10 != 0
		}
		variant := "A"
		if i%2 == 1 {
			variant = "B"
		}
		batch = append(batch,
			fmt.Sprintf(`{"type":"identify","userId":%q,"traits":{"plan":%q,"onboarding_completed":%t},"timestamp":%q}`, id, plan, onboarded, at(0)),
			fmt.Sprintf(`{"type":"track","userId":%q,"event":"$experiment_viewed","properties":{"experiment":"onboarding_v2","variant":%q},"timestamp":%q}`, id, variant, at(time.Minute)),
			fmt.Sprintf(`{"type":"track","userId":%q,"event":"Open","timestamp":%q}`, id, at(2*time.Minute)))
		if pro {
			batch = append(batch, fmt.Sprintf(`{"type":"track","userId":%q,"event":"Export","properties":{"rows":%d},"timestamp":%q}`, id, 10+i, at(3*time.Minute)))
		}
		if (variant == "B" && i%5 != 0) || (variant == "A" && i%5 == 0) {
			batch = append(batch, fmt.Sprintf(`{"type":"track","userId":%q,"event":"Setup Done","timestamp":%q}`, id, at(4*time.Minute)))
		}
	}
	batch = append(batch, fmt.Sprintf(`{"type":"track","userId":"u1","event":"$experiment_viewed","properties":{"experiment":"onboarding_v2","variant":"A"},"timestamp":%q}`, at(5*time.Minute)))
	for len(batch) > 0 {
		n := min(len(batch), 200)
		if code, out := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch[:n], ",")+`]}`); code != 200 {
			t.Fatalf("batch: %d %v", code, out)
		}
		batch = batch[n:]
	}
	// Wait until everything is queryable.
	deadline := time.Now().Add(20 * time.Second)
	for s.preview(t, `{"type":"event","name":"Setup Done"}`) == 0 || s.preview(t, `{"type":"attribute","key":"onboarding_completed","op":"=","value":true}`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the seeded users never became queryable")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func rowsOf(out map[string]any) []map[string]any {
	var rows []map[string]any
	list, _ := out["rows"].([]any)
	for _, r := range list {
		rows = append(rows, r.(map[string]any))
	}
	return rows
}

func TestCompareAPI(t *testing.T) {
	s := startServer(t, nil)
	seedCompare(t, s)

	// A read token compares: pro users against everyone else.
	code, out := s.call(t, store.ScopeRead, "POST", "/compare", `{"a": {"text": "plan = \"pro\"", "label": "Pro"}, "days": 7}`)
	if code != 200 {
		t.Fatalf("compare: %d %v", code, out)
	}
	a, b := out["a"].(map[string]any), out["b"].(map[string]any)
	if a["size"] != 60.0 || b["size"] != 60.0 || a["label"] != "Pro" || b["label"] != "Everyone else" {
		t.Fatalf("groups: %v / %v", a, b)
	}
	var onboarding, export map[string]any
	for i, r := range rowsOf(out) {
		if r["key"] == "onboarding_completed" && r["value"] == "false" {
			onboarding = r
			t.Logf("onboarding_completed = false ranks %d", i+1)
		}
		if r["key"] == "Export" && r["measure"] == "share" {
			export = r
		}
		if r["key"] == "plan" && r["defining"] != true {
			t.Errorf("the plan row restates A's definition but is not marked defining: %v", r)
		}
	}
	if onboarding == nil || onboarding["significant"] != true || onboarding["test"] != "two-proportion z" {
		t.Fatalf("onboarding row: %v", onboarding)
	}
	if export == nil || export["a"] != 1.0 || export["b"] != 0.0 || export["significant"] != true {
		t.Fatalf("Export row: %v", export)
	}
	// The row's segments find the users behind it.
	code, seg := s.call(t, store.ScopeRead, "POST", "/segments/preview", fmt.Sprintf(`{"text": %q}`, onboarding["segment_b"]))
	if code != 200 || seg["size"] != 45.0 {
		t.Errorf("segment_b %q: %d %v, want the 45 free users who did not complete onboarding", onboarding["segment_b"], code, seg["size"])
	}

	// CSV.
	req, _ := http.NewRequest("POST", s.base+"/api/v1/sites/"+s.site+"/compare?format=csv",
		strings.NewReader(`{"a": {"text": "plan = \"pro\""}, "b": {"text": "plan = \"free\""}}`))
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	_, _ = fmt.Fprint(&body, cmpBody(t, resp))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(body.String(), "section,kind,key,value,measure,label,") || !strings.Contains(body.String(), "difference,attribute,onboarding_completed,false") {
		t.Errorf("CSV: %d %s\n%.400s", resp.StatusCode, resp.Header.Get("Content-Type"), body.String())
	}

	// Bad input: 400 with the field at fault.
	for _, c := range []struct{ body, code, field string }{
		{`{"a": {"text": "plan ="}}`, "invalid_segment", "a"},
		{`{"a": {"text": "plan = \"pro\""}, "b": {"segment": "seg_nope"}}`, "segment_not_found", "b.segment"},
		{`{"a": {"text": "plan = \"pro\""}, "days": -3}`, "invalid_parameter", "days"},
		{`{"a": {"text": "plan = \"pro\""}, "from": "yesterday"}`, "invalid_parameter", "from"},
		{`{"a": {"text": "plan = \"pro\""}, "rest": "some"}`, "invalid_comparison", ""},
	} {
		code, out := s.call(t, store.ScopeRead, "POST", "/compare", c.body)
		if code != 400 || errorCode(out) != c.code || cmpField(out) != c.field {
			t.Errorf("%s: %d %v, want 400 %s on %q", c.body, code, out, c.code, c.field)
		}
	}
	// Another site's token does not reach this site.
	ctx := context.Background()
	other, err := s.admin.CreateSite(ctx, "Other", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.admin.CreateToken(ctx, other.ID, store.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("POST", s.base+"/api/v1/sites/"+s.site+"/compare", strings.NewReader(`{"a": {"text": "plan = \"pro\""}}`))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	if code, _ := do(t, req); code != 404 {
		t.Errorf("another site's token: %d, want 404", code)
	}
}

func TestExperimentsAPI(t *testing.T) {
	s := startServer(t, nil)
	seedCompare(t, s)
	start := time.Now().UTC().Add(-7 * 24 * time.Hour).Format(time.RFC3339)
	def := fmt.Sprintf(`{"name": "Onboarding v2", "source": {"kind": "event", "experiment": "onboarding_v2"},
		"variants": [{"name": "A"}, {"name": "B"}], "control": "A", "start": %q,
		"goals": [{"kind": "event", "event": "Setup Done"}, {"kind": "event", "event": "Open"},
			{"kind": "property", "event": "Export", "property": "rows"}],
		"breakdown": ["plan = \"pro\""]}`, start)

	// Reading needs read, saving write.
	if code, _ := s.call(t, store.ScopeRead, "POST", "/experiments", def); code != 403 {
		t.Errorf("create with a read token: %d", code)
	}
	code, created := s.call(t, store.ScopeWrite, "POST", "/experiments", def)
	if code != 201 {
		t.Fatalf("create: %d %v", code, created)
	}
	id := created["id"].(string)
	if created["source"].(map[string]any)["event"] != "$experiment_viewed" || created["source"].(map[string]any)["property"] != "variant" {
		t.Errorf("defaults: %v", created["source"])
	}
	code, list := s.call(t, store.ScopeRead, "GET", "/experiments", "")
	if code != 200 || len(list["experiments"].([]any)) != 1 {
		t.Errorf("list: %d %v", code, list)
	}

	code, out := s.call(t, store.ScopeRead, "GET", "/experiments/"+id+"/results", "")
	if code != 200 {
		t.Fatalf("results: %d %v", code, out)
	}
	res := out["results"].(map[string]any)
	// u1 saw both variants: reported, in neither.
	if res["multiple"] != 1.0 {
		t.Errorf("multiple = %v, want 1", res["multiple"])
	}
	variants := res["variants"].([]any)
	va, vb := variants[0].(map[string]any), variants[1].(map[string]any)
	if va["users"] != 60.0 || vb["users"] != 59.0 || !strings.Contains(vb["segment"].(string), `"$experiment_viewed"`) {
		t.Errorf("variants: %v %v", va, vb)
	}
	goals := res["goals"].([]any)
	setup := goals[0].(map[string]any)["arms"].([]any)
	ctl, arm := setup[0].(map[string]any), setup[1].(map[string]any)
	// A: 12 of 60 (i % 5 == 0 among the even i); B: 59 users less the
	// 12 with i % 5 == 0 (u1 is out, and it converted).
	if ctl["conversions"] != 12.0 || arm["conversions"] != 47.0 || arm["significant"] != true {
		t.Errorf("Setup Done: control %v, B %v", ctl, arm)
	}
	if open := goals[1].(map[string]any)["arms"].([]any)[1].(map[string]any); open["significant"] != false {
		t.Errorf("Open differs: %v", open)
	}
	if rows := goals[2].(map[string]any)["arms"].([]any)[1].(map[string]any); rows["test"] != "Welch t" || rows["diff_interval"] == nil {
		t.Errorf("Export rows: %v", rows)
	}
	if srm := res["srm"].(map[string]any); srm["mismatch"] != false {
		t.Errorf("srm: %v", srm)
	}
	if bd := res["breakdown"].([]any); len(bd) != 1 || bd[0].(map[string]any)["segment"] != `plan = "pro"` {
		t.Errorf("breakdown: %v", bd)
	}

	// CSV of the results.
	req, _ := http.NewRequest("GET", s.base+"/api/v1/sites/"+s.site+"/experiments/"+id+"/results?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if csv := cmpBody(t, resp); resp.StatusCode != 200 || !strings.Contains(csv, ",Setup Done,B,false,59,47,") {
		t.Errorf("CSV: %d\n%s", resp.StatusCode, csv)
	}

	// A saved funnel as a goal: its steps, read at each read of the
	// results. Every Setup Done came after an Open, both after the
	// exposure: the same conversions.
	code, f := s.call(t, store.ScopeWrite, "POST", "/insights",
		`{"name":"Open then set up","kind":"funnel","definition":{"steps":["did(\"Open\")","did(\"Setup Done\")"],"last_days":30}}`)
	if code != 201 {
		t.Fatalf("save the funnel: %d %v", code, f)
	}
	withFunnel := strings.Replace(def, `{"kind": "property"`, `{"kind": "funnel", "funnel": "`+f["id"].(string)+`"}, {"kind": "property"`, 1)
	if code, out := s.call(t, store.ScopeWrite, "PUT", "/experiments/"+id, withFunnel); code != 200 {
		t.Fatalf("add the funnel goal: %d %v", code, out)
	}
	code, out = s.call(t, store.ScopeRead, "GET", "/experiments/"+id+"/results", "")
	if code != 200 {
		t.Fatalf("results: %d %v", code, out)
	}
	fg := out["results"].(map[string]any)["goals"].([]any)[2].(map[string]any)
	arms := fg["arms"].([]any)
	if g := fg["goal"].(map[string]any); g["name"] != "Open then set up" || fmt.Sprint(g["steps"]) != `[did("Open") did("Setup Done")]` ||
		arms[0].(map[string]any)["conversions"] != 12.0 || arms[1].(map[string]any)["conversions"] != 47.0 {
		t.Errorf("the funnel goal: %v", fg)
	}

	// Bad definitions say which field.
	for _, c := range []struct{ body, field string }{
		{strings.Replace(def, `{"kind": "property"`, `{"kind": "funnel", "funnel": "ins_nope"}, {"kind": "property"`, 1), "goals[2].funnel"},
		{`{"name": ""}`, "name"},
		{strings.Replace(def, `"control": "A"`, `"control": "C"`, 1), "control"},
		{strings.Replace(def, `"variants": [{"name": "A"}, {"name": "B"}]`, `"variants": [{"name": "A"}]`, 1), "variants"},
		{strings.Replace(def, `"breakdown": ["plan = \"pro\""]`, `"breakdown": ["plan ="]`, 1), "breakdown[0]"},
	} {
		code, out := s.call(t, store.ScopeWrite, "POST", "/experiments", c.body)
		if code != 400 || cmpField(out) != c.field {
			t.Errorf("%s: %d %v, want 400 on %q", c.body, code, out, c.field)
		}
	}
	// Update, delete.
	if code, out := s.call(t, store.ScopeWrite, "PUT", "/experiments/"+id, strings.Replace(def, "Onboarding v2", "Onboarding v2.1", 1)); code != 200 || out["name"] != "Onboarding v2.1" {
		t.Errorf("update: %d %v", code, out)
	}
	if code, _ := s.call(t, store.ScopeWrite, "DELETE", "/experiments/"+id, ""); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := s.call(t, store.ScopeRead, "GET", "/experiments/"+id, ""); code != 404 {
		t.Errorf("deleted: %d", code)
	}
}

// cmpBody reads and closes a response's body.
func cmpBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cmpField is the field an API error names.
func cmpField(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}
