package server_test

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/testsvc"
)

// TestMeasurePostgresOverhead measures what --postgres adds to a request
// that authenticates: a token's read of the saved segments, and a write
// key's track call, on an embedded server and one with its control data
// in PostgreSQL, in interleaved rounds. It only runs with
// SIGHTLINE_MEASURE=1 and logs the medians.
func TestMeasurePostgresOverhead(t *testing.T) {
	if os.Getenv("SIGHTLINE_MEASURE") == "" {
		t.Skip("a measurement: SIGHTLINE_MEASURE=1 runs it")
	}
	dsn := testsvc.Postgres(t)
	quiet := func(c *config.Config) { c.WrapHandler = nil }
	servers := map[string]*testServer{
		"embedded": startServer(t, quiet),
		"postgres": startServer(t, func(c *config.Config) { quiet(c); c.Postgres = dsn }),
	}
	const rounds, perRound = 8, 200
	times := map[string][]time.Duration{}
	client := &http.Client{}
	for r := range rounds {
		for _, name := range []string{"embedded", "postgres"} {
			s := servers[name]
			for i := range perRound {
				var req *http.Request
				kind := "read"
				if i%2 == 0 {
					req, _ = http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+s.site+"/segments", nil)
					req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
				} else {
					kind = "track"
					req, _ = http.NewRequest(http.MethodPost, s.base+"/v1/track", strings.NewReader(`{"userId":"u1","event":"E"}`))
					req.SetBasicAuth(s.writeKey, "")
				}
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%s %s: %s", name, kind, resp.Status)
				}
				if r > 0 { // the first round warms up
					times[name+" "+kind] = append(times[name+" "+kind], time.Since(start))
				}
			}
		}
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range times {
			if !yield(k) {
				return
			}
		}
	}) {
		d := times[k]
		slices.Sort(d)
		t.Logf("%-16s median %v  p90 %v  (%d requests)", k, d[len(d)/2].Round(time.Microsecond), d[len(d)*9/10].Round(time.Microsecond), len(d))
	}
}
