package duckstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestActivityInTimeZones: the overview's days are the site's, in zones
// far from UTC on both sides, at quarter hours, and across a change of
// daylight saving time (St John's goes back an hour on 1 November 2026,
// inside the period: a 25-hour day). What each day must count is worked
// out from the generated visits alone: a user counts on each local day
// they sent something in the period, a visit and its messages on the
// local day it started.
func TestActivityInTimeZones(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	now := time.Date(2026, 11, 3, 15, 20, 0, 0, time.UTC)
	type visit struct {
		who  string
		msgs []time.Time
	}
	// Visits start at least 66 minutes apart for one visitor and last at
	// most 4 minutes, so each is a session; they are dense around every
	// hour of the day, so that each zone's midnight cuts between some.
	r := rand.New(rand.NewPCG(3, 14))
	var visits []visit
	start := now.Add(-75 * 24 * time.Hour)
	for i := range 20 {
		who := fmt.Sprintf("u%d", i)
		for at := start.Add(time.Duration(r.IntN(300)) * time.Minute); at.Before(now); at = at.Add(66*time.Minute +
			time.Duration(r.IntN(5*60))*time.Minute) {
			v := visit{who: who}
			for k := range 1 + r.IntN(4) {
				v.msgs = append(v.msgs, at.Add(time.Duration(k)*time.Minute+time.Duration(r.IntN(50))*time.Second))
			}
			if v.msgs[len(v.msgs)-1].Before(now) {
				visits = append(visits, v)
			}
		}
	}
	var msgs []store.Message
	for vi, v := range visits {
		for mi, at := range v.msgs {
			msgs = append(msgs, page(site.ID, "", v.who, fmt.Sprintf("m%d-%d", vi, mi), "/", at))
		}
	}
	slices.SortFunc(msgs, func(a, b store.Message) int { return a.Timestamp.Compare(b.Timestamp) })
	for len(msgs) > 0 {
		n := min(len(msgs), 500)
		write(t, db, msgs[:n]...)
		msgs = msgs[n:]
	}

	for _, zone := range []string{"UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu", "America/St_Johns"} {
		t.Run(zone, func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			l := now.In(loc)
			from := time.Date(l.Year(), l.Month(), l.Day()-29, 0, 0, 0, 0, loc)
			cur := store.Period{From: from, To: now}
			prev := store.Period{From: from.Add(-now.Sub(from)), To: from}
			got, err := db.Activity(ctx, site.ID, cur, prev, loc)
			if err != nil {
				t.Fatal(err)
			}

			// What the visits say.
			type counts struct {
				users              map[string]bool
				sessions, messages int64
			}
			in := func(p store.Period, at time.Time) bool { return !at.Before(p.From) && at.Before(p.To) }
			periods := [2]counts{{users: map[string]bool{}}, {users: map[string]bool{}}}
			days := map[string]*counts{}
			var dayNames []string
			for d := from; d.Before(now); d = d.AddDate(0, 0, 1) {
				dayNames = append(dayNames, d.Format(time.DateOnly))
				days[d.Format(time.DateOnly)] = &counts{users: map[string]bool{}}
			}
			for _, v := range visits {
				for i, p := range []store.Period{cur, prev} {
					if in(p, v.msgs[0]) {
						periods[i].sessions++
						periods[i].messages += int64(len(v.msgs))
						if i == 0 {
							d := days[v.msgs[0].In(loc).Format(time.DateOnly)]
							d.sessions++
							d.messages += int64(len(v.msgs))
						}
					}
					for _, at := range v.msgs {
						if in(p, at) {
							periods[i].users[v.who] = true
							if i == 0 {
								days[at.In(loc).Format(time.DateOnly)].users[v.who] = true
							}
						}
					}
				}
			}
			for i, c := range []store.ActivityCounts{got.Current, got.Previous} {
				w := periods[i]
				if c.Users != int64(len(w.users)) || c.Sessions != w.sessions || c.Events != w.messages {
					t.Errorf("period %d: %+v, want %d users, %d sessions, %d events", i, c, len(w.users), w.sessions, w.messages)
				}
			}
			if len(got.Days) != len(dayNames) {
				t.Fatalf("%d days, want %d", len(got.Days), len(dayNames))
			}
			hours := map[time.Duration]int{}
			for i, d := range got.Days {
				name := d.Day.In(loc).Format(time.DateOnly)
				if name != dayNames[i] || !d.Day.Equal(time.Date(d.Day.In(loc).Year(), d.Day.In(loc).Month(), d.Day.In(loc).Day(), 0, 0, 0, 0, loc)) {
					t.Fatalf("day %d starts %s, want %s at local midnight", i, d.Day, dayNames[i])
				}
				hours[d.Day.AddDate(0, 0, 1).Sub(d.Day)]++
				w := days[name]
				if d.Users != int64(len(w.users)) || d.Sessions != w.sessions || d.Events != w.messages {
					t.Errorf("%s: %+v, want %d users, %d sessions, %d events", name, d.ActivityCounts, len(w.users), w.sessions, w.messages)
				}
			}
			if zone == "America/St_Johns" && hours[25*time.Hour] != 1 {
				t.Errorf("day lengths %v: want one of 25 hours", hours)
			}
		})
	}
}
