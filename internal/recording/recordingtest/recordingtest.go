// Package recordingtest is the conformance suite of the recordings' index:
// RunAdmission for the settings and the daily quota (recording.Admission),
// Run for the chunks, the listing and deletions (recording.Index, Reader,
// Remover and Importer). Every backend's tests run them:
//
//	func TestRecordings(t *testing.T) {
//		recordingtest.Run(t, func(t *testing.T, now func() time.Time) recordingtest.Store { return openEmpty(t, now) })
//	}
//
// The chunks' bytes are not the index's: blob.Store and its blobtest suite
// keep them. Recordings are listed with the user and the server session
// they belong to, so the suite writes events through store.Writer too.
package recordingtest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/storetest"
)

// Store is the recordings' index with the events it is read beside.
type Store interface {
	recording.Store
	recording.Importer
	store.Writer
	store.Merger
	store.Reader
}

var ctx = context.Background()

var t0 = storetest.T0

// Run runs the suite of the index, the listing and deletions; open
// returns a new, empty store for each subtest.
func Run(t *testing.T, open storetest.Opener[Store]) {
	t.Run("chunks", func(t *testing.T) { runChunks(t, open) })
	t.Run("listing", func(t *testing.T) { runListing(t, open) })
	t.Run("deletion", func(t *testing.T) { runDeletion(t, open) })
}

func start(site int64, session, anon string, at time.Time) store.RecordingStart {
	return store.RecordingStart{SiteID: site, BrowserSession: session, AnonymousID: anon, At: at}
}

// chunk is chunk seq of a recording, spanning [from, to) after t0.
func chunk(rec string, seq int, from, to time.Duration, pages ...string) store.RecordingChunk {
	return store.RecordingChunk{RecordingID: rec, Seq: seq, Start: t0.Add(from), End: t0.Add(to), Events: 10 + seq,
		BytesStored: int64(100 + seq), BytesRaw: int64(1000 + seq), Pages: pages}
}

// record starts a recording and adds its chunks.
func record(t *testing.T, s Store, site int64, session, anon string, chunks ...store.RecordingChunk) store.Recording {
	t.Helper()
	at := t0
	if len(chunks) > 0 {
		at = chunks[0].Start
	}
	rec, _, err := s.StartRecording(ctx, start(site, session, anon, at), 1000)
	check(t, err, "StartRecording")
	for _, c := range chunks {
		c.RecordingID = rec.ID
		added, err := s.AddRecordingChunk(ctx, site, c, c.End)
		check(t, err, "AddRecordingChunk")
		if !added {
			t.Fatalf("chunk %d of %s was not added", c.Seq, rec.ID)
		}
	}
	return rec
}

// RunAdmission runs the suite of the recording settings and the daily
// quota (recording.Admission).
func RunAdmission(t *testing.T, open storetest.Opener[recording.Admission]) {
	t.Run("a site records by default until its settings change", func(t *testing.T) {
		c := storetest.NewClock()
		s := open(t, c.Now)
		got, err := s.RecordingSettings(ctx, 1)
		if err != nil || !reflect.DeepEqual(got, store.DefaultRecordingSettings()) {
			t.Fatalf("a new site's settings = %+v, %v", got, err)
		}
		want := store.RecordingSettings{Enabled: false, SampleRate: 0.25, DailyQuota: 50, RetentionDays: 7,
			Backgrounds: []store.PageGroup{{Page: "/products/*", Match: "pattern"}, {Page: "/", Match: "path"}}}
		saved, err := s.SetRecordingSettings(ctx, 1, want)
		check(t, err, "SetRecordingSettings")
		want.UpdatedAt = c.Now()
		read, err := s.RecordingSettings(ctx, 1)
		check(t, err, "RecordingSettings")
		for what, got := range map[string]store.RecordingSettings{"saved": saved, "read": read} {
			if got.Enabled != want.Enabled || got.SampleRate != want.SampleRate || got.DailyQuota != want.DailyQuota ||
				got.RetentionDays != want.RetentionDays || !got.UpdatedAt.Equal(want.UpdatedAt) ||
				!reflect.DeepEqual(got.Backgrounds, want.Backgrounds) {
				t.Errorf("%s settings = %+v, want %+v", what, got, want)
			}
		}
		if got, _ := s.RecordingSettings(ctx, 2); !reflect.DeepEqual(got, store.DefaultRecordingSettings()) {
			t.Errorf("another site's settings = %+v", got)
		}
		c.Add(time.Hour)
		want.Enabled = true
		_, err = s.SetRecordingSettings(ctx, 1, want)
		check(t, err, "SetRecordingSettings")
		if got, _ := s.RecordingSettings(ctx, 1); !got.Enabled || !got.UpdatedAt.Equal(c.Now()) {
			t.Errorf("after a second change: %+v", got)
		}
	})

	t.Run("a browser session's tab has one recording", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		a, created, err := s.StartRecording(ctx, start(1, "sess-1", "anon-1", t0), 10)
		check(t, err, "StartRecording")
		if !created || a.ID == "" || a.SiteID != 1 || a.BrowserSession != "sess-1" || a.AnonymousID != "anon-1" || !a.CreatedAt.Equal(t0) {
			t.Fatalf("new recording = %+v, created %v", a, created)
		}
		again, created, err := s.StartRecording(ctx, start(1, "sess-1", "anon-1", t0.Add(time.Minute)), 10)
		check(t, err, "StartRecording")
		if created || again.ID != a.ID {
			t.Errorf("the same tab again: %+v, created %v; want %s", again, created, a.ID)
		}
		ids := map[string]bool{a.ID: true}
		for _, st := range []store.RecordingStart{
			start(1, "sess-1-tab2", "anon-1", t0), start(1, "sess-1", "anon-2", t0), start(2, "sess-1", "anon-1", t0),
		} {
			r, created, err := s.StartRecording(ctx, st, 10)
			check(t, err, "StartRecording")
			if !created || ids[r.ID] {
				t.Errorf("%+v: %+v, created %v; want a recording of its own", st, r, created)
			}
			ids[r.ID] = true
		}
	})

	t.Run("the daily quota counts recordings started on each UTC day, per site", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		late := day.Add(24*time.Hour - time.Second)
		_, _, err := s.StartRecording(ctx, start(1, "a", "v", day.Add(time.Hour)), 2)
		check(t, err, "first recording")
		_, _, err = s.StartRecording(ctx, start(1, "b", "v", late), 2)
		check(t, err, "second recording")
		_, _, err = s.StartRecording(ctx, start(1, "c", "v", late), 2)
		wantErr(t, err, store.ErrQuota, "a third recording on a quota of 2")
		if r, created, err := s.StartRecording(ctx, start(1, "a", "v", late), 2); err != nil || created {
			t.Errorf("a recording that started goes on when the quota is used up: %+v, %v, %v", r, created, err)
		}
		if _, _, err := s.StartRecording(ctx, start(2, "c", "v", late), 2); err != nil {
			t.Errorf("another site's quota: %v", err)
		}
		if _, _, err := s.StartRecording(ctx, start(1, "c", "v", day.Add(24*time.Hour)), 2); err != nil {
			t.Errorf("the next UTC day: %v", err)
		}
		_, _, err = s.StartRecording(ctx, start(1, "d", "v", t0), 0)
		wantErr(t, err, store.ErrQuota, "a quota of 0")
	})
}

func runChunks(t *testing.T, open storetest.Opener[Store]) {
	t.Run("chunks in any order make up their recording, each once", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		rec, _, err := s.StartRecording(ctx, start(1, "sess", "anon-1", t0), 10)
		check(t, err, "StartRecording")
		c2 := chunk(rec.ID, 2, 20*time.Second, 30*time.Second, "https://app.example.com/b", "https://app.example.com/c")
		c0 := chunk(rec.ID, 0, 0, 10*time.Second)
		c1 := chunk(rec.ID, 1, 10*time.Second, 20*time.Second, "https://app.example.com/a", "https://app.example.com/b")
		c1.UserID = "u1" // identified during the recording
		for _, c := range []store.RecordingChunk{c2, c0, c1} {
			if has, err := s.HasRecordingChunk(ctx, rec.ID, c.Seq); err != nil || has {
				t.Fatalf("chunk %d before it was added: %v, %v", c.Seq, has, err)
			}
			added, err := s.AddRecordingChunk(ctx, 1, c, c.End.Add(time.Second))
			if err != nil || !added {
				t.Fatalf("chunk %d: %v, %v", c.Seq, added, err)
			}
			if has, err := s.HasRecordingChunk(ctx, rec.ID, c.Seq); err != nil || !has {
				t.Fatalf("chunk %d after it was added: %v, %v", c.Seq, has, err)
			}
		}
		// A retried upload is not indexed again: the first stays.
		retry := c1
		retry.BytesStored, retry.Events, retry.End = 9999, 99, t0.Add(time.Hour)
		if added, err := s.AddRecordingChunk(ctx, 1, retry, t0.Add(time.Hour)); err != nil || added {
			t.Fatalf("the retried chunk: added %v, %v", added, err)
		}
		got, err := s.Recording(ctx, 1, rec.ID, nil)
		check(t, err, "Recording")
		want := store.Recording{ID: rec.ID, SiteID: 1, BrowserSession: "sess", AnonymousID: "anon-1", UserID: "u1",
			StartedAt: t0, EndedAt: t0.Add(30 * time.Second), CreatedAt: t0, Chunks: 3, BytesStored: 303, BytesRaw: 3003,
			FirstURL: "https://app.example.com/a", Pages: 3}
		sameRecording(t, got.Recording, want)
		chunks, err := s.RecordingChunks(ctx, 1, rec.ID)
		check(t, err, "RecordingChunks")
		if len(chunks) != 3 {
			t.Fatalf("chunks = %+v", chunks)
		}
		for i, want := range []store.RecordingChunk{c0, c1, c2} {
			c := chunks[i]
			if c.RecordingID != rec.ID || c.Seq != want.Seq || !c.Start.Equal(want.Start) || !c.End.Equal(want.End) ||
				c.Events != want.Events || c.BytesStored != want.BytesStored || c.BytesRaw != want.BytesRaw {
				t.Errorf("chunk %d = %+v, want %+v", i, c, want)
			}
		}
	})

	t.Run("a chunk of an unknown recording, or of another site's, is refused", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		rec, _, err := s.StartRecording(ctx, start(1, "sess", "anon-1", t0), 10)
		check(t, err, "StartRecording")
		_, err = s.AddRecordingChunk(ctx, 1, chunk("rec_nope", 0, 0, time.Second), t0)
		wantErr(t, err, store.ErrNotFound, "a chunk of an unknown recording")
		_, err = s.AddRecordingChunk(ctx, 2, chunk(rec.ID, 0, 0, time.Second), t0)
		wantErr(t, err, store.ErrNotFound, "a chunk through another site")
		if has, _ := s.HasRecordingChunk(ctx, rec.ID, 0); has {
			t.Error("the refused chunk was indexed")
		}
		_, err = s.RecordingChunks(ctx, 2, rec.ID)
		wantErr(t, err, store.ErrNotFound, "RecordingChunks through another site")
		_, err = s.RecordingChunks(ctx, 1, "rec_nope")
		wantErr(t, err, store.ErrNotFound, "RecordingChunks of an unknown recording")
		if chunks, err := s.RecordingChunks(ctx, 1, rec.ID); err != nil || len(chunks) != 0 {
			t.Errorf("RecordingChunks of a recording without chunks = %+v, %v", chunks, err)
		}
		// Without a chunk there is nothing to play: it is not listed.
		_, err = s.Recording(ctx, 1, rec.ID, nil)
		wantErr(t, err, store.ErrNotFound, "Recording of a recording without chunks")
		if rows := list(t, s, 1, store.RecordingQuery{}); len(rows) != 0 {
			t.Errorf("listed without chunks: %+v", rows)
		}
	})

	t.Run("imported recordings read as if uploaded", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		imp := store.ImportedRecording{Recording: store.Recording{ID: "rec_imported", SiteID: 1, BrowserSession: "sess",
			AnonymousID: "anon-1", UserID: "u1", CreatedAt: t0},
			Chunks: []store.RecordingChunk{
				chunk("rec_imported", 0, 0, 10*time.Second, "https://app.example.com/a"),
				chunk("rec_imported", 1, 10*time.Second, 25*time.Second, "https://app.example.com/a", "https://app.example.com/b"),
			}}
		check(t, s.ImportRecordings(ctx, []store.ImportedRecording{imp}), "ImportRecordings")
		got, err := s.Recording(ctx, 1, "rec_imported", nil)
		check(t, err, "Recording")
		sameRecording(t, got.Recording, store.Recording{ID: "rec_imported", SiteID: 1, BrowserSession: "sess", AnonymousID: "anon-1",
			UserID: "u1", StartedAt: t0, EndedAt: t0.Add(25 * time.Second), CreatedAt: t0, Chunks: 2, BytesStored: 201,
			BytesRaw: 2001, FirstURL: "https://app.example.com/a", Pages: 2})
		if chunks, err := s.RecordingChunks(ctx, 1, "rec_imported"); err != nil || len(chunks) != 2 || chunks[1].Seq != 1 {
			t.Errorf("RecordingChunks = %+v, %v", chunks, err)
		}
		if has, _ := s.HasRecordingChunk(ctx, "rec_imported", 1); !has {
			t.Error("an imported chunk is not known")
		}
		// The same browser session's tab resumes the imported recording.
		if r, created, err := s.StartRecording(ctx, start(1, "sess", "anon-1", t0.Add(time.Minute)), 10); err != nil || created || r.ID != "rec_imported" {
			t.Errorf("StartRecording after the import: %+v, %v, %v", r, created, err)
		}
	})
}

// list lists a site's recordings, at most 100.
func list(t *testing.T, s recording.Reader, site int64, q store.RecordingQuery) []store.RecordingRow {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	rows, err := s.ListRecordings(ctx, site, q)
	check(t, err, "ListRecordings")
	return rows
}

func rowIDs(rows []store.RecordingRow) []string {
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}

func sameRecording(t *testing.T, got, want store.Recording) {
	t.Helper()
	if got.ID != want.ID || got.SiteID != want.SiteID || got.BrowserSession != want.BrowserSession ||
		got.AnonymousID != want.AnonymousID || got.UserID != want.UserID || !got.StartedAt.Equal(want.StartedAt) ||
		!got.EndedAt.Equal(want.EndedAt) || !got.CreatedAt.Equal(want.CreatedAt) || got.Chunks != want.Chunks ||
		got.BytesStored != want.BytesStored || got.BytesRaw != want.BytesRaw || got.FirstURL != want.FirstURL || got.Pages != want.Pages {
		t.Errorf("recording = %+v, want %+v", got, want)
	}
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
