package duckstore

import (
	"strings"
	"testing"
)

// BenchmarkClickValues times reading a click's properties into the clicks
// table's columns, what the applier adds for each page view and signal.
func BenchmarkClickValues(b *testing.B) {
	props := `{"selector":"#main>div.products>a:nth-of-type(3)","offset_x":0.4167,"offset_y":0.5,"page_x":612,"page_y":1480,` +
		`"viewport_width":1440,"pageview_id":"k3j2h5g6f7d8s9a0","tag":"a","text":"Running shoes"}`
	b.ReportAllocs()
	for b.Loop() {
		v := clickValues(props)
		if v[0] == nil {
			b.Fatal("no selector")
		}
	}
}

// TestClicksMigrationReadsAsRebuild keeps migration 080's backfill and
// RebuildClicks (clicksFromEvents) the same query.
func TestClicksMigrationReadsAsRebuild(t *testing.T) {
	body, err := schemaFS.ReadFile("schema/080_clicks.sql")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "INSERT INTO clicks "+clicksFromEvents+";") {
		t.Error("schema/080_clicks.sql does not fill clicks with clicksFromEvents")
	}
}
