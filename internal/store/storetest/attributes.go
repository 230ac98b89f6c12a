package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

func runAttributes(t *testing.T, open Opener[Analytics]) {
	t.Run("a key's first value fixes its type", func(t *testing.T) {
		s := open(t, NewClock().Now)
		out := write(t, s, identify("u1", "", "m1", T0, map[string]any{
			"plan": "pro", "ltv": 420.5, "beta": true, "signed_up_at": "2024-05-01", "address": map[string]any{"city": "Oslo"},
			"tags": []any{"a", "b"}, "nothing": nil}))
		if len(out[0].Warnings) != 0 || out[0].Duplicate || out[0].Refused != nil {
			t.Fatalf("outcome = %+v", out[0])
		}
		u := readUser(t, s, 1, user("u1"))
		got := attrs(u.Attributes)
		want := map[string]attr.Type{"plan": attr.String, "ltv": attr.Number, "beta": attr.Boolean,
			"signed_up_at": attr.Datetime, "address.city": attr.String, "tags": attr.String}
		if len(got) != len(want) {
			t.Errorf("attributes = %v, want the keys of %v", got, want)
		}
		for k, ty := range want {
			if got[k].Type != ty {
				t.Errorf("%s is a %s, want %s", k, got[k].Type, ty)
			}
		}
		if got["plan"].Str != "pro" || got["ltv"].Num != 420.5 || !got["beta"].Bool || got["address.city"].Str != "Oslo" ||
			!got["signed_up_at"].Time.Equal(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)) || got["tags"].Str != `["a","b"]` {
			t.Errorf("values = %+v", got)
		}
		for _, a := range u.Attributes {
			if !sameTime(a.ChangedAt, T0) {
				t.Errorf("%s changed at %v, want the message's time %v", a.Key, a.ChangedAt, T0)
			}
		}
	})

	t.Run("a value of another type is refused for its key alone, and listed", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, identify("u1", "", "m1", T0, map[string]any{"plan": "pro", "ltv": 420.0}))
		out := write(t, s, identify("u1", "", "m2", T0.Add(time.Minute), map[string]any{"ltv": "lots", "plan": "team"}))
		if len(out[0].Warnings) != 1 || out[0].Warnings[0].Field != "traits.ltv" || out[0].Warnings[0].Code != "attribute_type_mismatch" {
			t.Fatalf("warnings = %+v, want one attribute_type_mismatch at traits.ltv", out[0].Warnings)
		}
		got := attrs(readUser(t, s, 1, user("u1")).Attributes)
		if got["plan"].Str != "team" || got["ltv"].Num != 420 {
			t.Errorf("after the refusal: plan %v, ltv %v; want team and 420", got["plan"], got["ltv"])
		}
		rs, err := s.Rejections(ctx, 1, "", 10)
		check(t, err, "Rejections")
		if len(rs) != 1 {
			t.Fatalf("Rejections = %+v", rs)
		}
		r := rs[0]
		if r.Entity != store.EntityUser || r.Key != "ltv" || r.Expected != attr.Number || r.Received != "string" ||
			r.Value != "lots" || r.EntityID != "u1" || r.MessageID != "m2" {
			t.Errorf("rejection = %+v", r)
		}
		if rs, _ := s.Rejections(ctx, 1, "plan", 10); len(rs) != 0 {
			t.Errorf("Rejections of plan = %+v", rs)
		}
		if rs, _ := s.Rejections(ctx, 2, "", 10); len(rs) != 0 {
			t.Errorf("Rejections of another site = %+v", rs)
		}
		cat, err := s.AttributeCatalog(ctx, 1)
		check(t, err, "AttributeCatalog")
		for _, k := range cat {
			if k.Key == "ltv" && (k.Rejections != 1 || k.Users != 1 || k.Type != attr.Number) {
				t.Errorf("catalog's ltv = %+v, want a number held by 1 user with 1 rejection", k)
			}
		}
		// A company's value is refused the same way, named by the company.
		write(t, s, group("u1", "acme", "g1", T0, map[string]any{"employees": 120.0}))
		out = write(t, s, group("u1", "acme", "g2", T0.Add(time.Minute), map[string]any{"employees": "many"}))
		if len(out[0].Warnings) != 1 || out[0].Warnings[0].Field != "traits.employees" {
			t.Errorf("a company's refused value: warnings %+v", out[0].Warnings)
		}
		rs, err = s.Rejections(ctx, 1, "employees", 10)
		check(t, err, "Rejections")
		if len(rs) != 1 || rs[0].Entity != store.EntityGroup || rs[0].EntityID != "acme" || rs[0].Expected != attr.Number || rs[0].MessageID != "g2" {
			t.Errorf("a company's rejection = %+v", rs)
		}
	})

	t.Run("rejections are listed newest first, within the limit", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, identify("u1", "", "m0", T0, map[string]any{"n": 1.0, "m": 1.0}))
		for i, v := range []string{"a", "b", "c"} {
			write(t, s, identify("u1", "", "m"+v, T0.Add(time.Duration(i+1)*time.Minute), map[string]any{"n": v}))
		}
		write(t, s, identify("u1", "", "mx", T0.Add(time.Hour), map[string]any{"m": "x"}))
		rs, err := s.Rejections(ctx, 1, "n", 2)
		check(t, err, "Rejections")
		if len(rs) != 2 || rs[0].Value != "c" || rs[1].Value != "b" {
			t.Errorf("Rejections(n, 2) = %+v, want c then b", rs)
		}
		if rs, _ := s.Rejections(ctx, 1, "", 10); len(rs) != 4 || rs[0].Key != "m" {
			t.Errorf("Rejections of every key = %+v", rs)
		}
	})

	t.Run("every change is kept; a repeated value is no change; null unsets", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, identify("u1", "", "m1", T0, map[string]any{"plan": "trial", "beta": true}))
		write(t, s, identify("u1", "", "m2", T0.Add(time.Hour), map[string]any{"plan": "pro", "beta": true}))
		write(t, s, identify("u1", "", "m3", T0.Add(2*time.Hour), map[string]any{"plan": nil, "beta": true}))
		hist, err := s.History(ctx, 1, user("u1"), "plan")
		check(t, err, "History")
		if len(hist) != 3 || hist[0].Value.Str != "trial" || hist[1].Value.Str != "pro" || !hist[2].Value.Null ||
			!sameTime(hist[0].At, T0) || !sameTime(hist[1].At, T0.Add(time.Hour)) || !sameTime(hist[2].At, T0.Add(2*time.Hour)) {
			t.Errorf("plan's history = %+v, want trial, pro, unset, oldest first", hist)
		}
		all, err := s.History(ctx, 1, user("u1"), "")
		check(t, err, "History of every key")
		var beta int
		for _, c := range all {
			if c.Key == "beta" {
				beta++
			}
		}
		if beta != 1 || len(all) != 4 {
			t.Errorf("every key's history = %+v, want beta once and 4 changes", all)
		}
		if _, ok := attrs(readUser(t, s, 1, user("u1")).Attributes)["plan"]; ok {
			t.Error("plan is still set after null")
		}
		for _, tt := range []struct {
			at   time.Time
			plan string // "" for unset
			n    int
		}{
			{T0.Add(-time.Second), "", 0},
			{T0, "trial", 2},
			{T0.Add(90 * time.Minute), "pro", 2},
			{T0.Add(3 * time.Hour), "", 1},
		} {
			asOf, err := s.AttributesAsOf(ctx, 1, user("u1"), tt.at)
			check(t, err, "AttributesAsOf")
			got := attrs(asOf)
			if len(asOf) != tt.n || got["plan"].Str != tt.plan {
				t.Errorf("as of %v: %+v, want plan %q among %d", tt.at, asOf, tt.plan, tt.n)
			}
		}
		_, err = s.History(ctx, 1, user("nobody"), "")
		wantErr(t, err, store.ErrNotFound, "History of an unknown user")
		_, err = s.AttributesAsOf(ctx, 1, user("nobody"), T0)
		wantErr(t, err, store.ErrNotFound, "AttributesAsOf of an unknown user")
	})

	t.Run("the catalog lists each key with its type, holders and common values", func(t *testing.T) {
		s := open(t, NewClock().Now)
		for i, plan := range []string{"pro", "pro", "pro", "free", "free", "team", "a", "b"} {
			write(t, s, identify(string(rune('a'+i)), "", "m"+string(rune('a'+i)), T0.Add(time.Duration(i)*time.Minute),
				map[string]any{"plan": plan, "seats": float64(i)}))
		}
		write(t, s, group("a", "acme", "g1", T0, map[string]any{"industry": "retail"}))
		other := identify("z", "", "z1", T0, map[string]any{"other_site_key": "x"})
		other.SiteID = 2
		write(t, s, other)
		cat, err := s.AttributeCatalog(ctx, 1)
		check(t, err, "AttributeCatalog")
		byKey := map[string]store.CatalogKey{}
		for _, k := range cat {
			byKey[k.Entity.String()+":"+k.Key] = k
		}
		if len(byKey) != 3 {
			t.Fatalf("catalog = %+v, want plan, seats and the company's industry", cat)
		}
		plan := byKey["user:plan"]
		if plan.Type != attr.String || plan.Users != 8 || !sameTime(plan.FirstSeen, T0) || len(plan.Samples) == 0 ||
			len(plan.Samples) > 5 || plan.Samples[0] != "pro" || (len(plan.Samples) > 1 && plan.Samples[1] != "free") {
			t.Errorf("plan = %+v, want a string of 8 users, pro then free first among at most 5 samples", plan)
		}
		if seats := byKey["user:seats"]; seats.Type != attr.Number || seats.Users != 8 {
			t.Errorf("seats = %+v", seats)
		}
		if ind := byKey["group:industry"]; ind.Entity != store.EntityGroup || ind.Type != attr.String || ind.Users != 1 {
			t.Errorf("industry = %+v", ind)
		}
	})

	t.Run("a type change converts every value, or changes nothing", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s,
			identify("a", "", "1", T0, map[string]any{"seats": "12", "tier": "gold"}),
			identify("b", "", "2", T0, map[string]any{"seats": "3", "tier": "7"}))
		_, err := s.ChangeType(ctx, 1, store.EntityUser, "tier", attr.Number)
		wantErr(t, err, store.ErrConflict, "tier → number with a value that is no number")
		if got := attrs(readUser(t, s, 1, user("b")).Attributes)["tier"]; got.Type != attr.String || got.Str != "7" {
			t.Errorf("b's tier after the refused change = %+v", got)
		}
		n, err := s.ChangeType(ctx, 1, store.EntityUser, "seats", attr.Number)
		if err != nil || n != 2 {
			t.Fatalf("seats → number: %d, %v; want 2 converted", n, err)
		}
		if got := attrs(readUser(t, s, 1, user("a")).Attributes)["seats"]; got.Type != attr.Number || got.Num != 12 {
			t.Errorf("a's seats = %+v", got)
		}
		out := write(t, s, identify("c", "", "3", T0, map[string]any{"seats": 5.0}))
		if len(out[0].Warnings) != 0 {
			t.Errorf("a number after the change: %+v", out[0].Warnings)
		}
		out = write(t, s, identify("c", "", "4", T0, map[string]any{"seats": "five"}))
		if len(out[0].Warnings) != 1 {
			t.Errorf("a string after the change: %+v", out[0].Warnings)
		}
		cat, err := s.AttributeCatalog(ctx, 1)
		check(t, err, "AttributeCatalog")
		for _, k := range cat {
			if k.Key == "seats" && k.Type != attr.Number {
				t.Errorf("catalog's seats = %+v", k)
			}
		}
		_, err = s.ChangeType(ctx, 1, store.EntityUser, "nothing", attr.Number)
		wantErr(t, err, store.ErrNotFound, "a change of an unknown key")
	})

	t.Run("users are found by user ID prefix and by an attribute's value, page by page", func(t *testing.T) {
		s := open(t, NewClock().Now)
		for i, id := range []string{"acme-1", "acme-2", "acme-3", "beta-1"} {
			write(t, s, identify(id, "", "m"+id, T0, map[string]any{"seats": float64(10 * (i % 2)), "vip": i == 3}))
		}
		write(t, s, pageView("", "acme-anon", "p1", "/", T0))
		found, err := s.SearchUsers(ctx, 1, store.UserQuery{IDPrefix: "acme-", Limit: 10})
		check(t, err, "SearchUsers")
		if got := summaryIDs(found); !slices.Equal(got, []string{"acme-1", "acme-2", "acme-3"}) {
			t.Errorf("prefix acme- = %q", got)
		}
		var paged []string
		q := store.UserQuery{IDPrefix: "acme-", Limit: 2}
		for range 5 {
			page, err := s.SearchUsers(ctx, 1, q)
			check(t, err, "SearchUsers (page)")
			if len(page) == 0 {
				break
			}
			paged = append(paged, summaryIDs(page)...)
			q.After = page[len(page)-1].Key
		}
		if !slices.Equal(sorted(paged), []string{"acme-1", "acme-2", "acme-3"}) {
			t.Errorf("paged by 2 = %q", paged)
		}
		found, err = s.SearchUsers(ctx, 1, store.UserQuery{AttrKey: "seats", AttrText: "10", Limit: 10})
		check(t, err, "SearchUsers by attribute")
		if got := sorted(summaryIDs(found)); !slices.Equal(got, []string{"acme-2", "beta-1"}) {
			t.Errorf("seats = 10: %q", got)
		}
		found, err = s.SearchUsers(ctx, 1, store.UserQuery{AttrKey: "vip", AttrText: "true", Limit: 10})
		check(t, err, "SearchUsers by a boolean")
		if got := summaryIDs(found); !slices.Equal(got, []string{"beta-1"}) {
			t.Errorf("vip = true: %q", got)
		}
		_, err = s.SearchUsers(ctx, 1, store.UserQuery{AttrKey: "nothing", AttrText: "1", Limit: 10})
		wantErr(t, err, store.ErrNotFound, "a search by an unknown attribute")
		if found, _ := s.SearchUsers(ctx, 2, store.UserQuery{IDPrefix: "acme", Limit: 10}); len(found) != 0 {
			t.Errorf("another site's search = %+v", found)
		}
	})

	// duckstore listed a user once per matching user ID, so a merged user
	// came twice on one page.
	t.Run("a user with two matching user IDs is found once", func(t *testing.T) {
		s := open(t, NewClock().Now)
		write(t, s, identify("team-a", "", "1", T0, nil), identify("team-b", "", "2", T0, nil), identify("team-c", "", "3", T0, nil))
		check(t, s.Merge(ctx, 1, user("team-a"), user("team-b")), "Merge")
		found, err := s.SearchUsers(ctx, 1, store.UserQuery{IDPrefix: "team-", Limit: 10})
		check(t, err, "SearchUsers")
		if len(found) != 2 || found[0].Key == found[1].Key {
			t.Errorf("prefix team- = %+v, want the merged user once and team-c", found)
		}
	})
}

func summaryIDs(list []store.UserSummary) []string {
	var ids []string
	for _, u := range list {
		ids = append(ids, u.UserID)
	}
	return ids
}
