package api

import (
	"context"
	"net/http"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// MaxPinnedInsights is how many saved insights a site's overview shows:
// each is computed live when the overview opens.
const MaxPinnedInsights = 8

// pinInsight pins a saved insight to the site's overview (PUT
// /insights/{id}/pin) or unpins it (DELETE), answering the insight. Its
// definition is not computed again: only the pin changes.
func (a *API) pinInsight(pin bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, site store.Site) error {
		in, err := a.store.Insight(r.Context(), site.ID, r.PathValue("id"))
		if err != nil {
			return err
		}
		if in.Pinned != pin {
			if pin {
				if err := a.roomForPin(r.Context(), site, in.ID); err != nil {
					return err
				}
			}
			in.Pinned = pin
			if in, err = a.store.SaveInsight(r.Context(), in); err != nil {
				return err
			}
		}
		apierr.WriteJSON(w, http.StatusOK, savedInsightJSON(in))
		return nil
	}
}

// roomForPin refuses a pin beyond MaxPinnedInsights (except insight id's
// own, already counted).
func (a *API) roomForPin(ctx context.Context, site store.Site, id string) error {
	list, err := a.store.ListInsights(ctx, site.ID)
	if err != nil {
		return err
	}
	n := 0
	for _, in := range list {
		if in.Pinned && in.ID != id {
			n++
		}
	}
	if n >= MaxPinnedInsights {
		return &apierr.Error{Status: http.StatusConflict, Code: "too_many_pins", Field: "pinned",
			Message: "the overview shows at most 8 insights: unpin one first"}
	}
	return nil
}
