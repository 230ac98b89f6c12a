package gen_test

import (
	"context"
	"testing"

	"github.com/sightline/sightline/internal/gen"
	"github.com/sightline/sightline/internal/store"
)

// TestShopShape checks the shop model: sessions as the writer would make
// them, deterministic output, the attribute catalog, a funnel that narrows
// at each step, and customers' orders and lifetime value that agree with
// their Order Completed events.
func TestShopShape(t *testing.T) {
	cfg := gen.Config{Users: 2000, Seed: 5}
	db, site, stats := generatedBy(t, gen.RunShop, cfg)
	checkSessions(t, db, site.ID)
	if stats.Users+stats.Anonymous != cfg.Users || stats.Anonymous != 800 || stats.Companies != 0 || stats.Sessions == 0 {
		t.Fatalf("stats = %+v", stats)
	}
	db2, site2, stats2 := generatedBy(t, gen.RunShop, cfg)
	if stats2 != stats || fingerprint(t, db, site.ID) != fingerprint(t, db2, site2.ID) {
		t.Fatalf("same seed, different shops: %+v vs %+v", stats, stats2)
	}

	cat, err := db.AttributeCatalog(context.Background(), site.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := gen.ShopUserKeys()
	for _, k := range cat {
		if typ, ok := want[k.Key]; !ok || k.Entity != store.EntityUser || k.Type != typ {
			t.Errorf("catalog key %s %s (%s): not one of the shop's", k.Entity, k.Key, k.Type)
		}
		delete(want, k.Key)
	}
	if len(want) > 0 {
		t.Errorf("keys missing from the catalog: %v", want)
	}

	// The funnel: each step done by fewer people than the one before.
	steps := []string{"Product Viewed", "Product Added", "Checkout Started", "Order Completed"}
	var prev int64 = 1 << 62
	for _, s := range steps {
		var n int64
		if err := db.SQL().QueryRow(`SELECT count(DISTINCT user_key) FROM events WHERE site_id = ? AND name = ?`,
			site.ID, s).Scan(&n); err != nil {
			t.Fatal(err)
		}
		t.Logf("%-17s %5d people", s, n)
		if n == 0 || n >= prev {
			t.Errorf("%s: %d people after %d at the step before", s, n, prev)
		}
		prev = n
	}

	// Orders and lifetime value include the window's orders; some
	// customers ordered, not all; VIPs are a minority.
	var wrong, ordered, vip, customers int64
	err = db.SQL().QueryRow(`WITH o AS (
			SELECT user_key, count(*) AS n, sum((properties->>'revenue')::DOUBLE) AS revenue
			FROM events WHERE site_id = $1 AND name = 'Order Completed' GROUP BY user_key),
		a AS (SELECT entity_key,
				any_value(n) FILTER (WHERE key = 'orders') AS orders,
				any_value(n) FILTER (WHERE key = 'lifetime_value') AS ltv,
				any_value(b) FILTER (WHERE key = 'vip') AS vip
			FROM attr_current WHERE site_id = $1 GROUP BY entity_key)
		SELECT count(*) FILTER (WHERE a.orders < coalesce(o.n, 0) OR a.ltv + 0.01 < coalesce(o.revenue, 0)
				OR (a.orders = 0) <> (a.ltv = 0)),
			count(*) FILTER (WHERE a.orders > 0), count(*) FILTER (WHERE a.vip), count(*)
		FROM a LEFT JOIN o ON o.user_key = a.entity_key`, site.ID).Scan(&wrong, &ordered, &vip, &customers)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d customers, %d ordered, %d VIPs", customers, ordered, vip)
	if wrong != 0 || customers != int64(stats.Users) {
		t.Errorf("%d customers whose orders or lifetime value disagree with their events (of %d)", wrong, customers)
	}
	if share := float64(ordered) / float64(customers); share < 0.1 || share > 0.8 {
		t.Errorf("%.0f%% of customers ordered", 100*share)
	}
	if vip == 0 || vip*4 > customers {
		t.Errorf("%d VIPs of %d customers", vip, customers)
	}
	// The slow Pay button: rage clicks on the payment page.
	var rage int64
	if err := db.SQL().QueryRow(`SELECT count(*) FROM events WHERE site_id = ? AND name = '$rage_click'
		AND path = '/checkout/payment'`, site.ID).Scan(&rage); err != nil {
		t.Fatal(err)
	}
	if rage == 0 {
		t.Error("no rage clicks on the payment page")
	}
}
