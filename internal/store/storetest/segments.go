package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// RunSegments runs the suite of saved segments.
func RunSegments(t *testing.T, open Opener[store.Segments]) {
	seg := func(site int64, name string) store.SavedSegment {
		return store.SavedSegment{SiteID: site, Name: name, Description: "who pays", Author: "ann@example.com",
			Definition: []byte(`{"attribute":"plan","op":"is","value":"pro"}`), Text: `plan = "pro"`}
	}

	t.Run("a saved segment reads back as saved", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		in := seg(1, "Paying — 💶 customers")
		in.Description = "line one\nline two"
		got, err := s.SaveSegment(ctx, in)
		check(t, err, "SaveSegment")
		if got.ID == "" || !sameTime(got.CreatedAt, c.Now()) || !sameTime(got.UpdatedAt, c.Now()) {
			t.Fatalf("new segment = %+v, want an ID and both times at %v", got, c.Now())
		}
		read, err := s.Segment(ctx, 1, got.ID)
		check(t, err, "Segment")
		sameSegment(t, read, got)
		if read.Name != in.Name || read.Description != in.Description || read.Author != in.Author ||
			!bytes.Equal(read.Definition, in.Definition) || read.Text != in.Text || read.SiteID != 1 {
			t.Errorf("read back %+v, saved %+v", read, in)
		}
		other, err := s.SaveSegment(ctx, in)
		check(t, err, "SaveSegment")
		if other.ID == got.ID {
			t.Errorf("two new segments share ID %s", got.ID)
		}
	})

	t.Run("saving with an ID replaces the segment and keeps its creation time", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		first, err := s.SaveSegment(ctx, seg(1, "Pro"))
		check(t, err, "SaveSegment")
		c.Add(time.Hour)
		change := first
		change.Name, change.Description, change.Author, change.Definition, change.Text = "Team", "", "bo@example.com",
			[]byte(`{"attribute":"plan","op":"is","value":"team"}`), `plan = "team"`
		change.CreatedAt = time.Time{}
		saved, err := s.SaveSegment(ctx, change)
		check(t, err, "SaveSegment (replace)")
		if saved.ID != first.ID || !sameTime(saved.CreatedAt, first.CreatedAt) || !sameTime(saved.UpdatedAt, c.Now()) {
			t.Errorf("replaced = %+v, want ID %s created %v updated %v", saved, first.ID, first.CreatedAt, c.Now())
		}
		read, err := s.Segment(ctx, 1, first.ID)
		check(t, err, "Segment")
		sameSegment(t, read, saved)
		if read.Name != "Team" || read.Description != "" || read.Author != "bo@example.com" || read.Text != `plan = "team"` {
			t.Errorf("after replacing: %+v", read)
		}
		if list, _ := s.ListSegments(ctx, 1); len(list) != 1 {
			t.Errorf("replacing added a segment: %+v", list)
		}
	})

	t.Run("an unknown ID, or another site's, is not found and not created", func(t *testing.T) {
		s := open(t, NewClock().Now)
		a, err := s.SaveSegment(ctx, seg(1, "A's"))
		check(t, err, "SaveSegment")
		_, err = s.Segment(ctx, 2, a.ID)
		wantErr(t, err, store.ErrNotFound, "Segment of another site")
		_, err = s.Segment(ctx, 1, "seg_nope")
		wantErr(t, err, store.ErrNotFound, "Segment of an unknown ID")
		steal := seg(2, "B's")
		steal.ID = a.ID
		_, err = s.SaveSegment(ctx, steal)
		wantErr(t, err, store.ErrNotFound, "replacing another site's segment")
		ghost := seg(1, "ghost")
		ghost.ID = "seg_nope"
		_, err = s.SaveSegment(ctx, ghost)
		wantErr(t, err, store.ErrNotFound, "replacing an unknown segment")
		wantErr(t, s.DeleteSegment(ctx, 2, a.ID), store.ErrNotFound, "deleting another site's segment")
		if got, err := s.Segment(ctx, 1, a.ID); err != nil || got.Name != "A's" {
			t.Errorf("A's segment after B's attempts: %+v, %v", got, err)
		}
		if list, _ := s.ListSegments(ctx, 2); len(list) != 0 {
			t.Errorf("site 2 has segments: %+v", list)
		}
		if list, _ := s.ListSegments(ctx, 1); len(list) != 1 {
			t.Errorf("site 1 has %d segments, want 1", len(list))
		}
	})

	t.Run("segments are listed by name, case aside, and names may repeat", func(t *testing.T) {
		s := open(t, NewClock().Now)
		for _, name := range []string{"beta", "Alpha", "alpha", "Gamma", "beta"} {
			_, err := s.SaveSegment(ctx, seg(1, name))
			check(t, err, "SaveSegment")
		}
		_, err := s.SaveSegment(ctx, seg(2, "Aardvark"))
		check(t, err, "SaveSegment")
		list, err := s.ListSegments(ctx, 1)
		check(t, err, "ListSegments")
		var names []string
		for _, g := range list {
			names = append(names, g.Name)
			if g.SiteID != 1 {
				t.Errorf("site 1's list holds %+v", g)
			}
		}
		if len(names) != 5 || !caseless(names[0], "alpha") || !caseless(names[1], "alpha") || names[2] != "beta" ||
			names[3] != "beta" || names[4] != "Gamma" || names[0] == names[1] {
			t.Errorf("names = %q, want alpha ×2, beta ×2, Gamma", names)
		}
		if list[2].ID == list[3].ID {
			t.Errorf("two segments named beta share an ID")
		}
		if empty, err := s.ListSegments(ctx, 3); err != nil || len(empty) != 0 {
			t.Errorf("a site without segments: %+v, %v", empty, err)
		}
	})

	t.Run("a deleted segment is gone", func(t *testing.T) {
		s := open(t, NewClock().Now)
		a, err := s.SaveSegment(ctx, seg(1, "A"))
		check(t, err, "SaveSegment")
		b, err := s.SaveSegment(ctx, seg(1, "B"))
		check(t, err, "SaveSegment")
		check(t, s.DeleteSegment(ctx, 1, a.ID), "DeleteSegment")
		_, err = s.Segment(ctx, 1, a.ID)
		wantErr(t, err, store.ErrNotFound, "Segment after delete")
		wantErr(t, s.DeleteSegment(ctx, 1, a.ID), store.ErrNotFound, "deleting twice")
		list, err := s.ListSegments(ctx, 1)
		check(t, err, "ListSegments")
		if len(list) != 1 || list[0].ID != b.ID {
			t.Errorf("after deleting A: %+v", list)
		}
	})
}

func sameSegment(t *testing.T, got, want store.SavedSegment) {
	t.Helper()
	if got.ID != want.ID || got.SiteID != want.SiteID || got.Name != want.Name || got.Description != want.Description ||
		got.Author != want.Author || !bytes.Equal(got.Definition, want.Definition) || got.Text != want.Text ||
		!sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Errorf("segment = %+v, want %+v", got, want)
	}
}

func caseless(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }
