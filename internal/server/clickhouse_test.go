package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/testsvc"
)

// TestClickHouseTwoNodes: two servers on one ClickHouse and one
// PostgreSQL (serve --clickhouse --postgres), each with its own data
// folder and log, take one user's messages in turn, as a load balancer
// without stickiness would send them: three devices, identifies, an alias,
// a company, a rage click, a session split by 31 idle minutes. Both
// nodes then answer what one embedded node given the same messages
// answers: the same user, sessions, events and segment sizes. The lag
// between an acknowledgement on one node and the read on the other is
// logged (TestCrossNodeLag in package scaled measures it).
func TestClickHouseTwoNodes(t *testing.T) {
	pg, ch := testsvc.Postgres(t), testsvc.ClickHouse(t)
	node := func(name string) func(*config.Config) {
		return func(c *config.Config) { c.Postgres, c.ClickHouse, c.Node = pg, ch, name }
	}
	a, b := startServer(t, node("node-a")), startServer(t, node("node-b"))
	one := startServer(t, nil)
	viaB := *a // A's site, reached through B
	viaB.base = b.base

	t0 := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	at := func(min int) string { return t0.Add(time.Duration(min) * time.Minute).Format(time.RFC3339) }
	msgs := []string{
		`{"type":"page","anonymousId":"old-id","timestamp":"` + at(0) + `","properties":{"path":"/","url":"https://app.example.com/"}}`,
		`{"type":"page","anonymousId":"dev-1","timestamp":"` + at(1) + `","properties":{"path":"/pricing","url":"https://app.example.com/pricing"}}`,
		`{"type":"track","anonymousId":"dev-1","event":"$rage_click","timestamp":"` + at(2) + `","properties":{"selector":"#buy"}}`,
		`{"type":"identify","anonymousId":"dev-1","userId":"u1","timestamp":"` + at(3) + `","traits":{"plan":"pro","seats":3}}`,
		`{"type":"page","anonymousId":"dev-2","timestamp":"` + at(4) + `","properties":{"path":"/docs","url":"https://app.example.com/docs"}}`,
		`{"type":"identify","anonymousId":"dev-2","userId":"u1","timestamp":"` + at(5) + `","traits":{"seats":4}}`,
		`{"type":"track","userId":"u1","event":"Export","timestamp":"` + at(6) + `","properties":{"format":"csv"}}`,
		`{"type":"group","userId":"u1","groupId":"acme","timestamp":"` + at(7) + `","traits":{"tier":"gold"}}`,
		`{"type":"alias","userId":"u1","previousId":"old-id","timestamp":"` + at(8) + `"}`,
		`{"type":"page","userId":"u1","anonymousId":"dev-1","timestamp":"` + at(40) + `","properties":{"path":"/","url":"https://app.example.com/"}}`,
		`{"type":"track","userId":"u1","anonymousId":"dev-1","event":"Export","timestamp":"` + at(41) + `","properties":{"format":"pdf"}}`,
	}
	var lags []time.Duration
	for i, m := range msgs {
		body := `{"batch":[` + strings.Replace(m, `{"type"`, fmt.Sprintf(`{"messageId":"m%d","type"`, i), 1) + `]}`
		writer, reader := a, &viaB
		if i%2 == 1 {
			writer, reader = &viaB, a
		}
		if code, out := writer.send(t, "/v1/batch", body); code != http.StatusOK {
			t.Fatalf("message %d: %d %v", i, code, out)
		}
		acked := time.Now()
		if code, out := one.send(t, "/v1/batch", body); code != http.StatusOK {
			t.Fatalf("message %d on the embedded node: %d %v", i, code, out)
		}
		// The message is read on the other node once its node applied it.
		id := fmt.Sprintf("m%d", i)
		eventually(t, "message "+id+" read on the other node", func() bool {
			return hasMessage(t, reader, id, m)
		})
		lags = append(lags, time.Since(acked))
	}
	slices.Sort(lags)
	t.Logf("ack on one node to read on the other: median %v, max %v over %d messages", lags[len(lags)/2].Round(time.Millisecond),
		lags[len(lags)-1].Round(time.Millisecond), len(lags))

	for _, path := range []string{"/users/u1", "/users/dev-2?kind=anonymous", "/users/old-id?kind=anonymous"} {
		want := readJSON(t, one, path)
		for name, s := range map[string]*testServer{"A": a, "B": &viaB} {
			if got := readJSON(t, s, path); !reflect.DeepEqual(got, want) {
				t.Errorf("GET %s on %s:\n%v\nwant (one embedded node):\n%v", path, name, got, want)
			}
		}
	}
	wantSessions := sessionShapes(t, one)
	if len(wantSessions) != 4 {
		t.Errorf("one node made %d sessions, want 4 (three devices, one split by the idle gap): %v", len(wantSessions), wantSessions)
	}
	for name, s := range map[string]*testServer{"A": a, "B": &viaB} {
		if got := sessionShapes(t, s); !reflect.DeepEqual(got, wantSessions) {
			t.Errorf("sessions on %s: %v, want %v", name, got, wantSessions)
		}
	}
	for _, text := range []string{`plan = "pro"`, `did("Export")`, `did("Export", 30d) >= 2`, `seats >= 4`,
		`not did("Signup")`, `company.tier = "gold"`, `rage_clicks(30d) >= 1`, `sessions(30d) >= 4`, `identified()`} {
		def, _ := json.Marshal(map[string]string{"text": text})
		sizes := map[string]int{}
		for name, s := range map[string]*testServer{"one": one, "A": a, "B": &viaB} {
			code, out := s.call(t, store.ScopeRead, "POST", "/segments/preview", string(def))
			if code != http.StatusOK {
				t.Fatalf("preview %s on %s: %d %v", text, name, code, out)
			}
			sizes[name] = number(out["size"])
		}
		if sizes["A"] != sizes["one"] || sizes["B"] != sizes["one"] {
			t.Errorf("segment %s: sizes %v", text, sizes)
		}
	}
}

// hasMessage reports whether s reads message id among the events of the
// user that m (a message's JSON) names.
func hasMessage(t *testing.T, s *testServer, id, m string) bool {
	t.Helper()
	var msg struct {
		UserID      string `json:"userId"`
		AnonymousID string `json:"anonymousId"`
	}
	json.Unmarshal([]byte(m), &msg)
	path := "/users/" + msg.UserID + "/events?limit=100"
	if msg.UserID == "" {
		path = "/users/" + msg.AnonymousID + "/events?kind=anonymous&limit=100"
	}
	code, out := s.get(t, store.ScopeRead, path)
	if code != http.StatusOK {
		return false
	}
	events, _ := out["events"].([]any)
	for _, e := range events {
		if e.(map[string]any)["message_id"] == id {
			return true
		}
	}
	return false
}

// readJSON reads path with a read token.
func readJSON(t *testing.T, s *testServer, path string) map[string]any {
	t.Helper()
	code, out := s.get(t, store.ScopeRead, path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, code, out)
	}
	return out
}

// sessionShapes lists u1's sessions without their IDs, which each store
// numbers its own way.
func sessionShapes(t *testing.T, s *testServer) []map[string]any {
	t.Helper()
	out := readJSON(t, s, "/users/u1/sessions")
	list, _ := out["sessions"].([]any)
	var shapes []map[string]any
	for _, x := range list {
		m := x.(map[string]any)
		delete(m, "id")
		shapes = append(shapes, m)
	}
	return shapes
}
