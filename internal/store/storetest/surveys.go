package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Survey statuses as package survey names them; the store only compares
// them.
const (
	draft  = "draft"
	live   = "live"
	paused = "paused"
)

// RunSurveys runs the suite of survey definitions.
func RunSurveys(t *testing.T, open Opener[store.Surveys]) {
	survey := func(site int64, name, status string) store.SurveyRecord {
		return store.SurveyRecord{SiteID: site, Name: name, Status: status,
			Definition: []byte(`{"questions":[{"id":"q1","type":"nps","text":"How likely…?"}]}`)}
	}

	t.Run("a new survey reads back as created", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		in := survey(1, "NPS — Q4 ✓", draft)
		got, err := s.CreateSurvey(ctx, in)
		check(t, err, "CreateSurvey")
		if got.ID == "" || !sameTime(got.CreatedAt, c.Now()) || !sameTime(got.UpdatedAt, c.Now()) {
			t.Fatalf("new survey = %+v, want an ID and both times at %v", got, c.Now())
		}
		read, err := s.Survey(ctx, 1, got.ID)
		check(t, err, "Survey")
		sameSurvey(t, read, got)
		if read.Name != in.Name || read.Status != draft || !bytes.Equal(read.Definition, in.Definition) {
			t.Errorf("read back %+v, created %+v", read, in)
		}
		// An import keeps its creation time, in UTC.
		imported := survey(1, "Imported", live)
		imported.CreatedAt = time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
		got, err = s.CreateSurvey(ctx, imported)
		check(t, err, "CreateSurvey (import)")
		if !sameTime(got.CreatedAt, imported.CreatedAt) {
			t.Errorf("imported survey created at %v, want %v", got.CreatedAt, imported.CreatedAt)
		}
		if read, _ := s.Survey(ctx, 1, got.ID); !sameTime(read.CreatedAt, imported.CreatedAt) {
			t.Errorf("imported survey read back created at %v", read.CreatedAt)
		}
	})

	t.Run("an update applies only in the statuses allowed", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		sv, err := s.CreateSurvey(ctx, survey(1, "First", draft))
		check(t, err, "CreateSurvey")
		c.Add(time.Minute)
		sv.Name, sv.Definition = "Second", []byte(`{"questions":[]}`)
		got, err := s.UpdateSurvey(ctx, sv, []string{draft, paused})
		check(t, err, "UpdateSurvey")
		if got.Name != "Second" || !bytes.Equal(got.Definition, sv.Definition) || got.Status != draft ||
			!sameTime(got.UpdatedAt, c.Now()) || !sameTime(got.CreatedAt, T0) {
			t.Errorf("updated = %+v", got)
		}
		c.Add(time.Minute)
		refused := sv
		refused.Name = "Third"
		_, err = s.UpdateSurvey(ctx, refused, []string{live})
		wantErr(t, err, store.ErrConflict, "update outside the allowed statuses")
		read, err := s.Survey(ctx, 1, sv.ID)
		check(t, err, "Survey")
		sameSurvey(t, read, got)
		_, err = s.UpdateSurvey(ctx, store.SurveyRecord{SiteID: 1, ID: "srv_nope", Name: "x"}, []string{draft})
		wantErr(t, err, store.ErrNotFound, "update of an unknown survey")
		other := sv
		other.SiteID = 2
		_, err = s.UpdateSurvey(ctx, other, []string{draft})
		wantErr(t, err, store.ErrNotFound, "update through another site")
	})

	t.Run("a status moves only from the status named", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		sv, err := s.CreateSurvey(ctx, survey(1, "S", draft))
		check(t, err, "CreateSurvey")
		c.Add(time.Minute)
		got, err := s.SetSurveyStatus(ctx, 1, sv.ID, draft, live)
		check(t, err, "draft → live")
		if got.Status != live || !sameTime(got.UpdatedAt, c.Now()) {
			t.Errorf("after draft → live: %+v", got)
		}
		_, err = s.SetSurveyStatus(ctx, 1, sv.ID, draft, paused)
		wantErr(t, err, store.ErrConflict, "draft → paused of a live survey")
		if read, _ := s.Survey(ctx, 1, sv.ID); read.Status != live {
			t.Errorf("a refused move changed the status to %q", read.Status)
		}
		_, err = s.SetSurveyStatus(ctx, 2, sv.ID, live, paused)
		wantErr(t, err, store.ErrNotFound, "a move through another site")
		_, err = s.SetSurveyStatus(ctx, 1, "srv_nope", live, paused)
		wantErr(t, err, store.ErrNotFound, "a move of an unknown survey")
	})

	t.Run("surveys are listed newest first, live ones oldest first", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		var ids []string
		for _, st := range []string{live, draft, live, paused, live} {
			sv, err := s.CreateSurvey(ctx, survey(1, st, st))
			check(t, err, "CreateSurvey")
			ids = append(ids, sv.ID)
			c.Add(time.Second)
		}
		_, err := s.CreateSurvey(ctx, survey(2, "other site", live))
		check(t, err, "CreateSurvey")
		all, err := s.ListSurveys(ctx, 1)
		check(t, err, "ListSurveys")
		if got := surveyIDs(all); !slices.Equal(got, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}) {
			t.Errorf("ListSurveys = %q, want newest first %q", got, ids)
		}
		liveOnes, err := s.LiveSurveys(ctx, 1)
		check(t, err, "LiveSurveys")
		if got := surveyIDs(liveOnes); !slices.Equal(got, []string{ids[0], ids[2], ids[4]}) {
			t.Errorf("LiveSurveys = %q", got)
		}
		_, err = s.SetSurveyStatus(ctx, 1, ids[0], live, paused)
		check(t, err, "live → paused")
		if liveOnes, _ := s.LiveSurveys(ctx, 1); !slices.Equal(surveyIDs(liveOnes), []string{ids[2], ids[4]}) {
			t.Errorf("LiveSurveys after a pause = %q", surveyIDs(liveOnes))
		}
		if none, err := s.ListSurveys(ctx, 3); err != nil || len(none) != 0 {
			t.Errorf("a site without surveys: %+v, %v", none, err)
		}
	})

	t.Run("a deleted survey is gone, from its site only", func(t *testing.T) {
		s := open(t, NewClock().Now)
		a, err := s.CreateSurvey(ctx, survey(1, "A", live))
		check(t, err, "CreateSurvey")
		b, err := s.CreateSurvey(ctx, survey(1, "B", live))
		check(t, err, "CreateSurvey")
		wantErr(t, s.DeleteSurvey(ctx, 2, a.ID), store.ErrNotFound, "deleting through another site")
		check(t, s.DeleteSurvey(ctx, 1, a.ID), "DeleteSurvey")
		_, err = s.Survey(ctx, 1, a.ID)
		wantErr(t, err, store.ErrNotFound, "Survey after delete")
		wantErr(t, s.DeleteSurvey(ctx, 1, a.ID), store.ErrNotFound, "deleting twice")
		if all, _ := s.ListSurveys(ctx, 1); !slices.Equal(surveyIDs(all), []string{b.ID}) {
			t.Errorf("ListSurveys after delete = %q", surveyIDs(all))
		}
		if liveOnes, _ := s.LiveSurveys(ctx, 1); !slices.Equal(surveyIDs(liveOnes), []string{b.ID}) {
			t.Errorf("LiveSurveys after delete = %q", surveyIDs(liveOnes))
		}
	})
}

func sameSurvey(t *testing.T, got, want store.SurveyRecord) {
	t.Helper()
	if got.ID != want.ID || got.SiteID != want.SiteID || got.Name != want.Name || got.Status != want.Status ||
		!bytes.Equal(got.Definition, want.Definition) || !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Errorf("survey = %+v, want %+v", got, want)
	}
}

func surveyIDs(list []store.SurveyRecord) []string {
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

// SurveyStore keeps surveys with their responses: one backend, or a
// composite of two.
type SurveyStore interface {
	store.Surveys
	store.SurveyResponses
}

// RunSurveyDeletion runs the suite of what deleting a survey takes with
// it.
func RunSurveyDeletion(t *testing.T, open Opener[SurveyStore]) {
	t.Run("deleting a survey deletes its responses and dismissals, no one else's", func(t *testing.T) {
		s := open(t, NewClock().Now)
		a, err := s.CreateSurvey(ctx, store.SurveyRecord{SiteID: 1, Name: "A", Status: live, Definition: []byte(`{}`)})
		check(t, err, "CreateSurvey")
		b, err := s.CreateSurvey(ctx, store.SurveyRecord{SiteID: 1, Name: "B", Status: live, Definition: []byte(`{}`)})
		check(t, err, "CreateSurvey")
		for _, sv := range []string{a.ID, b.ID} {
			check(t, s.SaveResponse(ctx, response(sv, "r-1", "anon-1", "", 0, true, 7), nil), "SaveResponse")
			check(t, s.Dismiss(ctx, store.Dismissal{SiteID: 1, SurveyID: sv, AnonymousID: "anon-2", At: T0}), "Dismiss")
		}
		check(t, s.DeleteSurvey(ctx, 1, a.ID), "DeleteSurvey")
		_, err = s.Response(ctx, 1, a.ID, "r-1")
		wantErr(t, err, store.ErrNotFound, "a response of the deleted survey")
		if list, err := s.Responses(ctx, 1, a.ID, store.ResponseQuery{}); err != nil || len(list) != 0 {
			t.Errorf("Responses of the deleted survey = %+v, %v", list, err)
		}
		if n, err := s.Dismissals(ctx, 1, a.ID, time.Time{}, time.Time{}); err != nil || n != 0 {
			t.Errorf("Dismissals of the deleted survey = %d, %v", n, err)
		}
		if counts, _ := s.CompletedCounts(ctx, 1, []string{a.ID, b.ID}); counts[a.ID] != 0 || counts[b.ID] != 1 {
			t.Errorf("CompletedCounts after the delete = %v", counts)
		}
		hs, err := s.SurveyHistories(ctx, 1)
		check(t, err, "SurveyHistories")
		for _, h := range hs {
			if h.SurveyID == a.ID {
				t.Errorf("history of the deleted survey: %+v", h)
			}
		}
		if len(hs) == 0 {
			t.Error("the other survey's history went too")
		}
		if _, err := s.Response(ctx, 1, b.ID, "r-1"); err != nil {
			t.Errorf("the other survey's response: %v", err)
		}
	})
}
