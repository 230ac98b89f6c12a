package duckstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

func TestAccountsStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.duckdb")
	db := open(t, path)
	a := store.Account{ID: "acc_1", Email: "ann@example.com", Name: "Ann", Role: store.RoleMember, SiteIDs: []int64{3, 7}, CreatedAt: t0}
	if err := db.CreateAccount(ctx, a, "hash1"); err != nil {
		t.Fatal(err)
	}
	dup := a
	dup.ID = "acc_2"
	if err := db.CreateAccount(ctx, dup, "h"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same email again: %v, want ErrConflict", err)
	}
	got, hash, err := db.AccountByEmail(ctx, "ann@example.com")
	if err != nil || hash != "hash1" || got.ID != a.ID || !slices.Equal(got.SiteIDs, a.SiteIDs) || !got.LastSeenAt.IsZero() {
		t.Fatalf("AccountByEmail = %+v, %q, %v", got, hash, err)
	}
	if _, _, err := db.AccountByID(ctx, "acc_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown ID: %v", err)
	}
	a.Role, a.SiteIDs, a.Name = store.RoleViewer, nil, "Ann B."
	if err := db.UpdateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateAccount(ctx, store.Account{ID: "acc_nope"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}

	// Sessions: found with their account, touched, ended by a password change.
	s := store.BrowserSession{IDHash: "sh1", AccountID: a.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), LastSeenAt: t0}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.LastSeenAt, s.ExpiresAt = t0.Add(time.Minute), t0.Add(2*time.Hour)
	if err := db.TouchSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	gs, ga, err := db.SessionAccount(ctx, "sh1")
	if err != nil || gs != s || ga.Role != store.RoleViewer || ga.Name != "Ann B." || len(ga.SiteIDs) != 0 || !ga.LastSeenAt.Equal(s.LastSeenAt) {
		t.Fatalf("SessionAccount = %+v %+v %v", gs, ga, err)
	}
	if err := db.SetPassword(ctx, a.ID, "hash2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SessionAccount(ctx, "sh1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session after a password change: %v", err)
	}

	// Invitations: replaced per email, accepted once.
	inv := store.Invite{ID: "inv_1", Email: "bo@example.com", Role: store.RoleViewer, SiteIDs: []int64{3}, CreatedBy: a.ID,
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := db.CreateInvite(ctx, inv, "ih1"); err != nil {
		t.Fatal(err)
	}
	inv2 := inv
	inv2.ID = "inv_2"
	if err := db.CreateInvite(ctx, inv2, "ih2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InviteByToken(ctx, "ih1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the replaced invitation: %v", err)
	}
	if list, err := db.ListInvites(ctx, t0.Add(time.Hour)); err != nil || len(list) != 0 {
		t.Fatalf("invites pending after expiry: %v %v", list, err)
	}
	bo := store.Account{ID: "acc_3", Email: inv.Email, Name: "Bo", Role: inv.Role, SiteIDs: inv.SiteIDs, CreatedAt: t0}
	if err := db.AcceptInvite(ctx, "inv_2", bo, "h"); err != nil {
		t.Fatal(err)
	}
	bo.ID = "acc_4"
	if err := db.AcceptInvite(ctx, "inv_2", bo, "h"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("accepting twice: %v", err)
	}

	// Deleting an account ends its sessions; all of it survives a restart.
	if err := db.CreateSession(ctx, store.BrowserSession{IDHash: "sh2", AccountID: "acc_3", CreatedAt: t0,
		ExpiresAt: t0.Add(time.Hour), LastSeenAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAccount(ctx, "acc_3"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SessionAccount(ctx, "sh2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of a deleted account: %v", err)
	}
	db.Close()
	db = open(t, path)
	defer db.Close()
	list, err := db.ListAccounts(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "acc_1" || list[0].Role != store.RoleViewer {
		t.Fatalf("after restart: %+v %v", list, err)
	}
	if _, hash, _ := db.AccountByID(ctx, "acc_1"); hash != "hash2" {
		t.Fatalf("password hash after restart %q", hash)
	}
}

func TestTokenRevocationAndWriteKeyRotation(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.duckdb")
	db := open(t, path)
	site := newSite(t, db)
	tok, secret, err := db.CreateNamedToken(ctx, site.ID, store.ScopeRead, " export ")
	if err != nil || tok.Name != "export" {
		t.Fatalf("CreateNamedToken = %+v, %v", tok, err)
	}
	if got, err := db.TokenBySecret(ctx, secret); err != nil || got.ID != tok.ID || got.LastUsedAt == nil {
		t.Fatalf("TokenBySecret = %+v, %v", got, err)
	}
	if err := db.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TokenBySecret(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked token: %v", err)
	}
	if err := db.RevokeToken(ctx, "tok_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking an unknown token: %v", err)
	}
	list, err := db.Tokens(ctx, site.ID)
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil || list[0].LastUsedAt == nil || list[0].Name != "export" {
		t.Fatalf("Tokens = %+v, %v", list, err)
	}

	key, err := db.RotateWriteKey(ctx, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.SiteByWriteKey(ctx, key); err != nil || got.ID != site.ID {
		t.Fatalf("new key: %+v, %v", got, err)
	}
	db.Close()
	db = open(t, path)
	defer db.Close()
	if got, err := db.SiteByWriteKey(ctx, key); err != nil || got.ID != site.ID {
		t.Fatalf("new key after restart: %+v, %v", got, err)
	}
	if len(db.Sites(ctx)) != 1 {
		t.Fatal("rotation duplicated the site")
	}
	if _, err := db.TokenBySecret(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked token after restart: %v", err)
	}
}

// Concurrent requests touch the same rows (one browser's parallel calls
// extend one session; a revocation meets a token's last-use update); DuckDB
// would refuse one of two such transactions, so the store serialises them.
func TestConcurrentCatalogWritesDoNotConflict(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "db.duckdb"))
	defer db.Close()
	a := store.Account{ID: "acc_1", Email: "a@example.com", Name: "A", Role: store.RoleOwner, CreatedAt: t0}
	if err := db.CreateAccount(ctx, a, "h"); err != nil {
		t.Fatal(err)
	}
	s := store.BrowserSession{IDHash: "sh", AccountID: a.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), LastSeenAt: t0}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	site := newSite(t, db)
	tok, _, err := db.CreateToken(ctx, site.ID, store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 150)
	for i := range 50 {
		wg.Add(3)
		go func() {
			defer wg.Done()
			s := s
			s.LastSeenAt = t0.Add(time.Duration(i) * time.Second)
			errs <- db.TouchSession(ctx, s)
		}()
		go func() {
			defer wg.Done()
			errs <- db.RevokeToken(ctx, tok.ID)
		}()
		go func() {
			defer wg.Done()
			a := a
			a.Name = fmt.Sprint("A", i)
			errs <- db.UpdateAccount(ctx, a)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
