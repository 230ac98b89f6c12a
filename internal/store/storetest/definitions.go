package storetest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// RunInsights runs the suite of saved insights and annotations.
func RunInsights(t *testing.T, open Opener[store.Insights]) {
	insight := func(site int64, name string) store.SavedInsight {
		return store.SavedInsight{SiteID: site, Name: name, Kind: "trend", Author: "ann@example.com",
			Definition: []byte(`{"series":[{"event":"Buy"}],"interval":"day"}`)}
	}

	t.Run("a saved insight reads back, and saving with its ID replaces it", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		in, err := s.SaveInsight(ctx, insight(1, "Sales — 💶"))
		check(t, err, "SaveInsight")
		if in.ID == "" || !sameTime(in.CreatedAt, c.Now()) || !sameTime(in.UpdatedAt, c.Now()) {
			t.Fatalf("new insight = %+v", in)
		}
		read, err := s.Insight(ctx, 1, in.ID)
		check(t, err, "Insight")
		if read.Name != "Sales — 💶" || read.Kind != "trend" || read.Author != "ann@example.com" ||
			!bytes.Equal(read.Definition, in.Definition) || !sameTime(read.CreatedAt, in.CreatedAt) {
			t.Errorf("read back %+v, saved %+v", read, in)
		}
		c.Add(time.Hour)
		change := in
		change.Name, change.Kind, change.Definition, change.CreatedAt = "Funnel", "funnel", []byte(`{"steps":[]}`), time.Time{}
		saved, err := s.SaveInsight(ctx, change)
		check(t, err, "SaveInsight (replace)")
		if saved.ID != in.ID || !sameTime(saved.CreatedAt, in.CreatedAt) || !sameTime(saved.UpdatedAt, c.Now()) {
			t.Errorf("replaced = %+v, want ID %s created %v updated %v", saved, in.ID, in.CreatedAt, c.Now())
		}
		if read, _ := s.Insight(ctx, 1, in.ID); read.Kind != "funnel" || string(read.Definition) != `{"steps":[]}` || read.Pinned {
			t.Errorf("after replacing: %+v", read)
		}
		change.Pinned = true
		_, err = s.SaveInsight(ctx, change)
		check(t, err, "SaveInsight (pin)")
		if read, _ := s.Insight(ctx, 1, in.ID); !read.Pinned {
			t.Errorf("after pinning: %+v", read)
		}
		if list, _ := s.ListInsights(ctx, 1); len(list) != 1 || !list[0].Pinned {
			t.Errorf("listed after pinning: %+v", list)
		}
	})

	t.Run("another site's insight, or an unknown one, is not found nor replaced", func(t *testing.T) {
		s := open(t, NewClock().Now)
		a, err := s.SaveInsight(ctx, insight(1, "A"))
		check(t, err, "SaveInsight")
		_, err = s.Insight(ctx, 2, a.ID)
		wantErr(t, err, store.ErrNotFound, "Insight of another site")
		steal := insight(2, "B")
		steal.ID = a.ID
		_, err = s.SaveInsight(ctx, steal)
		wantErr(t, err, store.ErrNotFound, "replacing another site's insight")
		ghost := insight(1, "ghost")
		ghost.ID = "ins_nope"
		_, err = s.SaveInsight(ctx, ghost)
		wantErr(t, err, store.ErrNotFound, "replacing an unknown insight")
		wantErr(t, s.DeleteInsight(ctx, 2, a.ID), store.ErrNotFound, "deleting another site's insight")
		if got, err := s.Insight(ctx, 1, a.ID); err != nil || got.Name != "A" {
			t.Errorf("A after the attempts: %+v, %v", got, err)
		}
	})

	t.Run("insights are listed by name, case aside; a deleted one is gone", func(t *testing.T) {
		s := open(t, NewClock().Now)
		ids := map[string]string{}
		for _, name := range []string{"beta", "Alpha", "gamma"} {
			in, err := s.SaveInsight(ctx, insight(1, name))
			check(t, err, "SaveInsight")
			ids[name] = in.ID
		}
		_, err := s.SaveInsight(ctx, insight(2, "Aardvark"))
		check(t, err, "SaveInsight")
		list, err := s.ListInsights(ctx, 1)
		check(t, err, "ListInsights")
		var names []string
		for _, in := range list {
			names = append(names, in.Name)
		}
		if !slices.Equal(names, []string{"Alpha", "beta", "gamma"}) {
			t.Errorf("names = %q", names)
		}
		check(t, s.DeleteInsight(ctx, 1, ids["beta"]), "DeleteInsight")
		_, err = s.Insight(ctx, 1, ids["beta"])
		wantErr(t, err, store.ErrNotFound, "Insight after delete")
		wantErr(t, s.DeleteInsight(ctx, 1, ids["beta"]), store.ErrNotFound, "deleting twice")
		if list, _ := s.ListInsights(ctx, 1); len(list) != 2 {
			t.Errorf("after the delete: %+v", list)
		}
	})

	t.Run("annotations are listed by date, per site", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		var made []store.Annotation
		for _, day := range []string{"2026-11-03", "2026-10-31", "2026-11-03"} {
			a, err := s.AddAnnotation(ctx, store.Annotation{SiteID: 1, Day: day, Text: "deploy " + day, Source: "api"})
			check(t, err, "AddAnnotation")
			if a.ID == "" || !sameTime(a.CreatedAt, c.Now()) {
				t.Fatalf("new annotation = %+v", a)
			}
			made = append(made, a)
			c.Add(time.Second)
		}
		_, err := s.AddAnnotation(ctx, store.Annotation{SiteID: 2, Day: "2026-11-01", Text: "other", Source: "dashboard"})
		check(t, err, "AddAnnotation")
		list, err := s.Annotations(ctx, 1)
		check(t, err, "Annotations")
		var got []string
		for _, a := range list {
			got = append(got, a.ID)
			if a.SiteID != 1 || a.Source != "api" || a.Text != "deploy "+a.Day {
				t.Errorf("annotation %+v", a)
			}
		}
		if want := []string{made[1].ID, made[0].ID, made[2].ID}; !slices.Equal(got, want) {
			t.Errorf("Annotations = %q, want by date then creation %q", got, want)
		}
		if list[0].Day != "2026-10-31" {
			t.Errorf("day = %q, want YYYY-MM-DD", list[0].Day)
		}
		wantErr(t, s.DeleteAnnotation(ctx, 2, made[0].ID), store.ErrNotFound, "deleting another site's annotation")
		check(t, s.DeleteAnnotation(ctx, 1, made[0].ID), "DeleteAnnotation")
		wantErr(t, s.DeleteAnnotation(ctx, 1, made[0].ID), store.ErrNotFound, "deleting twice")
		if list, _ := s.Annotations(ctx, 1); len(list) != 2 {
			t.Errorf("after the delete: %+v", list)
		}
	})
}

// RunExperiments runs the suite of experiments' definitions.
func RunExperiments(t *testing.T, open Opener[store.Experiments]) {
	exp := func(site int64, name string) store.SavedExperiment {
		return store.SavedExperiment{SiteID: site, Name: name, Definition: []byte(`{"variant":{"attribute":"ab"},"control":"a"}`)}
	}
	t.Run("an experiment reads back, is replaced by its ID, listed by name and deleted", func(t *testing.T) {
		c := NewClock()
		s := open(t, c.Now)
		e, err := s.SaveExperiment(ctx, exp(1, "pricing"))
		check(t, err, "SaveExperiment")
		if e.ID == "" || !sameTime(e.CreatedAt, c.Now()) || !sameTime(e.UpdatedAt, c.Now()) {
			t.Fatalf("new experiment = %+v", e)
		}
		c.Add(time.Minute)
		change := e
		change.Name, change.Definition = "Pricing page", []byte(`{}`)
		saved, err := s.SaveExperiment(ctx, change)
		check(t, err, "SaveExperiment (replace)")
		if saved.ID != e.ID || !sameTime(saved.CreatedAt, e.CreatedAt) || !sameTime(saved.UpdatedAt, c.Now()) {
			t.Errorf("replaced = %+v", saved)
		}
		read, err := s.Experiment(ctx, 1, e.ID)
		check(t, err, "Experiment")
		if read.Name != "Pricing page" || string(read.Definition) != `{}` {
			t.Errorf("read back %+v", read)
		}
		_, err = s.SaveExperiment(ctx, exp(1, "checkout"))
		check(t, err, "SaveExperiment")
		_, err = s.SaveExperiment(ctx, exp(2, "another site's"))
		check(t, err, "SaveExperiment")
		list, err := s.ListExperiments(ctx, 1)
		check(t, err, "ListExperiments")
		if len(list) != 2 || list[0].Name != "checkout" || list[1].Name != "Pricing page" {
			t.Errorf("ListExperiments = %+v", list)
		}
		_, err = s.Experiment(ctx, 2, e.ID)
		wantErr(t, err, store.ErrNotFound, "Experiment of another site")
		steal := exp(2, "x")
		steal.ID = e.ID
		_, err = s.SaveExperiment(ctx, steal)
		wantErr(t, err, store.ErrNotFound, "replacing another site's experiment")
		wantErr(t, s.DeleteExperiment(ctx, 2, e.ID), store.ErrNotFound, "deleting another site's experiment")
		check(t, s.DeleteExperiment(ctx, 1, e.ID), "DeleteExperiment")
		_, err = s.Experiment(ctx, 1, e.ID)
		wantErr(t, err, store.ErrNotFound, "Experiment after delete")
		wantErr(t, s.DeleteExperiment(ctx, 1, e.ID), store.ErrNotFound, "deleting twice")
	})
}

// RetentionSettings is the settings half of store.Retainer; ExpireData,
// the deletion they drive, runs where the data is.
type RetentionSettings interface {
	Retention(ctx context.Context, site int64) (store.Retention, error)
	SetRetention(ctx context.Context, site int64, r store.Retention) (store.Retention, error)
}

// RunRetentionSettings runs the suite of each site's retention settings.
func RunRetentionSettings(t *testing.T, open Opener[RetentionSettings]) {
	t.Run("a site keeps everything until its retention is set; bad values change nothing", func(t *testing.T) {
		s := open(t, NewClock().Now)
		if r, err := s.Retention(ctx, 1); err != nil || r != (store.Retention{}) {
			t.Fatalf("a new site's retention = %+v, %v", r, err)
		}
		want := store.Retention{EventsDays: 400, SessionsDays: 400, HistoryDays: 90, SurveysDays: 0}
		got, err := s.SetRetention(ctx, 1, want)
		check(t, err, "SetRetention")
		if got != want {
			t.Errorf("SetRetention = %+v", got)
		}
		if r, _ := s.Retention(ctx, 1); r != want {
			t.Errorf("read back %+v, want %+v", r, want)
		}
		if r, _ := s.Retention(ctx, 2); r != (store.Retention{}) {
			t.Errorf("another site's retention = %+v", r)
		}
		_, err = s.SetRetention(ctx, 1, store.Retention{EventsDays: -1})
		wantField(t, err, "invalid_retention", "events_days", "a negative retention")
		_, err = s.SetRetention(ctx, 1, store.Retention{HistoryDays: store.MaxRetentionDays + 1})
		wantField(t, err, "invalid_retention", "attribute_history_days", "a retention over the maximum")
		if r, _ := s.Retention(ctx, 1); r != want {
			t.Errorf("after refused changes: %+v", r)
		}
		want.EventsDays = 30
		_, err = s.SetRetention(ctx, 1, want)
		check(t, err, "SetRetention again")
		if r, _ := s.Retention(ctx, 1); r != want {
			t.Errorf("after a second change: %+v", r)
		}
	})
}
