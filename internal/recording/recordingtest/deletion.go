package recordingtest

import (
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/storetest"
)

// pending lists the recordings whose blobs still wait to be deleted.
func pending(t *testing.T, s Store) []store.RecordingRef {
	t.Helper()
	refs, err := s.PendingRecordingDeletions(ctx, 100)
	check(t, err, "PendingRecordingDeletions")
	return refs
}

func runDeletion(t *testing.T, open storetest.Opener[Store]) {
	t.Run("a deleted recording is gone and waits in the outbox until its blobs are", func(t *testing.T) {
		c := storetest.NewClock()
		s := open(t, c.Now)
		a := record(t, s, 1, "sess-a", "va", chunk("", 0, 0, time.Second), chunk("", 1, time.Second, 2*time.Second))
		b := record(t, s, 1, "sess-b", "vb", chunk("", 0, 0, time.Second))
		other := record(t, s, 2, "sess-a", "va", chunk("", 0, 0, time.Second))
		if refs := pending(t, s); len(refs) != 0 {
			t.Fatalf("pending before any deletion: %+v", refs)
		}
		wantErr(t, s.DeleteRecording(ctx, 2, a.ID), store.ErrNotFound, "deleting through another site")
		check(t, s.DeleteRecording(ctx, 1, a.ID), "DeleteRecording")
		_, err := s.Recording(ctx, 1, a.ID, nil)
		wantErr(t, err, store.ErrNotFound, "Recording after delete")
		_, err = s.RecordingChunks(ctx, 1, a.ID)
		wantErr(t, err, store.ErrNotFound, "RecordingChunks after delete")
		if has, _ := s.HasRecordingChunk(ctx, a.ID, 0); has {
			t.Error("a deleted recording's chunk is still known")
		}
		wantErr(t, s.DeleteRecording(ctx, 1, a.ID), store.ErrNotFound, "deleting twice")
		// A chunk still in flight does not bring it back.
		_, err = s.AddRecordingChunk(ctx, 1, chunk(a.ID, 2, 2*time.Second, 3*time.Second), t0)
		wantErr(t, err, store.ErrNotFound, "a chunk of a deleted recording")
		if got := rowIDs(list(t, s, 1, store.RecordingQuery{})); !slices.Equal(got, []string{b.ID}) {
			t.Errorf("listed after delete = %q", got)
		}
		if got := rowIDs(list(t, s, 2, store.RecordingQuery{})); !slices.Equal(got, []string{other.ID}) {
			t.Errorf("site 2 after site 1's delete = %q", got)
		}
		c.Add(time.Minute)
		check(t, s.DeleteRecording(ctx, 1, b.ID), "DeleteRecording")
		refs := pending(t, s)
		if want := []store.RecordingRef{{SiteID: 1, ID: a.ID}, {SiteID: 1, ID: b.ID}}; !slices.Equal(refs, want) {
			t.Fatalf("pending = %+v, want %+v (oldest first)", refs, want)
		}
		if first, _ := s.PendingRecordingDeletions(ctx, 1); len(first) != 1 || first[0].ID != a.ID {
			t.Errorf("pending limited to 1 = %+v", first)
		}
		check(t, s.ClearRecordingDeletions(ctx, refs[:1]), "ClearRecordingDeletions")
		if got := pending(t, s); !slices.Equal(got, refs[1:]) {
			t.Errorf("pending after clearing a = %+v", got)
		}
		check(t, s.ClearRecordingDeletions(ctx, nil), "clearing nothing")
	})

	t.Run("a user's recordings go together, those from before they identified too", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		laptop := record(t, s, 1, "b1", "laptop", chunk("", 0, 0, time.Second))
		phone := record(t, s, 1, "b2", "phone", chunk("", 0, 0, time.Second))
		tablet := record(t, s, 1, "b3", "tablet", chunk("", 0, 0, time.Second))
		elsewhere := record(t, s, 2, "b1", "laptop", chunk("", 0, 0, time.Second))
		write(t, s,
			event(store.KindPage, "laptop", "", "p1", "home", 0),
			event(store.KindPage, "phone", "u1", "p2", "home", 0),
			event(store.KindPage, "tablet", "u2", "p3", "home", 0),
			event(store.KindIdentify, "laptop", "u1", "i1", "", time.Second))
		other := event(store.KindPage, "laptop", "u1", "p1", "home", 0)
		other.SiteID = 2
		write(t, s, other)
		n, err := s.DeleteUserRecordings(ctx, 1, store.Identity{Kind: "user", ID: "u1"})
		if err != nil || n != 2 {
			t.Fatalf("DeleteUserRecordings = %d, %v; want 2", n, err)
		}
		if got := rowIDs(list(t, s, 1, store.RecordingQuery{})); !slices.Equal(got, []string{tablet.ID}) {
			t.Errorf("left on site 1 = %q", got)
		}
		if got := rowIDs(list(t, s, 2, store.RecordingQuery{})); !slices.Equal(got, []string{elsewhere.ID}) {
			t.Errorf("left on site 2 = %q", got)
		}
		var ids []string
		for _, r := range pending(t, s) {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(sorted(ids), sorted([]string{laptop.ID, phone.ID})) {
			t.Errorf("pending = %q", ids)
		}
		_, err = s.DeleteUserRecordings(ctx, 1, store.Identity{Kind: "user", ID: "ghost"})
		wantErr(t, err, store.ErrNotFound, "the recordings of an unknown user")
		if n, err := s.DeleteUserRecordings(ctx, 1, store.Identity{Kind: "user", ID: "u1"}); err != nil || n != 0 {
			t.Errorf("deleting again = %d, %v", n, err)
		}
	})

	t.Run("recordings expire after their site's retention; empty ones after a day", func(t *testing.T) {
		s := open(t, storetest.NewClock().Now)
		_, err := s.SetRecordingSettings(ctx, 2, store.RecordingSettings{Enabled: true, SampleRate: 1, DailyQuota: 10, RetentionDays: 60})
		check(t, err, "SetRecordingSettings")
		day := 24 * time.Hour
		old1 := record(t, s, 1, "old", "v", chunk("", 0, 0, time.Second))
		old2 := record(t, s, 2, "old", "v", chunk("", 0, 0, time.Second))
		young := record(t, s, 1, "young", "v", chunk("", 0, 20*day, 20*day+time.Second))
		empty, _, err := s.StartRecording(ctx, start(1, "empty", "v", t0.Add(29*day)), 10)
		check(t, err, "StartRecording")
		fresh, _, err := s.StartRecording(ctx, start(1, "fresh", "v", t0.Add(31*day-time.Hour)), 10)
		check(t, err, "StartRecording")

		now := t0.Add(31 * day)
		n, err := s.ExpireRecordings(ctx, now, 30, 1)
		check(t, err, "ExpireRecordings")
		if n != 1 {
			t.Fatalf("expired %d with a limit of 1", n)
		}
		n, err = s.ExpireRecordings(ctx, now, 30, 100)
		check(t, err, "ExpireRecordings")
		if n != 1 {
			t.Fatalf("expired %d more, want 1 (of old1 and the empty one)", n)
		}
		if got := rowIDs(list(t, s, 1, store.RecordingQuery{})); !slices.Equal(got, []string{young.ID}) {
			t.Errorf("site 1 keeps %q, want only the young one", got)
		}
		if got := rowIDs(list(t, s, 2, store.RecordingQuery{})); !slices.Equal(got, []string{old2.ID}) {
			t.Errorf("site 2, which keeps 60 days, keeps %q", got)
		}
		var ids []string
		for _, r := range pending(t, s) {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(sorted(ids), sorted([]string{old1.ID, empty.ID})) {
			t.Errorf("pending = %q, want the old and the empty recording", ids)
		}
		// The one started an hour ago waits for its first chunk.
		if added, err := s.AddRecordingChunk(ctx, 1, chunk(fresh.ID, 0, 31*day-time.Hour, 31*day), now); err != nil || !added {
			t.Errorf("a chunk of the fresh recording: %v, %v", added, err)
		}
		if n, err := s.ExpireRecordings(ctx, now, 30, 100); err != nil || n != 0 {
			t.Errorf("expired again: %d, %v", n, err)
		}
	})
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
