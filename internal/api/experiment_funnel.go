package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/experiment"
	"github.com/sightline/sightline/internal/insight"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// experimentFunnels returns d with each goal that names a saved funnel
// given that funnel's steps (as text) and window, and its name unless
// the goal has one of its own; d itself is not changed. A funnel that is
// not a saved funnel of the site is a 400 naming the goal.
func (a *API) experimentFunnels(r *http.Request, site store.Site, d experiment.Definition) (experiment.Definition, error) {
	d.Goals = slices.Clone(d.Goals)
	for i := range d.Goals {
		g := &d.Goals[i]
		if g.Kind != "funnel" || g.Funnel == "" {
			continue
		}
		field := fmt.Sprintf("goals[%d].funnel", i)
		saved, err := a.store.Insight(r.Context(), site.ID, g.Funnel)
		if errors.Is(err, store.ErrNotFound) || (err == nil && saved.Kind != "funnel") {
			return d, apierr.Invalid("unknown_funnel", field, "%q is not a saved funnel of this site", g.Funnel)
		}
		if err != nil {
			return d, err
		}
		var def insight.Funnel
		if err := json.Unmarshal(saved.Definition, &def); err != nil {
			return d, err
		}
		g.Steps = nil
		for _, raw := range def.Steps {
			text, err := stepText(raw)
			if err != nil {
				return d, apierr.Invalid("unknown_funnel", field, "the funnel %q has a step that does not read: %v", saved.Name, err)
			}
			g.Steps = append(g.Steps, text)
		}
		g.Window = def.Window
		if g.Name == "" || g.Name == g.Funnel {
			g.Name = saved.Name
		}
	}
	return d, nil
}

// stepText is a funnel step (a did(…) or visited(…) condition as text or
// JSON) as text.
func stepText(raw insight.Event) (string, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	n, err := segment.ParseJSON(raw)
	if err != nil {
		return "", err
	}
	return segment.Format(n), nil
}
