package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// RunAudit runs the suite of the audit log.
func RunAudit(t *testing.T, open Opener[store.Auditor]) {
	t.Run("the audit log pages newest first and expires", func(t *testing.T) {
		s := open(t, NewClock().Now)
		if all, err := s.AuditLog(ctx, time.Time{}, 10); err != nil || all == nil || len(all) != 0 {
			t.Fatalf("an empty log = %#v, %v; want an empty list", all, err)
		}
		for i := range 5 {
			check(t, s.AddAudit(ctx, store.AuditEntry{ID: fmt.Sprint("a", i), At: T0.Add(time.Duration(i) * time.Minute),
				Actor: "ann@example.com", Action: "POST /api/v1/sites", Site: "s_1", Status: 201}), "AddAudit")
		}
		page, err := s.AuditLog(ctx, time.Time{}, 2)
		check(t, err, "AuditLog")
		if len(page) != 2 || page[0].ID != "a4" || page[1].ID != "a3" || page[0].Status != 201 || page[0].Site != "s_1" ||
			page[0].Actor != "ann@example.com" || page[0].Action != "POST /api/v1/sites" || !sameTime(page[0].At, T0.Add(4*time.Minute)) {
			t.Fatalf("first page %+v", page)
		}
		page, err = s.AuditLog(ctx, page[1].At, 10)
		check(t, err, "AuditLog")
		if len(page) != 3 || page[0].ID != "a2" || page[2].ID != "a0" {
			t.Errorf("second page %+v", page)
		}
		n, err := s.ExpireAudit(ctx, T0.Add(2*time.Minute))
		if err != nil || n != 2 {
			t.Errorf("expired %d, %v; want 2", n, err)
		}
		if all, _ := s.AuditLog(ctx, time.Time{}, 10); len(all) != 3 || all[2].ID != "a2" {
			t.Errorf("after expiry %+v", all)
		}
	})
}
