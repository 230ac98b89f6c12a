package storetest

import (
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// ControlChangeStore is the control-data half of ChangeStore: the
// counters with the writes of control data that segments read.
type ControlChangeStore interface {
	store.Changes
	store.Segments
	store.Surveys
}

// RunControlChanges runs the control-data half of the change counters'
// suite: saved segments (which in_segment conditions read) move the site
// counter, a deleted survey (whose responses nps conditions read) the
// surveys counter. RunChanges covers the analytical writes, and the
// segments again, for stores that have both halves.
func RunControlChanges(t *testing.T, open Opener[ControlChangeStore]) {
	t.Run("saving or deleting a segment moves the site counter, deleting a survey the surveys counter", func(t *testing.T) {
		s := open(t, NewClock().Now)
		seg := store.SavedSegment{SiteID: 1, Name: "s", Definition: []byte(`{"all":[]}`)}
		sv, err := s.CreateSurvey(ctx, store.SurveyRecord{SiteID: 1, Name: "s", Status: live, Definition: []byte(`{}`)})
		check(t, err, "CreateSurvey")
		tests := []struct {
			name  string
			write func() error
			moved func(before, after store.Versions) bool
		}{
			{"a saved segment", func() error { var err error; seg, err = s.SaveSegment(ctx, seg); return err },
				func(b, a store.Versions) bool { return a.Site > b.Site }},
			{"a saved segment changed", func() error { seg.Name = "t"; _, err := s.SaveSegment(ctx, seg); return err },
				func(b, a store.Versions) bool { return a.Site > b.Site }},
			{"a saved segment deleted", func() error { return s.DeleteSegment(ctx, 1, seg.ID) },
				func(b, a store.Versions) bool { return a.Site > b.Site }},
			{"a survey deleted", func() error { return s.DeleteSurvey(ctx, 1, sv.ID) },
				func(b, a store.Versions) bool { return a.Surveys > b.Surveys }},
		}
		for _, tt := range tests {
			before := s.Versions(1, 7)
			check(t, tt.write(), tt.name)
			after := s.Versions(1, 7)
			if !tt.moved(before, after) {
				t.Errorf("%s: counters %+v → %+v", tt.name, before, after)
			}
			if after.Profile < before.Profile || after.Activity < before.Activity || after.Site < before.Site || after.Surveys < before.Surveys {
				t.Errorf("%s: a counter went back: %+v → %+v", tt.name, before, after)
			}
		}
	})
}
