package pgstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/pgstore"
	"github.com/sightline/sightline/internal/store/storetest"
)

// The reads every request or membership check makes go to the database
// on every call (nothing is cached in a node): these measure what that
// costs on loopback.

func benchStore(b *testing.B) *pgstore.DB {
	b.Helper()
	dbs := &databases{dsn: newDSN(b)}
	return openDSN(b, dbs.schemaTB(b), pgstore.Options{})
}

func BenchmarkVersions(b *testing.B) {
	s := benchStore(b)
	if err := s.TouchVersions(ctx, pgstore.Touch{Profile: []int64{1, 2, 3}, Site: true}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Versions(1, int64(i))
	}
}

func BenchmarkSiteByWriteKey(b *testing.B) {
	s := benchStore(b)
	_, key, err := s.CreateSite(ctx, "Shop", []string{"https://shop.example.com"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.SiteByWriteKey(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokenBySecret(b *testing.B) {
	s := benchStore(b)
	site, _, err := s.CreateSite(ctx, "Shop", nil)
	if err != nil {
		b.Fatal(err)
	}
	_, secret, err := s.CreateToken(ctx, site.ID, store.ScopeRead)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.TokenBySecret(ctx, secret); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStartRecording(b *testing.B) {
	s := benchStore(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, _, err := s.StartRecording(ctx, store.RecordingStart{SiteID: 1, BrowserSession: fmt.Sprint("tab-", i), AnonymousID: "a",
			At: storetest.T0.Add(time.Duration(i) * time.Millisecond)}, 1<<30); err != nil {
			b.Fatal(err)
		}
	}
}
