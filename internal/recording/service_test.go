package recording_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

var _ recording.Store = (*duckstore.DB)(nil)

// clock is a settable time for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a service over a real DuckDB store and a real disk blob store.
type env struct {
	svc   *recording.Service
	db    *duckstore.DB
	blobs *blob.Disk
	site  store.Site
	clock *clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := duckstore.Open(context.Background(), filepath.Join(dir, "s.duckdb"),
		duckstore.Options{MemoryLimit: "256MB", Threads: 2}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.OpenDisk(filepath.Join(dir, "recordings"))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().UTC()}
	svc, err := recording.New(recording.Config{Store: db, Blobs: blobs, Log: log, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	site, _, err := db.CreateSite(context.Background(), "Test", []string{"https://app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, db: db, blobs: blobs, site: site, clock: c}
}

// upload posts a chunk body to the service's handler, gzipped when asked.
func (e *env) upload(t testing.TB, site store.Site, body []byte, gz bool) (int, string) {
	t.Helper()
	target := "/t/rec?k=ignored"
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
		target += "&z=gzip"
	}
	w := httptest.NewRecorder()
	e.svc.ServeRecordingChunk(w, httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body)), site)
	var out struct {
		Duplicate bool
		Error     struct{ Code string }
	}
	json.Unmarshal(w.Body.Bytes(), &out)
	if w.Code == 200 && out.Duplicate {
		return w.Code, "duplicate"
	}
	return w.Code, out.Error.Code
}

// event is a small rrweb event.
func event(typ int, ts int64, data string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":%d,"data":%s,"timestamp":%d}`, typ, data, ts))
}

// only returns the one recording of the env's site.
func (e *env) only(t testing.TB) store.RecordingRow {
	t.Helper()
	rows, err := e.db.ListRecordings(context.Background(), e.site.ID, store.RecordingQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d recordings, want 1: %+v", len(rows), rows)
	}
	return rows[0]
}

// events reads a recording's events back as the API serves them.
func (e *env) events(t testing.TB, id string) []map[string]any {
	t.Helper()
	ev, err := e.svc.OpenEvents(context.Background(), e.site.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := ev.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatalf("events are not a JSON array: %v: %.200s", err, buf.Bytes())
	}
	return out
}

func TestChunksOutOfOrderAndTwiceComeBackInOrderOnce(t *testing.T) {
	e := newEnv(t)
	t0 := e.clock.now().UnixMilli() - 60_000
	body := func(seq int, marker string) []byte {
		return recording.ChunkBody("b1", "v1", "", seq, []json.RawMessage{
			event(5, t0+int64(seq)*1000, `{"tag":"chunk","payload":{"seq":`+fmt.Sprint(seq)+`,"copy":"`+marker+`"}}`),
			event(3, t0+int64(seq)*1000+500, `{"source":1,"positions":[]}`),
		})
	}
	steps := []struct {
		seq    int
		marker string
		want   string // "" stored, or duplicate
	}{
		{2, "first", ""}, {0, "first", ""}, {3, "first", ""}, {2, "second", "duplicate"},
		{1, "first", ""}, {0, "second", "duplicate"}, {3, "second", "duplicate"},
	}
	for _, s := range steps {
		if code, got := e.upload(t, e.site, body(s.seq, s.marker), s.seq%2 == 1); code != 200 || got != s.want {
			t.Fatalf("seq %d (%s): %d %q, want 200 %q", s.seq, s.marker, code, got, s.want)
		}
	}
	rec := e.only(t)
	if rec.Chunks != 4 || rec.StartedAt.UnixMilli() != t0 || rec.EndedAt.UnixMilli() != t0+3500 {
		t.Fatalf("recording = %+v", rec.Recording)
	}
	evs := e.events(t, rec.ID)
	if len(evs) != 8 {
		t.Fatalf("%d events, want 8", len(evs))
	}
	for i := 0; i < 4; i++ {
		p := evs[2*i]["data"].(map[string]any)["payload"].(map[string]any)
		if p["seq"] != float64(i) || p["copy"] != "first" {
			t.Fatalf("event %d: %v, want seq %d, first copy", 2*i, p, i)
		}
	}
}

func TestStoredChunksAreZstd(t *testing.T) {
	e := newEnv(t)
	t0 := e.clock.now().UnixMilli()
	events := recording.SampleEvents(1, t0-60_000, 1)
	body := recording.ChunkBody("b1", "v1", "", 0, events)
	if code, errc := e.upload(t, e.site, body, false); code != 200 {
		t.Fatalf("upload: %d %s", code, errc)
	}
	rec := e.only(t)
	path := e.blobs.Path(fmt.Sprintf("%d/%s/%08d.zst", e.site.ID, rec.ID, 0))
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte{0x28, 0xb5, 0x2f, 0xfd}) || bytes.Contains(raw, []byte(`"timestamp"`)) {
		t.Fatalf("the file on disk is not a zstd frame: %.40q", raw)
	}
	dec, _ := zstd.NewReader(nil)
	defer dec.Close()
	plain, err := dec.DecodeAll(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	var back []json.RawMessage
	if err := json.Unmarshal(plain, &back); err != nil || len(back) != len(events) {
		t.Fatalf("decompressed: %d events, %v", len(back), err)
	}
	if rec.BytesStored != int64(len(raw)) || rec.BytesRaw != int64(len(plain)) || rec.BytesStored*5 > rec.BytesRaw {
		t.Fatalf("bytes stored %d, raw %d; the file has %d, decompressed %d", rec.BytesStored, rec.BytesRaw, len(raw), len(plain))
	}
	if rec.Pages != 1 || rec.FirstURL != "https://app.example.com/dashboard" {
		t.Fatalf("pages %d, first URL %q", rec.Pages, rec.FirstURL)
	}
}

func TestSettingsQuotaAndDisabled(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t0 := e.clock.now().UnixMilli()
	chunk := func(rec string, seq int) []byte {
		return recording.ChunkBody(rec, "v-"+rec, "", seq, []json.RawMessage{event(3, t0, `{"source":1,"positions":[]}`)})
	}
	def, err := e.svc.Settings(ctx, e.site.ID)
	if err != nil || !reflect.DeepEqual(def, store.DefaultRecordingSettings()) {
		t.Fatalf("a new site's settings: %+v, %v", def, err)
	}
	if cfg, _ := e.svc.TrackerConfig(ctx, e.site.ID); !cfg.Enabled || cfg.SampleRate != 1 {
		t.Fatalf("a new site's tracker config: %+v", cfg)
	}
	two, half := 2, 0.5
	if _, err := e.svc.SetSettings(ctx, e.site.ID, recording.SettingsChange{DailyQuota: &two, SampleRate: &half}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		body []byte
		code int
		err  string
	}{
		{"first recording", chunk("a", 0), 200, ""},
		{"second recording", chunk("b", 0), 200, ""},
		{"third recording is over the quota", chunk("c", 0), 429, "quota_exceeded"},
		{"an admitted recording goes on", chunk("a", 1), 200, ""},
	}
	for _, s := range steps {
		if code, got := e.upload(t, e.site, s.body, false); code != s.code || got != s.err {
			t.Fatalf("%s: %d %q, want %d %q", s.name, code, got, s.code, s.err)
		}
	}
	if cfg, _ := e.svc.TrackerConfig(ctx, e.site.ID); cfg.Enabled || cfg.SampleRate != 0.5 {
		t.Fatalf("tracker config with the quota used up: %+v", cfg)
	}
	// The next UTC day admits recordings again.
	e.clock.add(24 * time.Hour)
	if code, got := e.upload(t, e.site, chunk("c", 0), false); code != 200 {
		t.Fatalf("next day: %d %s", code, got)
	}
	if cfg, _ := e.svc.TrackerConfig(ctx, e.site.ID); !cfg.Enabled {
		t.Fatalf("tracker config the next day: %+v", cfg)
	}
	off := false
	if _, err := e.svc.SetSettings(ctx, e.site.ID, recording.SettingsChange{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if code, got := e.upload(t, e.site, chunk("a", 2), false); code != 403 || got != "recording_disabled" {
		t.Fatalf("recording off: %d %s", code, got)
	}
	if cfg, _ := e.svc.TrackerConfig(ctx, e.site.ID); cfg.Enabled {
		t.Fatalf("tracker config with recording off: %+v", cfg)
	}
	got, err := e.db.RecordingSettings(ctx, e.site.ID)
	if err != nil || got.Enabled || got.DailyQuota != 2 || got.SampleRate != 0.5 || got.RetentionDays != 30 {
		t.Fatalf("stored settings: %+v, %v", got, err)
	}
	bad := []recording.SettingsChange{
		{SampleRate: ptr(1.5)}, {SampleRate: ptr(-0.1)}, {DailyQuota: ptr(-1)}, {RetentionDays: ptr(0)}, {RetentionDays: ptr(4000)},
	}
	for _, c := range bad {
		if _, err := e.svc.SetSettings(ctx, e.site.ID, c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// blobCount counts the blobs of a site.
func (e *env) blobCount(t testing.TB) int {
	t.Helper()
	n := 0
	if err := e.blobs.List(context.Background(), fmt.Sprintf("%d/", e.site.ID), func(string) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRetentionDeletesRowsAndBlobs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other, _, err := e.db.CreateSite(ctx, "Long retention", []string{"https://b.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetSettings(ctx, other.ID, recording.SettingsChange{RetentionDays: ptr(60)}); err != nil {
		t.Fatal(err)
	}
	t0 := e.clock.now().UnixMilli()
	for _, s := range []store.Site{e.site, other} {
		for seq := 0; seq < 3; seq++ {
			body := recording.ChunkBody("b1", "v1", "", seq, []json.RawMessage{event(3, t0+int64(seq), `{"source":1,"positions":[]}`)})
			if code, errc := e.upload(t, s, body, false); code != 200 {
				t.Fatalf("upload: %d %s", code, errc)
			}
		}
	}
	if n, err := e.svc.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep of fresh recordings: %d, %v", n, err)
	}
	e.clock.add(31 * 24 * time.Hour)
	if n, err := e.svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep after 31 days: %d, %v", n, err)
	}
	rows, err := e.db.ListRecordings(ctx, e.site.ID, store.RecordingQuery{Limit: 10})
	if err != nil || len(rows) != 0 || e.blobCount(t) != 0 {
		t.Fatalf("after expiry: %d rows, %d blobs, %v", len(rows), e.blobCount(t), err)
	}
	if rows, _ := e.db.ListRecordings(ctx, other.ID, store.RecordingQuery{Limit: 10}); len(rows) != 1 {
		t.Fatalf("the site that keeps 60 days lost its recording")
	}
	if n, err := e.db.ExpireRecordings(ctx, e.clock.now(), 30, 10); err != nil || n != 0 {
		t.Fatalf("expired again: %d, %v", n, err)
	}
}

func TestDeletionInterruptedBeforeTheBlobsIsFinished(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t0 := e.clock.now().UnixMilli()
	for seq := 0; seq < 2; seq++ {
		body := recording.ChunkBody("b1", "v1", "", seq, []json.RawMessage{event(3, t0, `{"source":1,"positions":[]}`)})
		if code, errc := e.upload(t, e.site, body, false); code != 200 {
			t.Fatalf("upload: %d %s", code, errc)
		}
	}
	rec := e.only(t)
	// The first step alone, as if the process died before the blobs went:
	// no row points at the blobs any more, and the deletion is recorded.
	if err := e.db.DeleteRecording(ctx, e.site.ID, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Recording(ctx, e.site.ID, rec.ID, nil); err == nil {
		t.Fatal("the row survived its deletion")
	}
	if _, err := e.svc.OpenEvents(ctx, e.site.ID, rec.ID); err == nil {
		t.Fatal("the events of a deleted recording can still be opened")
	}
	if e.blobCount(t) != 2 {
		t.Fatalf("%d blobs before the sweep", e.blobCount(t))
	}
	if _, err := e.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	pending, err := e.db.PendingRecordingDeletions(ctx, 10)
	if err != nil || len(pending) != 0 || e.blobCount(t) != 0 {
		t.Fatalf("after the sweep: %d blobs, pending %v, %v", e.blobCount(t), pending, err)
	}
	// Deleting through the service does both steps at once.
	body := recording.ChunkBody("b2", "v2", "", 0, []json.RawMessage{event(3, t0, `{"source":1,"positions":[]}`)})
	e.upload(t, e.site, body, false)
	rec = e.only(t)
	if err := e.svc.Delete(ctx, e.site.ID, rec.ID); err != nil || e.blobCount(t) != 0 {
		t.Fatalf("delete: %v, %d blobs left", err, e.blobCount(t))
	}
	if err := e.svc.Delete(ctx, e.site.ID, rec.ID); err == nil {
		t.Fatal("deleting twice succeeded")
	}
}

func TestDeleteEveryRecordingOfAUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t0 := e.clock.now().Add(-time.Minute)
	// u1 recorded on two browsers (one before identifying), u2 on one.
	e.write(t, page(e.site.ID, "laptop", "", "p1", t0), page(e.site.ID, "phone", "u1", "p2", t0),
		page(e.site.ID, "tablet", "u2", "p3", t0), identify(e.site.ID, "u1", "laptop", "i1", t0))
	for i, who := range [][2]string{{"laptop", ""}, {"phone", "u1"}, {"tablet", "u2"}} {
		body := recording.ChunkBody(fmt.Sprint("b", i), who[0], who[1], 0, []json.RawMessage{event(3, t0.UnixMilli(), `{"source":1,"positions":[]}`)})
		if code, errc := e.upload(t, e.site, body, false); code != 200 {
			t.Fatalf("upload: %d %s", code, errc)
		}
	}
	n, err := e.svc.DeleteUser(ctx, e.site.ID, store.Identity{Kind: "user", ID: "u1"})
	if err != nil || n != 2 {
		t.Fatalf("DeleteUser = %d, %v", n, err)
	}
	left := e.only(t)
	if left.UserExtID != "u2" || e.blobCount(t) != 1 {
		t.Fatalf("left: %+v with %d blobs", left, e.blobCount(t))
	}
	if _, err := e.svc.DeleteUser(ctx, e.site.ID, store.Identity{Kind: "user", ID: "ghost"}); err == nil {
		t.Fatal("deleting the recordings of an unknown user succeeded")
	}
}

func (e *env) write(t testing.TB, msgs ...store.Message) {
	t.Helper()
	if _, err := e.db.Write(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
}

func page(site int64, anon, user, msgID string, at time.Time) store.Message {
	return store.Message{SiteID: site, Kind: store.KindPage, AnonymousID: anon, UserID: user, MessageID: msgID,
		Timestamp: at, ReceivedAt: at, Page: store.Page{Path: "/dashboard", URL: "https://app.example.com/dashboard"},
		Context: store.Context{DeviceType: "desktop", Browser: "Chrome", OS: "Linux", Country: "NO"}}
}

func identify(site int64, user, anon, msgID string, at time.Time) store.Message {
	return store.Message{SiteID: site, Kind: store.KindIdentify, UserID: user, AnonymousID: anon, MessageID: msgID,
		Timestamp: at, ReceivedAt: at}
}

func TestRecordingFollowsIdentifyAndMerge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t0 := e.clock.now().Add(-time.Minute)
	upload := func(rec, anon string) {
		body := recording.ChunkBody(rec, anon, "", 0, []json.RawMessage{event(3, t0.UnixMilli(), `{"source":1,"positions":[]}`)})
		if code, errc := e.upload(t, e.site, body, false); code != 200 {
			t.Fatalf("upload: %d %s", code, errc)
		}
	}
	// A recording that arrives before the tracker's events has no user yet.
	upload("b1", "v1")
	if r := e.only(t); r.UserKey != 0 || r.UserExtID != "" || r.AnonymousID != "v1" {
		t.Fatalf("before any event: %+v", r)
	}
	e.write(t, page(e.site.ID, "v1", "", "p1", t0))
	if r := e.only(t); r.UserKey == 0 || r.UserExtID != "" || r.Device != "desktop" || r.Country != "NO" {
		t.Fatalf("anonymous: %+v", r)
	}
	e.write(t, identify(e.site.ID, "u1", "v1", "i1", t0.Add(time.Second)))
	if r := e.only(t); r.UserExtID != "u1" {
		t.Fatalf("after identify: %+v", r)
	}
	// Another browser's recording joins u1 by an explicit merge.
	e.write(t, page(e.site.ID, "v2", "", "p2", t0))
	upload("b2", "v2")
	if err := e.db.Merge(ctx, e.site.ID, store.Identity{Kind: "anonymous", ID: "v2"}, store.Identity{Kind: "user", ID: "u1"}); err != nil {
		t.Fatal(err)
	}
	rows, err := e.db.ListRecordings(ctx, e.site.ID, store.RecordingQuery{Limit: 10})
	if err != nil || len(rows) != 2 || rows[0].UserExtID != "u1" || rows[1].UserExtID != "u1" {
		t.Fatalf("after merge: %+v, %v", rows, err)
	}
}
