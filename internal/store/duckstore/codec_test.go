package duckstore

import (
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

func TestCodecRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	in := []decided{{
		m: store.Message{SiteID: 7, Kind: store.KindPage, MessageID: "m1", AnonymousID: "a1", Timestamp: at,
			ReceivedAt: at.Add(time.Second), Page: store.Page{URL: "https://x.test/a", Path: "/a"}, Source: store.SourceTracker},
		sets:    []decidedSet{{entity: store.EntityUser, key: "plan", value: attr.Value{Type: attr.String, Str: "pro"}}},
		newKeys: []decidedKey{{entity: store.EntityUser, key: "plan", typ: attr.String, at: at}},
	}, {
		m: store.Message{SiteID: 7, Kind: store.KindTrack, MessageID: "m2", UserID: "u1", Name: "export", Timestamp: at, ReceivedAt: at},
	}}
	out, err := decodeBatch(encodeBatch(nil, in))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].m.Source != store.SourceTracker || out[1].m.Source != store.SourceServer ||
		out[0].m.Page.URL != "https://x.test/a" || out[1].m.Name != "export" || len(out[0].sets) != 1 || !out[0].m.ReceivedAt.Equal(at.Add(time.Second)) {
		t.Fatalf("round trip: %+v", out)
	}
}

// TestCodecReadsVersion1 reads a log record written before messages had a
// source (a log from an older binary is replayed after an upgrade).
func TestCodecReadsVersion1(t *testing.T) {
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	e := encoder{}
	e.uint(1) // version
	e.uint(1) // one message
	e.int(7)
	e.uint(uint64(store.KindTrack))
	for _, s := range []string{"m1", "u1", "", "", "", "export", "{}", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""} {
		e.str(s)
	}
	e.time(at)
	e.time(at)
	e.uint(0) // sets
	e.uint(0) // rejections
	e.uint(0) // new keys
	out, err := decodeBatch(e.b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].m.Name != "export" || out[0].m.UserID != "u1" || out[0].m.Source != store.SourceServer || !out[0].m.ReceivedAt.Equal(at) {
		t.Fatalf("version 1: %+v", out)
	}
	bad := encoder{}
	bad.uint(9)
	if _, err := decodeBatch(bad.b); err == nil {
		t.Error("an unknown version was read")
	}
}
