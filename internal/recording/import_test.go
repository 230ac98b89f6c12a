package recording_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/recording"
)

// TestImport imports recordings as the demo does and reads them back as
// uploaded ones are read; an invalid chunk imports nothing and leaves no
// blob behind.
func TestImport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := e.clock.now().Add(-time.Hour).Truncate(time.Millisecond)
	chunk := func(seq int, url string) recording.ImportedChunk {
		at := start.Add(time.Duration(seq) * 10 * time.Second)
		evs := fmt.Sprintf(`[{"type":4,"data":{"href":%q,"width":1440,"height":900},"timestamp":%d},`+
			`{"type":3,"data":{"source":1,"positions":[]},"timestamp":%d}]`, url, at.UnixMilli(), at.UnixMilli()+500)
		return recording.ImportedChunk{Seq: seq, Start: at, End: at.Add(500 * time.Millisecond), URL: url, Events: []byte(evs)}
	}
	recs := []recording.ImportedRecording{
		{BrowserSession: "bs1", AnonymousID: "a1", UserID: "u1", Chunks: []recording.ImportedChunk{
			chunk(0, "https://app.example.com/a"), chunk(1, "https://app.example.com/b")}},
		{BrowserSession: "bs2", AnonymousID: "a2", Chunks: []recording.ImportedChunk{chunk(0, "https://app.example.com/c")}},
	}
	if err := e.svc.Import(ctx, e.db, e.site.ID, recs); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		rec    recording.ImportedRecording
		chunks int
		pages  int
		first  string
	}{{recs[0], 2, 2, "https://app.example.com/a"}, {recs[1], 1, 1, "https://app.example.com/c"}}
	for _, c := range cases {
		r, err := e.db.Recording(ctx, e.site.ID, c.rec.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Chunks != c.chunks || r.Pages != c.pages || r.FirstURL != c.first || r.UserID != c.rec.UserID ||
			!r.StartedAt.Equal(start) || r.BytesStored == 0 || r.BrowserSession != c.rec.BrowserSession {
			t.Errorf("recording %s: %+v", c.rec.ID, r.Recording)
		}
		evs, err := e.svc.OpenEvents(ctx, e.site.ID, c.rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := evs.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(buf.Bytes(), []byte(`"type":4`)); n != c.chunks {
			t.Errorf("recording %s reads back %d Meta events, want %d: %s", c.rec.ID, n, c.chunks, buf.Bytes())
		}
	}

	bad := []recording.ImportedRecording{{BrowserSession: "bs3", AnonymousID: "a3", Chunks: []recording.ImportedChunk{
		chunk(0, "https://app.example.com/d"),
		{Seq: 1, Start: start, End: start, URL: "https://app.example.com/d", Events: []byte(`[{"type":9}]`)}}}}
	if err := e.svc.Import(ctx, e.db, e.site.ID, bad); err == nil {
		t.Fatal("an invalid chunk was imported")
	}
	if _, err := e.db.Recording(ctx, e.site.ID, bad[0].ID, nil); err == nil {
		t.Error("the failed import left an index row")
	}
	var left []string
	e.blobs.List(ctx, fmt.Sprintf("%d/%s/", e.site.ID, bad[0].ID), func(k string) error {
		left = append(left, k)
		return nil
	})
	if len(left) > 0 {
		t.Errorf("the failed import left blobs %v", left)
	}
}
