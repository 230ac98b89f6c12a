package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/compare"
	"github.com/sightline/sightline/internal/insight"
	"github.com/sightline/sightline/internal/store"
)

// compareFunnel adds a saved funnel's conversion in each group to a
// comparison's side by side (compare.Result.AddFunnel), its days in the
// funnel's time zone, else the site's.
func (a *API) compareFunnel(r *http.Request, site store.Site, id string, res *compare.Result) error {
	saved, err := a.store.Insight(r.Context(), site.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && saved.Kind != "funnel") {
		return apierr.Invalid("unknown_funnel", "funnel", "%q is not a saved funnel of this site", id)
	}
	if err != nil {
		return err
	}
	var def insight.Funnel
	if err := json.Unmarshal(saved.Definition, &def); err != nil {
		return err
	}
	def.Range = siteZone(insight.Range{TZ: def.TZ}, site)
	err = res.AddFunnel(r.Context(), a.insights, site.ID, saved.Name, def)
	if fe, ok := err.(*store.FieldError); ok {
		return apierr.Invalid(fe.Code, "funnel", "the funnel %q does not compute here: %s", saved.Name, fe.Msg)
	}
	return err
}

// compareQuestions lists the site's survey questions whose answers a
// comparison compares (compare.SurveyQuestions); without the survey
// endpoints there are none.
func (a *API) compareQuestions(r *http.Request, site store.Site) ([]compare.Question, error) {
	if a.survey == nil {
		return nil, nil
	}
	surveys, err := a.survey.surveys.List(r.Context(), site.ID)
	if err != nil {
		return nil, err
	}
	return compare.SurveyQuestions(surveys), nil
}
