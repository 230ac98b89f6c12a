package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/api"
	"github.com/sightline/sightline/internal/store"
)

// Catalog is the control data of sites, write keys and API tokens: the
// catalog every request looks its site and token up in, and the
// credentials the API manages.
type Catalog interface {
	store.Catalog
	api.Credentials
}

// RunCatalog runs the suite of sites, write keys and tokens.
func RunCatalog(t *testing.T, open Opener[Catalog]) {
	t.Run("a new site is found by its public ID and its write key", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		site, key, err := s.CreateSite(ctx, "  Shop  ", []string{"https://Shop.example.com/", "https://shop.example.com", "http://localhost:8080"})
		check(t, err, "create site")
		if site.ID == 0 || site.PublicID == "" || site.Name != "Shop" || site.RespectDNT || len(site.KeyAttributes) != 0 {
			t.Fatalf("new site = %+v", site)
		}
		if want := []string{"https://shop.example.com", "http://localhost:8080"}; !slices.Equal(site.Origins, want) {
			t.Errorf("origins = %q, want %q (canonical, each once, in order)", site.Origins, want)
		}
		// duckstore once stamped sites with the wall clock, not its own.
		if !sameTime(site.CreatedAt, c.Now()) {
			t.Errorf("created at %v, want the store's clock %v", site.CreatedAt, c.Now())
		}
		if len(key) < 20 || strings.Contains(key, site.PublicID) {
			t.Errorf("write key %q: want a long secret that does not hold the site's ID", key)
		}
		got, err := s.Site(ctx, site.PublicID)
		check(t, err, "Site")
		sameSite(t, got, site)
		got, err = s.SiteByWriteKey(ctx, key)
		check(t, err, "SiteByWriteKey")
		sameSite(t, got, site)
		wk, err := s.WriteKey(ctx, site.ID)
		if err != nil || wk != key {
			t.Errorf("WriteKey = %q, %v; want the key CreateSite gave", wk, err)
		}
		if sites := s.Sites(ctx); len(sites) != 1 {
			t.Fatalf("Sites = %+v", sites)
		} else {
			sameSite(t, sites[0], site)
		}
	})

	t.Run("sites are listed oldest first, each with its own IDs and key", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		var made []store.Site
		keys := map[string]bool{}
		for _, name := range []string{"B", "A", "C"} {
			site, key, err := s.CreateSite(ctx, name, nil)
			check(t, err, "create site")
			if keys[key] {
				t.Fatalf("write key %q given twice", key)
			}
			keys[key] = true
			made = append(made, site)
			c.Add(time.Second)
		}
		sites := s.Sites(ctx)
		if len(sites) != 3 {
			t.Fatalf("Sites = %+v", sites)
		}
		for i := range made {
			sameSite(t, sites[i], made[i])
		}
		if made[0].ID == made[1].ID || made[1].ID == made[2].ID || made[0].PublicID == made[2].PublicID {
			t.Errorf("IDs repeat: %+v", made)
		}
	})

	t.Run("unknown sites and keys are not found", func(t *testing.T) {
		s := open(t, NewClock().Now)
		site, key, err := s.CreateSite(ctx, "Shop", nil)
		check(t, err, "create site")
		_, err = s.Site(ctx, "s_nope")
		wantErr(t, err, store.ErrNotFound, "Site of an unknown ID")
		for _, k := range []string{"", "wk_nope", key + "x", strings.ToUpper(key), site.PublicID} {
			_, err = s.SiteByWriteKey(ctx, k)
			wantErr(t, err, store.ErrNotFound, "SiteByWriteKey("+k+")")
		}
		_, err = s.WriteKey(ctx, site.ID+1000)
		wantErr(t, err, store.ErrNotFound, "WriteKey of an unknown site")
	})

	t.Run("bad site input is refused with the field at fault", func(t *testing.T) {
		s := open(t, NewClock().Now)
		tests := []struct {
			name        string
			site        string
			origins     []string
			code, field string
		}{
			{"no name", "  ", nil, "invalid_name", "name"},
			{"an origin without a scheme", "Shop", []string{"https://ok.example.com", "ok.example.com"}, "invalid_origin", "origins[1]"},
			{"an origin with a path", "Shop", []string{"https://x.example.com/app"}, "invalid_origin", "origins[0]"},
			{"an origin of another scheme", "Shop", []string{"ftp://x.example.com"}, "invalid_origin", "origins[0]"},
		}
		for _, tt := range tests {
			_, _, err := s.CreateSite(ctx, tt.site, tt.origins)
			wantField(t, err, tt.code, tt.field, "create: "+tt.name)
		}
		if sites := s.Sites(ctx); len(sites) != 0 {
			t.Fatalf("refused sites were created: %+v", sites)
		}
	})

	t.Run("a site update changes what it names, at once for both lookups", func(t *testing.T) {
		s := open(t, NewClock().Now)
		site, key, err := s.CreateSite(ctx, "Shop", []string{"https://shop.example.com"})
		check(t, err, "create site")
		name, dnt := "  Shop 2 ", true
		origins := []string{"https://A.example.com/", "https://a.example.com", "http://localhost:8080"}
		keyAttrs := []string{"plan", "email"}
		got, err := s.UpdateSite(ctx, site.PublicID, store.SiteUpdate{Name: &name, Origins: &origins, RespectDNT: &dnt, KeyAttributes: &keyAttrs})
		check(t, err, "UpdateSite")
		want := site
		want.Name, want.Origins, want.RespectDNT, want.KeyAttributes = "Shop 2", []string{"https://a.example.com", "http://localhost:8080"}, true, keyAttrs
		sameSite(t, got, want)
		for what, read := range map[string]func() (store.Site, error){
			"Site":           func() (store.Site, error) { return s.Site(ctx, site.PublicID) },
			"SiteByWriteKey": func() (store.Site, error) { return s.SiteByWriteKey(ctx, key) },
			"Sites":          func() (store.Site, error) { return s.Sites(ctx)[0], nil },
		} {
			got, err := read()
			check(t, err, what)
			sameSite(t, got, want)
		}

		// Only what is given changes; empty lists clear.
		dnt = false
		got, err = s.UpdateSite(ctx, site.PublicID, store.SiteUpdate{RespectDNT: &dnt})
		check(t, err, "partial update")
		want.RespectDNT = false
		sameSite(t, got, want)
		keep, scrub := []string{"utm_source", "ref"}, []string{"coupon"}
		got, err = s.UpdateSite(ctx, site.PublicID, store.SiteUpdate{KeepParams: &keep, ScrubParams: &scrub})
		check(t, err, "URL parameters update")
		want.KeepParams, want.ScrubParams = keep, scrub
		sameSite(t, got, want)
		if site.TimeZone != store.DefaultTimeZone {
			t.Errorf("a new site's time zone is %q, want %q", site.TimeZone, store.DefaultTimeZone)
		}
		oslo := "Europe/Oslo"
		got, err = s.UpdateSite(ctx, site.PublicID, store.SiteUpdate{TimeZone: &oslo})
		check(t, err, "time zone update")
		want.TimeZone = oslo
		sameSite(t, got, want)
		got, err = s.Site(ctx, site.PublicID)
		check(t, err, "Site after the time zone")
		sameSite(t, got, want)
		for _, bad := range []string{"Mars/Olympus", "Local", "../etc/passwd"} {
			_, err = s.UpdateSite(ctx, site.PublicID, store.SiteUpdate{TimeZone: &bad})
			wantField(t, err, "invalid_time_zone", "time_zone", "update with time zone "+bad)
		}
		got, err = s.SiteByWriteKey(ctx, key)
		check(t, err, "SiteByWriteKey")
		sameSite(t, got, want)
		none := []string{}
		got, err = s.UpdateSite(ctx, site.PublicID, store.SiteUpdate{Origins: &none, KeyAttributes: &none, KeepParams: &none, ScrubParams: &none})
		check(t, err, "clearing update")
		want.Origins, want.KeyAttributes, want.KeepParams, want.ScrubParams = nil, nil, nil, nil
		sameSite(t, got, want)
		blank := ""
		got, err = s.UpdateSite(ctx, site.PublicID, store.SiteUpdate{TimeZone: &blank})
		check(t, err, "time zone back to UTC")
		want.TimeZone = store.DefaultTimeZone
		sameSite(t, got, want)

		// A refused update changes nothing.
		bad := []string{"https://ok.example.com", "nope"}
		_, err = s.UpdateSite(ctx, site.PublicID, store.SiteUpdate{Name: &name, Origins: &bad})
		wantField(t, err, "invalid_origin", "origins[1]", "update with a bad origin")
		_, err = s.UpdateSite(ctx, site.PublicID, store.SiteUpdate{Name: new(string), RespectDNT: &dnt})
		wantField(t, err, "invalid_name", "name", "update with an empty name")
		got, err = s.Site(ctx, site.PublicID)
		check(t, err, "Site")
		sameSite(t, got, want)

		_, err = s.UpdateSite(ctx, "s_nope", store.SiteUpdate{RespectDNT: &dnt})
		wantErr(t, err, store.ErrNotFound, "update of an unknown site")
	})

	t.Run("a token is found by its secret, with its site and scope", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		site, _, err := s.CreateSite(ctx, "Shop", nil)
		check(t, err, "create site")
		secrets := map[string]store.Token{}
		for _, scope := range []store.Scope{store.ScopeRead, store.ScopeWrite, store.ScopeAdmin} {
			tok, secret, err := s.CreateToken(ctx, site.ID, scope)
			check(t, err, "CreateToken "+string(scope))
			if tok.ID == "" || tok.SiteID != site.ID || tok.Scope != scope || tok.RevokedAt != nil || !sameTime(tok.CreatedAt, c.Now()) {
				t.Errorf("new %s token = %+v", scope, tok)
			}
			if len(secret) < 20 || secret == tok.ID || strings.Contains(secret, tok.ID) {
				t.Errorf("secret %q of token %s: want a long secret apart from the ID", secret, tok.ID)
			}
			if _, ok := secrets[secret]; ok {
				t.Fatalf("secret %q given twice", secret)
			}
			secrets[secret] = tok
			c.Add(time.Second)
		}
		for secret, tok := range secrets {
			got, err := s.TokenBySecret(ctx, secret)
			check(t, err, "TokenBySecret")
			if got.ID != tok.ID || got.SiteID != site.ID || got.Scope != tok.Scope {
				t.Errorf("TokenBySecret = %+v, want %+v", got, tok)
			}
		}
		for secret, tok := range secrets {
			for _, bad := range []string{"", secret + "x", secret[:len(secret)-1], tok.ID} {
				_, err := s.TokenBySecret(ctx, bad)
				wantErr(t, err, store.ErrNotFound, "TokenBySecret("+bad+")")
			}
			break
		}
		if _, _, err := s.CreateToken(ctx, site.ID, "root"); err == nil {
			t.Error("a token of an unknown scope was created")
		}
	})

	t.Run("secrets are shown once: no listing holds them", func(t *testing.T) {
		s := open(t, NewClock().Now)
		site, key, err := s.CreateSite(ctx, "Shop", nil)
		check(t, err, "create site")
		tok, secret, err := s.CreateNamedToken(ctx, site.ID, store.ScopeAdmin, "ci")
		check(t, err, "CreateNamedToken")
		_, err = s.TokenBySecret(ctx, secret)
		check(t, err, "TokenBySecret")
		list, err := s.Tokens(ctx, site.ID)
		check(t, err, "Tokens")
		byID, err := s.TokenByID(ctx, tok.ID)
		check(t, err, "TokenByID")
		site2, err := s.Site(ctx, site.PublicID)
		check(t, err, "Site")
		for what, v := range map[string]any{"Tokens": list, "TokenByID": byID, "Site": site2, "Sites": s.Sites(ctx)} {
			b, err := json.Marshal(v)
			check(t, err, "marshal")
			if strings.Contains(string(b), secret) || strings.Contains(string(b), key) {
				t.Errorf("%s shows a secret: %s", what, b)
			}
		}
	})

	t.Run("named tokens are listed per site, revoked ones too", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		a, _, err := s.CreateSite(ctx, "A", nil)
		check(t, err, "create site")
		b, _, err := s.CreateSite(ctx, "B", nil)
		check(t, err, "create site")
		t1, _, err := s.CreateNamedToken(ctx, a.ID, store.ScopeRead, " export ")
		check(t, err, "CreateNamedToken")
		if t1.Name != "export" {
			t.Errorf("name = %q, want it trimmed", t1.Name)
		}
		c.Add(time.Second)
		t2, _, err := s.CreateNamedToken(ctx, a.ID, store.ScopeWrite, "import")
		check(t, err, "CreateNamedToken")
		c.Add(time.Second)
		_, _, err = s.CreateNamedToken(ctx, b.ID, store.ScopeRead, "other")
		check(t, err, "CreateNamedToken")
		check(t, s.RevokeToken(ctx, t1.ID), "RevokeToken")
		list, err := s.Tokens(ctx, a.ID)
		check(t, err, "Tokens")
		if len(list) != 2 || list[0].ID != t1.ID || list[1].ID != t2.ID {
			t.Fatalf("Tokens(A) = %+v, want A's two tokens, oldest first", list)
		}
		if list[0].RevokedAt == nil || list[1].RevokedAt != nil || list[0].Name != "export" || list[1].Scope != store.ScopeWrite {
			t.Errorf("Tokens(A) = %+v", list)
		}
		if list, _ := s.Tokens(ctx, b.ID); len(list) != 1 || list[0].Name != "other" {
			t.Errorf("Tokens(B) = %+v", list)
		}
		if list, err := s.Tokens(ctx, b.ID+a.ID+100); err != nil || len(list) != 0 {
			t.Errorf("Tokens of a site without any = %+v, %v", list, err)
		}
	})

	t.Run("a revoked token is not found by its secret, from the next call", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		site, _, err := s.CreateSite(ctx, "Shop", nil)
		check(t, err, "create site")
		tok, secret, err := s.CreateToken(ctx, site.ID, store.ScopeAdmin)
		check(t, err, "CreateToken")
		keep, keepSecret, err := s.CreateToken(ctx, site.ID, store.ScopeAdmin)
		check(t, err, "CreateToken")
		_, err = s.TokenBySecret(ctx, secret) // a use just before: no cache may keep it alive
		check(t, err, "TokenBySecret")
		c.Add(time.Minute)
		revokedAt := c.Now()
		check(t, s.RevokeToken(ctx, tok.ID), "RevokeToken")
		_, err = s.TokenBySecret(ctx, secret)
		wantErr(t, err, store.ErrNotFound, "TokenBySecret of a revoked token")
		if got, err := s.TokenBySecret(ctx, keepSecret); err != nil || got.ID != keep.ID {
			t.Errorf("the other token after a revocation: %+v, %v", got, err)
		}
		got, err := s.TokenByID(ctx, tok.ID)
		check(t, err, "TokenByID of a revoked token")
		if got.RevokedAt == nil || !sameTime(*got.RevokedAt, revokedAt) {
			t.Errorf("revoked token = %+v, want revoked at %v", got, revokedAt)
		}
		// Revoking again changes nothing, not even the time.
		c.Add(time.Hour)
		check(t, s.RevokeToken(ctx, tok.ID), "revoking twice")
		if got, _ := s.TokenByID(ctx, tok.ID); got.RevokedAt == nil || !sameTime(*got.RevokedAt, revokedAt) {
			t.Errorf("after revoking twice: %+v", got)
		}
		wantErr(t, s.RevokeToken(ctx, "tok_nope"), store.ErrNotFound, "revoking an unknown token")
		_, err = s.TokenByID(ctx, "tok_nope")
		wantErr(t, err, store.ErrNotFound, "TokenByID of an unknown token")
	})

	t.Run("a token's last use is kept, at most a minute behind", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		site, _, err := s.CreateSite(ctx, "Shop", nil)
		check(t, err, "create site")
		tok, secret, err := s.CreateToken(ctx, site.ID, store.ScopeRead)
		check(t, err, "CreateToken")
		if got, _ := s.TokenByID(ctx, tok.ID); got.LastUsedAt != nil {
			t.Errorf("an unused token has a last use: %+v", got)
		}
		c.Add(10 * time.Second)
		used := c.Now()
		got, err := s.TokenBySecret(ctx, secret)
		check(t, err, "TokenBySecret")
		if got.LastUsedAt == nil || !sameTime(*got.LastUsedAt, used) {
			t.Errorf("TokenBySecret = %+v, want last used at %v", got, used)
		}
		c.Add(5 * time.Minute)
		used = c.Now()
		_, err = s.TokenBySecret(ctx, secret)
		check(t, err, "TokenBySecret")
		list, err := s.Tokens(ctx, site.ID)
		check(t, err, "Tokens")
		if len(list) != 1 || list[0].LastUsedAt == nil || used.Sub(*list[0].LastUsedAt) > time.Minute {
			t.Errorf("Tokens = %+v, want last used within a minute of %v", list, used)
		}
	})

	t.Run("rotating the write key: the old key stops working at once", func(t *testing.T) {
		s := open(t, NewClock().Now)
		a, oldKey, err := s.CreateSite(ctx, "A", []string{"https://a.example.com"})
		check(t, err, "create site")
		b, bKey, err := s.CreateSite(ctx, "B", nil)
		check(t, err, "create site")
		_, err = s.SiteByWriteKey(ctx, oldKey) // looked up before: no cache may keep it alive
		check(t, err, "SiteByWriteKey")
		newKey, err := s.RotateWriteKey(ctx, a.ID)
		check(t, err, "RotateWriteKey")
		if newKey == oldKey || len(newKey) < 20 {
			t.Fatalf("new key %q (old %q)", newKey, oldKey)
		}
		_, err = s.SiteByWriteKey(ctx, oldKey)
		wantErr(t, err, store.ErrNotFound, "the old key after a rotation")
		got, err := s.SiteByWriteKey(ctx, newKey)
		check(t, err, "the new key")
		sameSite(t, got, a)
		if wk, err := s.WriteKey(ctx, a.ID); err != nil || wk != newKey {
			t.Errorf("WriteKey = %q, %v; want the new key", wk, err)
		}
		if got, err := s.SiteByWriteKey(ctx, bKey); err != nil || got.ID != b.ID {
			t.Errorf("the other site's key: %+v, %v", got, err)
		}
		if sites := s.Sites(ctx); len(sites) != 2 {
			t.Errorf("Sites after a rotation = %+v", sites)
		}
		_, err = s.RotateWriteKey(ctx, a.ID+b.ID+100)
		wantErr(t, err, store.ErrNotFound, "rotating the key of an unknown site")
	})

	t.Run("one site's token and key never find another site's", func(t *testing.T) {
		s := open(t, NewClock().Now)
		a, aKey, err := s.CreateSite(ctx, "A", nil)
		check(t, err, "create site")
		b, bKey, err := s.CreateSite(ctx, "B", nil)
		check(t, err, "create site")
		ta, sa, err := s.CreateToken(ctx, a.ID, store.ScopeAdmin)
		check(t, err, "CreateToken")
		tb, sb, err := s.CreateToken(ctx, b.ID, store.ScopeRead)
		check(t, err, "CreateToken")
		for _, c := range []struct {
			secret string
			tok    store.Token
			site   store.Site
			key    string
		}{{sa, ta, a, aKey}, {sb, tb, b, bKey}} {
			got, err := s.TokenBySecret(ctx, c.secret)
			if err != nil || got.SiteID != c.site.ID {
				t.Errorf("token of %s: %+v, %v", c.site.Name, got, err)
			}
			site, err := s.SiteByWriteKey(ctx, c.key)
			if err != nil || site.ID != c.site.ID {
				t.Errorf("key of %s: %+v, %v", c.site.Name, site, err)
			}
			list, err := s.Tokens(ctx, c.site.ID)
			if err != nil || len(list) != 1 || list[0].ID != c.tok.ID {
				t.Errorf("Tokens(%s) = %+v, %v", c.site.Name, list, err)
			}
		}
	})
}

// sameSite fails the test when got differs from want in anything a caller
// reads.
func sameSite(t *testing.T, got, want store.Site) {
	t.Helper()
	if got.ID != want.ID || got.PublicID != want.PublicID || got.Name != want.Name || !slices.Equal(got.Origins, want.Origins) ||
		got.RespectDNT != want.RespectDNT || !slices.Equal(got.KeyAttributes, want.KeyAttributes) ||
		!slices.Equal(got.KeepParams, want.KeepParams) || !slices.Equal(got.ScrubParams, want.ScrubParams) || got.TimeZone != want.TimeZone || !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("site = %+v, want %+v", got, want)
	}
}

// wantField fails the test unless err is a store.FieldError with code and
// field, wrapping store.ErrInvalid.
func wantField(t *testing.T, err error, code, field, what string) {
	t.Helper()
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Code != code || fe.Field != field || !errors.Is(err, store.ErrInvalid) {
		t.Errorf("%s: error %v, want %s at %s", what, err, code, field)
	}
}
