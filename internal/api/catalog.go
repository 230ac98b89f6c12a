package api

import (
	"net/http"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

func (a *API) getCatalog(w http.ResponseWriter, r *http.Request, site store.Site) error {
	keys, err := a.store.AttributeCatalog(r.Context(), site.ID)
	if err != nil {
		return err
	}
	type key struct {
		Entity     string    `json:"entity"`
		Key        string    `json:"key"`
		Type       attr.Type `json:"type"`
		Users      int64     `json:"users"`
		FirstSeen  time.Time `json:"first_seen"`
		Samples    []string  `json:"sample_values"`
		Rejections int64     `json:"rejections"`
	}
	out := make([]key, 0, len(keys))
	for _, k := range keys {
		samples := k.Samples
		if samples == nil {
			samples = []string{}
		}
		out = append(out, key{Entity: k.Entity.String(), Key: k.Key, Type: k.Type, Users: k.Users,
			FirstSeen: k.FirstSeen, Samples: samples, Rejections: k.Rejections})
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"attributes": out})
	return nil
}

func (a *API) getRejections(w http.ResponseWriter, r *http.Request, site store.Site) error {
	limit, err := intParam(r, "limit", 100, 1000)
	if err != nil {
		return err
	}
	rej, err := a.store.Rejections(r.Context(), site.ID, r.URL.Query().Get("key"), limit)
	if err != nil {
		return err
	}
	type row struct {
		Entity    string    `json:"entity"`
		Key       string    `json:"key"`
		Expected  attr.Type `json:"expected"`
		Received  string    `json:"received"`
		Value     string    `json:"value"`
		ID        string    `json:"id"`
		MessageID string    `json:"message_id"`
		At        time.Time `json:"at"`
	}
	out := make([]row, 0, len(rej))
	for _, x := range rej {
		out = append(out, row{Entity: x.Entity.String(), Key: x.Key, Expected: x.Expected, Received: x.Received,
			Value: x.Value, ID: x.EntityID, MessageID: x.MessageID, At: x.At})
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"rejections": out})
	return nil
}

// getQuarantine lists messages that were acknowledged but that the
// database refused when applying them, newest first, in pages
// (?limit=&before=ID, next_before).
func (a *API) getQuarantine(w http.ResponseWriter, r *http.Request, site store.Site) error {
	limit, err := intParam(r, "limit", 100, 1000)
	if err != nil {
		return err
	}
	before, err := intParam(r, "before", 0, 1<<62)
	if err != nil {
		return err
	}
	qs, err := a.store.QuarantinedMessages(r.Context(), site.ID, limit, int64(before))
	if err != nil {
		return err
	}
	if qs == nil {
		qs = []store.QuarantinedMessage{}
	}
	out := map[string]any{"messages": qs}
	if len(qs) == limit {
		out["next_before"] = qs[len(qs)-1].ID
	}
	apierr.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) patchAttribute(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var body struct {
		Type   string `json:"type"`
		Entity string `json:"entity"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	to, err := attr.ParseType(body.Type)
	if err != nil {
		return apierr.Invalid("invalid_field", "type", "%v", err)
	}
	entity := store.EntityUser
	switch body.Entity {
	case "", "user":
	case "group":
		entity = store.EntityGroup
	default:
		return apierr.Invalid("invalid_field", "entity", "entity must be user or group")
	}
	key := r.PathValue("key")
	n, err := a.store.ChangeType(r.Context(), site.ID, entity, key, to)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"key": key, "type": to, "converted": n})
	return nil
}
