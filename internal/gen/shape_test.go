package gen_test

import (
	"testing"

	"github.com/sightline/sightline/internal/gen"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestSessionsAsTheWriterWouldMakeThem checks that generated sessions are
// what the write path's sessionisation would have made of the same events:
// counts match, events fall inside, no 30-minute gap inside a session, none
// longer than 4 hours, a user's sessions more than 30 minutes apart, and
// no activity before the user signed up.
func TestSessionsAsTheWriterWouldMakeThem(t *testing.T) {
	db, site, stats := generated(t, gen.Config{Users: 500, Seed: 3})
	checkSessions(t, db, site.ID)
	if stats.Sessions == 0 {
		t.Fatal("no sessions")
	}
}

// checkSessions checks a site's generated sessions against their events,
// as the writer would have made them.
func checkSessions(t *testing.T, db *duckstore.DB, site int64) {
	t.Helper()
	var bad [7]int64
	err := db.SQL().QueryRow(`WITH e AS (
			SELECT session_id, ts, kind,
				epoch(ts - lag(ts) OVER (PARTITION BY session_id ORDER BY ts)) AS gap
			FROM events WHERE site_id = $1),
		agg AS (
			SELECT session_id, count(*) FILTER (WHERE kind IN (2, 3, 4)) AS n,
				count(*) FILTER (WHERE kind = 3) AS pages, min(ts) AS first, max(ts) AS last,
				max(gap) AS gap
			FROM e GROUP BY session_id),
		s AS (
			SELECT *, epoch(started_at - lag(ended_at) OVER (PARTITION BY user_key ORDER BY started_at)) AS idle
			FROM sessions WHERE site_id = $1)
		SELECT
			count(*) FILTER (WHERE agg.n IS DISTINCT FROM s.event_count OR agg.pages IS DISTINCT FROM s.page_count),
			count(*) FILTER (WHERE agg.first <> s.started_at OR agg.last <> s.ended_at),
			count(*) FILTER (WHERE agg.gap >= 30 * 60),
			count(*) FILTER (WHERE s.ended_at - s.started_at >= INTERVAL 4 HOUR),
			count(*) FILTER (WHERE s.idle <= 30 * 60),
			(SELECT count(*) FROM events WHERE site_id = $1 AND session_id NOT IN (SELECT session_id FROM sessions)),
			(SELECT count(*) FROM events e JOIN attr_current a ON a.entity_key = e.user_key AND a.key = 'signed_up_at'
				WHERE e.site_id = $1 AND e.ts < a.t)
		FROM s LEFT JOIN agg USING (session_id)`, site).Scan(&bad[0], &bad[1], &bad[2], &bad[3], &bad[4], &bad[5], &bad[6])
	if err != nil {
		t.Fatal(err)
	}
	what := []string{"counts differ", "bounds differ from events", "a 30-minute gap", "4 hours or longer",
		"within 30 minutes of the previous", "events outside any session", "events before signing up"}
	for i, n := range bad {
		if n != 0 {
			t.Errorf("%d sessions: %s", n, what[i])
		}
	}
}

// TestSegmentsHaveMembers checks that the seed's segments select some users
// but not most: each part of the power-user segment, converted and churned
// trials, inactive users, and both A/B variants with different onboarding.
func TestSegmentsHaveMembers(t *testing.T) {
	db, site, stats := generated(t, gen.Config{Users: 3000, Seed: 1})
	q := func(name, query string) float64 {
		t.Helper()
		var n int64
		if err := db.SQL().QueryRow(query, site.ID, now).Scan(&n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		share := float64(n) / float64(stats.Users)
		t.Logf("%-28s %5d  %5.1f%%", name, n, 100*share)
		return share
	}
	const plan = `SELECT count(*) FROM attr_current WHERE site_id = $1 AND $2 IS NOT NULL AND key = 'plan' AND s = `
	checks := []struct {
		name     string
		query    string
		min, max float64
	}{
		{"active 4+ days in 7", `SELECT count(*) FROM (SELECT user_key FROM events WHERE site_id = $1
			AND kind IN (2, 3, 4) AND ts >= $2::TIMESTAMP - INTERVAL 7 DAY
			GROUP BY user_key HAVING count(DISTINCT date_trunc('day', ts)) >= 4)`, 0.005, 0.15},
		{"a 3h+ session in 7 days", `SELECT count(DISTINCT user_key) FROM sessions WHERE site_id = $1
			AND started_at >= $2::TIMESTAMP - INTERVAL 7 DAY AND ended_at - started_at >= INTERVAL 3 HOUR`, 0.002, 0.1},
		{"did Export in 30 days", `SELECT count(DISTINCT user_key) FROM events WHERE site_id = $1 AND kind = 2
			AND name = 'Export' AND ts >= $2::TIMESTAMP - INTERVAL 30 DAY`, 0.02, 0.4},
		{"plan enterprise", plan + `'enterprise'`, 0.02, 0.2},
		{"plan pro", plan + `'pro'`, 0.05, 0.4},
		{"plan free", plan + `'free'`, 0.1, 0.6},
		{"plan churned", plan + `'churned'`, 0.05, 0.4},
		{"trial converted", `SELECT count(DISTINCT h.entity_key) FROM attr_history h JOIN attr_history p
			ON p.entity_key = h.entity_key AND p.key = 'plan' AND p.s = 'trial' AND p.set_at < h.set_at
			WHERE h.site_id = $1 AND $2 IS NOT NULL AND h.key = 'plan' AND h.s IN ('pro', 'enterprise')`, 0.05, 0.4},
		{"inactive 30 days", `SELECT count(*) FROM attr_current WHERE site_id = $1 AND key = 'last_login'
			AND t < $2::TIMESTAMP - INTERVAL 30 DAY`, 0.2, 0.8},
		{"onboarding not completed", `SELECT count(*) FROM attr_current WHERE site_id = $1 AND $2 IS NOT NULL
			AND key = 'onboarding_completed' AND NOT b`, 0.5, 0.9},
		{"ltv over 1000", `SELECT count(*) FROM attr_current WHERE site_id = $1 AND $2 IS NOT NULL
			AND key = 'ltv' AND n > 1000`, 0.02, 0.3},
	}
	for _, c := range checks {
		if share := q(c.name, c.query); share < c.min || share > c.max {
			t.Errorf("%s: %.1f%% of users, want %.1f%% to %.0f%%", c.name, 100*share, 100*c.min, 100*c.max)
		}
	}
	// Variant B of the onboarding test completes onboarding more often.
	var a, b float64
	if err := db.SQL().QueryRow(`SELECT avg(o.b::INT) FILTER (WHERE v.s = 'A'), avg(o.b::INT) FILTER (WHERE v.s = 'B')
		FROM attr_current v JOIN attr_current o ON o.entity_key = v.entity_key AND o.key = 'onboarding_completed'
		WHERE v.site_id = $1 AND v.key = 'ab_variant'`, site.ID).Scan(&a, &b); err != nil {
		t.Fatal(err)
	}
	if b <= a {
		t.Errorf("onboarding completed: A %.2f, B %.2f; want B ahead", a, b)
	}
}
