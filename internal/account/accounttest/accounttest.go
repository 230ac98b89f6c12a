// Package accounttest is the conformance suite of the store of dashboard
// accounts, browser sessions and invitations (account.Accounts, Sessions
// and Invites), which every backend's tests run:
//
//	func TestAccounts(t *testing.T) {
//		accounttest.Run(t, func(t *testing.T, now func() time.Time) accounttest.Store { return openEmpty(t, now) })
//	}
//
// Emails reach the store normalised (account.NormalizeEmail: trimmed,
// lowercase); the store compares them as given. Expiry of sessions and
// invitations is the account service's to decide, from the times the
// store keeps.
package accounttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/storetest"
)

// Store keeps accounts, their browser sessions and invitations.
type Store interface {
	account.Accounts
	account.Sessions
	account.Invites
}

var ctx = context.Background()

var t0 = storetest.T0

func newAccount(id, email string, role store.Role, sites ...int64) store.Account {
	return store.Account{ID: id, Email: email, Name: "Name of " + id, Role: role, SiteIDs: sites, CreatedAt: t0}
}

func newSession(hash, accountID string, at time.Time) store.BrowserSession {
	return store.BrowserSession{IDHash: hash, AccountID: accountID, CreatedAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour), LastSeenAt: at}
}

// Run runs the suite; open returns a new, empty store for each subtest.
func Run(t *testing.T, open storetest.Opener[Store]) {
	t.Run("an account reads back by email and by ID, with its password hash", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		a := newAccount("acc_1", "ann@example.com", store.RoleMember, 3, 7)
		a.Name = "Ann Ångström"
		check(t, s.CreateAccount(ctx, a, "hash-1"), "CreateAccount")
		for what, read := range map[string]func() (store.Account, string, error){
			"AccountByEmail": func() (store.Account, string, error) { return s.AccountByEmail(ctx, "ann@example.com") },
			"AccountByID":    func() (store.Account, string, error) { return s.AccountByID(ctx, "acc_1") },
		} {
			got, hash, err := read()
			check(t, err, what)
			sameAccount(t, got, a)
			if hash != "hash-1" || !got.LastSeenAt.IsZero() {
				t.Errorf("%s: hash %q, last seen %v; want hash-1 and never", what, hash, got.LastSeenAt)
			}
		}
		_, _, err := s.AccountByEmail(ctx, "bo@example.com")
		wantErr(t, err, store.ErrNotFound, "an unknown email")
		_, _, err = s.AccountByID(ctx, "acc_nope")
		wantErr(t, err, store.ErrNotFound, "an unknown ID")
	})

	t.Run("an email has one account", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		check(t, s.CreateAccount(ctx, newAccount("acc_1", "ann@example.com", store.RoleOwner), "h"), "CreateAccount")
		err := s.CreateAccount(ctx, newAccount("acc_2", "ann@example.com", store.RoleViewer), "h2")
		wantErr(t, err, store.ErrConflict, "a second account with the same email")
		if _, _, err := s.AccountByID(ctx, "acc_2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the refused account exists: %v", err)
		}
		got, hash, err := s.AccountByEmail(ctx, "ann@example.com")
		if err != nil || got.ID != "acc_1" || hash != "h" || got.Role != store.RoleOwner {
			t.Errorf("the first account after the conflict: %+v %q %v", got, hash, err)
		}
	})

	t.Run("accounts are listed oldest first; an update changes name, role and sites", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		for i, id := range []string{"acc_b", "acc_a", "acc_c"} {
			a := newAccount(id, id+"@example.com", store.RoleViewer, 1)
			a.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
			check(t, s.CreateAccount(ctx, a, "h"), "CreateAccount")
		}
		list, err := s.ListAccounts(ctx)
		check(t, err, "ListAccounts")
		if got := accountIDs(list); !slices.Equal(got, []string{"acc_b", "acc_a", "acc_c"}) {
			t.Errorf("ListAccounts = %q, want oldest first", got)
		}
		up := newAccount("acc_a", "acc_a@example.com", store.RoleAdmin)
		up.Name, up.CreatedAt = "Renamed", list[1].CreatedAt
		check(t, s.UpdateAccount(ctx, up), "UpdateAccount")
		got, hash, err := s.AccountByID(ctx, "acc_a")
		check(t, err, "AccountByID")
		sameAccount(t, got, up)
		if hash != "h" {
			t.Errorf("an update changed the password hash to %q", hash)
		}
		grant := up
		grant.Role, grant.SiteIDs = store.RoleMember, []int64{4, 2}
		check(t, s.UpdateAccount(ctx, grant), "UpdateAccount")
		if got, _, _ := s.AccountByID(ctx, "acc_a"); !slices.Equal(got.SiteIDs, []int64{4, 2}) || got.Role != store.RoleMember {
			t.Errorf("after granting sites: %+v", got)
		}
		wantErr(t, s.UpdateAccount(ctx, newAccount("acc_nope", "x@example.com", store.RoleViewer)), store.ErrNotFound, "an update of an unknown account")
	})

	t.Run("a session finds its account; a touch moves both last-seen times", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		check(t, s.CreateAccount(ctx, newAccount("acc_1", "ann@example.com", store.RoleViewer, 5), "h"), "CreateAccount")
		sess := newSession("sh-1", "acc_1", t0)
		check(t, s.CreateSession(ctx, sess), "CreateSession")
		gs, ga, err := s.SessionAccount(ctx, "sh-1")
		check(t, err, "SessionAccount")
		sameSession(t, gs, sess)
		if ga.ID != "acc_1" || !slices.Equal(ga.SiteIDs, []int64{5}) {
			t.Errorf("the session's account = %+v", ga)
		}
		sess.LastSeenAt, sess.ExpiresAt = t0.Add(time.Hour), t0.Add(time.Hour+30*24*time.Hour)
		check(t, s.TouchSession(ctx, sess), "TouchSession")
		gs, ga, err = s.SessionAccount(ctx, "sh-1")
		check(t, err, "SessionAccount")
		sameSession(t, gs, sess)
		if !ga.LastSeenAt.Equal(sess.LastSeenAt) {
			t.Errorf("the account's last seen = %v, want %v", ga.LastSeenAt, sess.LastSeenAt)
		}
		if a, _, _ := s.AccountByID(ctx, "acc_1"); !a.LastSeenAt.Equal(sess.LastSeenAt) {
			t.Errorf("AccountByID's last seen = %v", a.LastSeenAt)
		}
		_, _, err = s.SessionAccount(ctx, "sh-nope")
		wantErr(t, err, store.ErrNotFound, "an unknown session")
		check(t, s.DeleteSession(ctx, "sh-1"), "DeleteSession")
		_, _, err = s.SessionAccount(ctx, "sh-1")
		wantErr(t, err, store.ErrNotFound, "a deleted session")
		check(t, s.DeleteSession(ctx, "sh-1"), "deleting an unknown session")
	})

	t.Run("a live session survives other sign-ins; expired ones may go", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		check(t, s.CreateAccount(ctx, newAccount("acc_1", "ann@example.com", store.RoleOwner), "h"), "CreateAccount")
		live := newSession("sh-live", "acc_1", t0)
		check(t, s.CreateSession(ctx, live), "CreateSession")
		expired := newSession("sh-old", "acc_1", t0.Add(-60*24*time.Hour))
		check(t, s.CreateSession(ctx, expired), "CreateSession")
		check(t, s.CreateSession(ctx, newSession("sh-new", "acc_1", t0.Add(time.Hour))), "CreateSession")
		for _, h := range []string{"sh-live", "sh-new"} {
			if _, _, err := s.SessionAccount(ctx, h); err != nil {
				t.Errorf("session %s: %v", h, err)
			}
		}
		if gs, _, err := s.SessionAccount(ctx, "sh-old"); err == nil && !gs.ExpiresAt.Equal(expired.ExpiresAt) {
			t.Errorf("an expired session that is kept must keep its expiry: %+v", gs)
		}
	})

	t.Run("a new password or a deleted account ends the account's sessions, no one else's", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		for _, id := range []string{"acc_1", "acc_2"} {
			check(t, s.CreateAccount(ctx, newAccount(id, id+"@example.com", store.RoleAdmin), "h"), "CreateAccount")
			check(t, s.CreateSession(ctx, newSession("sh-"+id+"-a", id, t0)), "CreateSession")
			check(t, s.CreateSession(ctx, newSession("sh-"+id+"-b", id, t0)), "CreateSession")
		}
		check(t, s.SetPassword(ctx, "acc_1", "hash-2"), "SetPassword")
		if _, hash, _ := s.AccountByID(ctx, "acc_1"); hash != "hash-2" {
			t.Errorf("hash after SetPassword = %q", hash)
		}
		for _, h := range []string{"sh-acc_1-a", "sh-acc_1-b"} {
			_, _, err := s.SessionAccount(ctx, h)
			wantErr(t, err, store.ErrNotFound, "a session after a new password: "+h)
		}
		for _, h := range []string{"sh-acc_2-a", "sh-acc_2-b"} {
			if _, _, err := s.SessionAccount(ctx, h); err != nil {
				t.Errorf("another account's session %s after a new password: %v", h, err)
			}
		}
		wantErr(t, s.SetPassword(ctx, "acc_nope", "h"), store.ErrNotFound, "a new password of an unknown account")

		check(t, s.DeleteAccount(ctx, "acc_2"), "DeleteAccount")
		_, _, err := s.AccountByID(ctx, "acc_2")
		wantErr(t, err, store.ErrNotFound, "a deleted account")
		_, _, err = s.SessionAccount(ctx, "sh-acc_2-a")
		wantErr(t, err, store.ErrNotFound, "a session of a deleted account")
		wantErr(t, s.DeleteAccount(ctx, "acc_2"), store.ErrNotFound, "deleting twice")
		if list, _ := s.ListAccounts(ctx); !slices.Equal(accountIDs(list), []string{"acc_1"}) {
			t.Errorf("ListAccounts after the delete = %q", accountIDs(list))
		}
		// The email is free again.
		check(t, s.CreateAccount(ctx, newAccount("acc_3", "acc_2@example.com", store.RoleViewer), "h"), "CreateAccount with a freed email")
	})

	t.Run("an invitation is found by its token until withdrawn, one per email", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		inv := store.Invite{ID: "inv_1", Email: "bo@example.com", Role: store.RoleViewer, SiteIDs: []int64{3}, CreatedBy: "acc_1",
			CreatedAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour)}
		check(t, s.CreateInvite(ctx, inv, "ih-1"), "CreateInvite")
		got, err := s.InviteByToken(ctx, "ih-1")
		check(t, err, "InviteByToken")
		sameInvite(t, got, inv)
		_, err = s.InviteByToken(ctx, "ih-nope")
		wantErr(t, err, store.ErrNotFound, "an unknown token")

		again := inv
		again.ID, again.Role, again.CreatedAt = "inv_2", store.RoleMember, t0.Add(time.Minute)
		check(t, s.CreateInvite(ctx, again, "ih-2"), "CreateInvite again")
		_, err = s.InviteByToken(ctx, "ih-1")
		wantErr(t, err, store.ErrNotFound, "the replaced invitation")
		if list, _ := s.ListInvites(ctx, t0); len(list) != 1 || list[0].ID != "inv_2" {
			t.Errorf("ListInvites = %+v, want only the new invitation", list)
		}
		check(t, s.DeleteInvite(ctx, "inv_2"), "DeleteInvite")
		_, err = s.InviteByToken(ctx, "ih-2")
		wantErr(t, err, store.ErrNotFound, "a withdrawn invitation")
		wantErr(t, s.DeleteInvite(ctx, "inv_2"), store.ErrNotFound, "withdrawing twice")
	})

	t.Run("pending invitations are listed oldest first, without the expired", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		for i, ttl := range []time.Duration{time.Hour, 3 * time.Hour, 2 * time.Hour} {
			at := t0.Add(time.Duration(i) * time.Minute)
			inv := store.Invite{ID: fmt.Sprint("inv_", i), Email: fmt.Sprintf("p%d@example.com", i), Role: store.RoleViewer,
				CreatedBy: "acc_1", CreatedAt: at, ExpiresAt: at.Add(ttl)}
			check(t, s.CreateInvite(ctx, inv, fmt.Sprint("ih-", i)), "CreateInvite")
		}
		for _, tt := range []struct {
			now  time.Time
			want []string
		}{
			{t0, []string{"inv_0", "inv_1", "inv_2"}},
			{t0.Add(90 * time.Minute), []string{"inv_1", "inv_2"}},
			{t0.Add(150 * time.Minute), []string{"inv_1"}},
			{t0.Add(4 * time.Hour), nil},
		} {
			list, err := s.ListInvites(ctx, tt.now)
			check(t, err, "ListInvites")
			if got := inviteIDs(list); !slices.Equal(got, tt.want) {
				t.Errorf("ListInvites(%v) = %q, want %q", tt.now, got, tt.want)
			}
		}
	})

	t.Run("an invitation makes one account", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		inv := store.Invite{ID: "inv_1", Email: "bo@example.com", Role: store.RoleMember, SiteIDs: []int64{3, 4}, CreatedBy: "acc_1",
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		check(t, s.CreateInvite(ctx, inv, "ih-1"), "CreateInvite")
		bo := newAccount("acc_bo", inv.Email, inv.Role, inv.SiteIDs...)
		check(t, s.AcceptInvite(ctx, "inv_1", bo, "h-bo"), "AcceptInvite")
		got, hash, err := s.AccountByEmail(ctx, inv.Email)
		check(t, err, "AccountByEmail")
		sameAccount(t, got, bo)
		if hash != "h-bo" {
			t.Errorf("hash = %q", hash)
		}
		_, err = s.InviteByToken(ctx, "ih-1")
		wantErr(t, err, store.ErrNotFound, "an accepted invitation")
		twice := newAccount("acc_bo2", "bo2@example.com", store.RoleMember)
		wantErr(t, s.AcceptInvite(ctx, "inv_1", twice, "h"), store.ErrNotFound, "accepting twice")
		if _, _, err := s.AccountByID(ctx, "acc_bo2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("accepting twice made an account: %v", err)
		}
	})

	t.Run("accepting for an email that has an account changes nothing", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		check(t, s.CreateAccount(ctx, newAccount("acc_1", "bo@example.com", store.RoleViewer), "h"), "CreateAccount")
		inv := store.Invite{ID: "inv_1", Email: "bo@example.com", Role: store.RoleAdmin, CreatedBy: "acc_0",
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		check(t, s.CreateInvite(ctx, inv, "ih-1"), "CreateInvite")
		err := s.AcceptInvite(ctx, "inv_1", newAccount("acc_2", "bo@example.com", store.RoleAdmin), "h2")
		wantErr(t, err, store.ErrConflict, "accepting for a taken email")
		if _, err := s.InviteByToken(ctx, "ih-1"); err != nil {
			t.Errorf("the invitation after a refused acceptance: %v", err)
		}
		if a, _, _ := s.AccountByEmail(ctx, "bo@example.com"); a.ID != "acc_1" || a.Role != store.RoleViewer {
			t.Errorf("the account after a refused acceptance: %+v", a)
		}
	})

	t.Run("concurrent touches, updates and sign-ins do not conflict", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		a := newAccount("acc_1", "a@example.com", store.RoleOwner)
		check(t, s.CreateAccount(ctx, a, "h"), "CreateAccount")
		sess := newSession("sh", "acc_1", t0)
		check(t, s.CreateSession(ctx, sess), "CreateSession")
		var wg sync.WaitGroup
		errs := make(chan error, 60)
		for i := range 20 {
			wg.Add(3)
			go func() { // one browser's parallel requests extend its session
				defer wg.Done()
				sess := sess
				sess.LastSeenAt = t0.Add(time.Duration(i) * time.Second)
				errs <- s.TouchSession(ctx, sess)
			}()
			go func() {
				defer wg.Done()
				a := a
				a.Name = fmt.Sprint("A", i)
				errs <- s.UpdateAccount(ctx, a)
			}()
			go func() {
				defer wg.Done()
				errs <- s.CreateSession(ctx, newSession(fmt.Sprint("sh-", i), "acc_1", t0))
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for i := range 20 {
			if _, _, err := s.SessionAccount(ctx, fmt.Sprint("sh-", i)); err != nil {
				t.Fatalf("session %d: %v", i, err)
			}
		}
	})
}

func check(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want one wrapping %v", what, err, target)
	}
}

func sameAccount(t *testing.T, got, want store.Account) {
	t.Helper()
	if got.ID != want.ID || got.Email != want.Email || got.Name != want.Name || got.Role != want.Role ||
		!slices.Equal(got.SiteIDs, want.SiteIDs) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("account = %+v, want %+v", got, want)
	}
}

func sameSession(t *testing.T, got, want store.BrowserSession) {
	t.Helper()
	if got.IDHash != want.IDHash || got.AccountID != want.AccountID || !got.CreatedAt.Equal(want.CreatedAt) ||
		!got.ExpiresAt.Equal(want.ExpiresAt) || !got.LastSeenAt.Equal(want.LastSeenAt) {
		t.Errorf("session = %+v, want %+v", got, want)
	}
}

func sameInvite(t *testing.T, got, want store.Invite) {
	t.Helper()
	if got.ID != want.ID || got.Email != want.Email || got.Role != want.Role || !slices.Equal(got.SiteIDs, want.SiteIDs) ||
		got.CreatedBy != want.CreatedBy || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("invite = %+v, want %+v", got, want)
	}
}

func accountIDs(list []store.Account) []string {
	var ids []string
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	return ids
}

func inviteIDs(list []store.Invite) []string {
	var ids []string
	for _, inv := range list {
		ids = append(ids, inv.ID)
	}
	return ids
}
