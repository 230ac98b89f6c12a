package duckstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

func TestUpdateSite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.duckdb")
	db := open(t, path)
	site, key, err := db.CreateSite(ctx, "Shop", []string{"https://shop.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	name, dnt := "  Shop 2 ", true
	origins := []string{"https://A.example.com/", "https://a.example.com", "http://localhost:8080"}
	got, err := db.UpdateSite(ctx, site.PublicID, store.SiteUpdate{Name: &name, Origins: &origins, RespectDNT: &dnt})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://a.example.com", "http://localhost:8080"}
	if got.Name != "Shop 2" || !slices.Equal(got.Origins, want) || !got.RespectDNT || got.ID != site.ID {
		t.Fatalf("UpdateSite = %+v", got)
	}
	// Both lookups see the change at once: the tracker's by write key too.
	byKey, err := db.SiteByWriteKey(ctx, key)
	if err != nil || !slices.Equal(byKey.Origins, want) || !byKey.RespectDNT {
		t.Fatalf("SiteByWriteKey = %+v, %v", byKey, err)
	}
	// Only what is given changes.
	dnt = false
	if got, err = db.UpdateSite(ctx, site.PublicID, store.SiteUpdate{RespectDNT: &dnt}); err != nil || got.Name != "Shop 2" ||
		!slices.Equal(got.Origins, want) || got.RespectDNT {
		t.Fatalf("partial update = %+v, %v", got, err)
	}

	tests := []struct {
		name        string
		u           store.SiteUpdate
		code, field string
	}{
		{"bad origin", store.SiteUpdate{Origins: &[]string{"https://ok.example.com", "ok.example.com"}}, "invalid_origin", "origins[1]"},
		{"origin with a path", store.SiteUpdate{Origins: &[]string{"https://x.example.com/app"}}, "invalid_origin", "origins[0]"},
		{"empty name", store.SiteUpdate{Name: new(string)}, "invalid_name", "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.UpdateSite(ctx, site.PublicID, tt.u)
			var fe *store.FieldError
			if !errors.As(err, &fe) || fe.Code != tt.code || fe.Field != tt.field || !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("err = %v, want %s at %s", err, tt.code, tt.field)
			}
		})
	}
	if _, err := db.UpdateSite(ctx, "s_nope", store.SiteUpdate{RespectDNT: &dnt}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown site: %v", err)
	}
	// A refused update changed nothing; no origins at all is allowed.
	none := []string{}
	if _, err := db.UpdateSite(ctx, site.PublicID, store.SiteUpdate{Origins: &none}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = open(t, path)
	defer db.Close()
	got, err = db.Site(ctx, site.PublicID)
	if err != nil || got.Name != "Shop 2" || len(got.Origins) != 0 || got.RespectDNT {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
	if s, err := db.SiteByWriteKey(ctx, key); err != nil || s.PublicID != site.PublicID {
		t.Fatalf("write key after reopening: %+v, %v", s, err)
	}
}
