package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// attrJSON is an attribute as the API shows it.
type attrJSON struct {
	Value     any       `json:"value"`
	Type      attr.Type `json:"type"`
	ChangedAt time.Time `json:"changed_at"`
}

func attrsJSON(as []store.AttrState) map[string]attrJSON {
	out := make(map[string]attrJSON, len(as))
	for _, a := range as {
		out[a.Key] = attrJSON{Value: a.Value.JSON(), Type: a.Value.Type, ChangedAt: a.ChangedAt}
	}
	return out
}

func (a *API) getSite(w http.ResponseWriter, r *http.Request, site store.Site) error {
	apierr.WriteJSON(w, http.StatusOK, site)
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, site store.Site) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	u, err := a.store.User(r.Context(), site.ID, id)
	if err != nil {
		return err
	}
	if s := r.URL.Query().Get("as_of"); s != "" {
		at, ok := attr.ParseTime(s)
		if !ok {
			return apierr.Invalid("invalid_parameter", "as_of", "as_of must be an ISO-8601 date or date-time")
		}
		if u.Attributes, err = a.store.AttributesAsOf(r.Context(), site.ID, id, at); err != nil {
			return err
		}
	}
	apierr.WriteJSON(w, http.StatusOK, userJSON(u))
	return nil
}

// userJSON is a user as GET /users/{id} (and an export) shows it.
func userJSON(u store.User) map[string]any {
	type company struct {
		GroupID    string              `json:"group_id"`
		Attributes map[string]attrJSON `json:"attributes"`
	}
	companies := make([]company, 0, len(u.Groups))
	for _, g := range u.Groups {
		companies = append(companies, company{GroupID: g.ID, Attributes: attrsJSON(g.Attributes)})
	}
	anon := u.AnonymousIDs
	if anon == nil {
		anon = []string{}
	}
	return map[string]any{
		"user_id":       u.UserID,
		"anonymous_ids": anon,
		"first_seen":    nullTime(u.FirstSeen),
		"last_seen":     nullTime(u.LastSeen),
		"sessions":      u.Sessions,
		"events":        u.Events,
		"attributes":    attrsJSON(u.Attributes),
		"companies":     companies,
	}
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (a *API) getHistory(w http.ResponseWriter, r *http.Request, site store.Site) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	changes, err := a.store.History(r.Context(), site.ID, id, r.URL.Query().Get("key"))
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"history": historyJSON(changes)})
	return nil
}

// changeJSON is an attribute's change as the API shows it.
type changeJSON struct {
	Key   string    `json:"key"`
	Value any       `json:"value"`
	Type  attr.Type `json:"type,omitempty"`
	At    time.Time `json:"at"`
}

func historyJSON(changes []store.Change) []changeJSON {
	out := make([]changeJSON, 0, len(changes))
	for _, c := range changes {
		out = append(out, changeJSON{Key: c.Key, Value: c.Value.JSON(), Type: c.Value.Type, At: c.At})
	}
	return out
}

func (a *API) getEvents(w http.ResponseWriter, r *http.Request, site store.Site) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 100, 1000)
	if err != nil {
		return err
	}
	q := store.EventQuery{Limit: limit}
	if s := r.URL.Query().Get("before"); s != "" {
		var ok bool
		if q.Before, q.BeforeID, ok = parseEventCursor(s); !ok {
			return apierr.Invalid("invalid_parameter", "before",
				"before must be an ISO-8601 date-time or the next_before of a previous page")
		}
	}
	events, err := a.store.UserEvents(r.Context(), site.ID, id, q)
	if err != nil {
		return err
	}
	out := make([]userEventJSON, 0, len(events))
	for _, e := range events {
		out = append(out, toUserEventJSON(e))
	}
	next := ""
	if len(events) == limit {
		last := events[len(events)-1]
		next = base64.RawURLEncoding.EncodeToString([]byte(last.Timestamp.Format(time.RFC3339Nano) + "|" + last.MessageID))
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"events": out, "next_before": next})
	return nil
}

// userEventJSON is a user's event as the API shows it.
type userEventJSON struct {
	Type       string          `json:"type"`
	Name       string          `json:"name,omitempty"`
	Timestamp  time.Time       `json:"timestamp"`
	MessageID  string          `json:"message_id"`
	SessionID  int64           `json:"session_id,omitempty"`
	URL        string          `json:"url,omitempty"`
	Path       string          `json:"path,omitempty"`
	Title      string          `json:"title,omitempty"`
	Referrer   string          `json:"referrer,omitempty"`
	Properties json.RawMessage `json:"properties"`
}

func toUserEventJSON(e store.Event) userEventJSON {
	return userEventJSON{Type: e.Kind.String(), Name: e.Name, Timestamp: e.Timestamp, MessageID: e.MessageID,
		SessionID: e.SessionID, URL: e.Page.URL, Path: e.Page.Path, Title: e.Page.Title, Referrer: e.Page.Referrer,
		Properties: json.RawMessage(e.Properties)}
}

// parseEventCursor reads a next_before cursor, or a plain time (which starts
// just before that instant, so the ID sorts below every real one).
func parseEventCursor(s string) (time.Time, string, bool) {
	if t, ok := attr.ParseTime(s); ok {
		return t, "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", false
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok {
		return time.Time{}, "", false
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	return t, id, err == nil
}

func (a *API) getSessions(w http.ResponseWriter, r *http.Request, site store.Site) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 50, 1000)
	if err != nil {
		return err
	}
	sessions, err := a.store.UserSessions(r.Context(), site.ID, id, limit)
	if err != nil {
		return err
	}
	recs, err := a.sessionRecordings(r.Context(), site.ID, id, sessions)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"sessions": sessionsJSON(sessions, recs)})
	return nil
}

// sessionsJSON is sessions as the API shows them, with their recordings.
func sessionsJSON(sessions []store.Session, recs map[int64][]string) []map[string]any {
	out := make([]map[string]any, 0, len(sessions))
	for _, s := range sessions {
		c := s.Context
		ids := recs[s.ID]
		if ids == nil {
			ids = []string{}
		}
		out = append(out, map[string]any{
			"id": s.ID, "start": s.Start, "end": s.End, "duration_seconds": s.End.Sub(s.Start).Seconds(),
			"pages": s.Pages, "events": s.Events, "entry_page": s.EntryPage, "exit_page": s.ExitPage,
			"device_type": c.DeviceType, "browser": c.Browser, "os": c.OS, "country": c.Country,
			"locale": c.Locale, "timezone": c.Timezone, "channel": c.Channel, "referrer": c.Referrer,
			"utm_source": c.UTMSource, "utm_medium": c.UTMMedium, "utm_campaign": c.UTMCampaign,
			"signals": s.Signals, "recordings": ids,
		})
	}
	return out
}

// sessionRecordings returns the IDs of the user's recordings by the
// session each belongs to, oldest first. A recording belongs to the server
// session that overlaps it most, as the recordings list says (its
// session_id): the list's query decides, so the two cannot disagree.
func (a *API) sessionRecordings(ctx context.Context, site int64, id store.Identity, sessions []store.Session) (map[int64][]string, error) {
	out := map[int64][]string{}
	if a.recordings == nil || len(sessions) == 0 {
		return out, nil
	}
	key, err := a.store.UserKey(ctx, site, id)
	if err != nil {
		return nil, err
	}
	// Sessions come newest first; a recording may start a little before
	// the session it overlaps (the list allows five minutes).
	from := sessions[len(sessions)-1].Start.Add(-10 * time.Minute)
	rows, err := a.recordings.List(ctx, site, store.RecordingQuery{
		Members: &store.KeySet{SQL: "SELECT CAST(? AS BIGINT) AS u", Args: []any{key}},
		From:    from, Sort: store.SortDate, Limit: maxSessionRecordings,
	})
	if err != nil {
		return nil, err
	}
	// Newest first from the list: reversed, each session's are oldest first.
	for i := len(rows) - 1; i >= 0; i-- {
		if s := rows[i].SessionID; s != 0 {
			out[s] = append(out[s], rows[i].ID)
		}
	}
	return out, nil
}

// maxSessionRecordings bounds the recordings looked up for a page of
// sessions: beyond it (a user recorded in more than a thousand tabs) the
// oldest sessions show none.
const maxSessionRecordings = 1000

func (a *API) searchUsers(w http.ResponseWriter, r *http.Request, site store.Site) error {
	q := r.URL.Query()
	limit, err := intParam(r, "limit", 50, 1000)
	if err != nil {
		return err
	}
	uq := store.UserQuery{IDPrefix: q.Get("prefix"), AttrKey: q.Get("attr"), AttrText: q.Get("value"), Limit: limit}
	if s := q.Get("after"); s != "" {
		if uq.After, err = strconv.ParseInt(s, 10, 64); err != nil {
			return apierr.Invalid("invalid_parameter", "after", "after must be the cursor of a previous page")
		}
	}
	if uq.AttrKey != "" && !q.Has("value") {
		return apierr.Invalid("missing_parameter", "value", "searching by attribute needs value")
	}
	users, err := a.store.SearchUsers(r.Context(), site.ID, uq)
	if err != nil {
		return err
	}
	keys := make([]int64, len(users))
	for i, u := range users {
		keys[i] = u.Key
	}
	seen, err := a.store.LastSeen(r.Context(), site.ID, keys)
	if err != nil {
		return err
	}
	// ?attributes=plan,ltv adds those attributes to each row.
	var attrs map[int64][]store.AttrState
	if s := q.Get("attributes"); s != "" {
		names := strings.Split(s, ",")
		if len(names) > 50 {
			return apierr.Invalid("invalid_parameter", "attributes", "at most 50 attributes a row")
		}
		if attrs, err = a.store.CurrentAttributes(r.Context(), site.ID, keys, names); err != nil {
			return err
		}
	}
	type row struct {
		UserID     string              `json:"user_id"`
		Key        int64               `json:"key"`
		LastSeen   any                 `json:"last_seen"`
		Attributes map[string]attrJSON `json:"attributes,omitempty"`
	}
	out := make([]row, 0, len(users))
	for _, u := range users {
		rw := row{UserID: u.UserID, Key: u.Key, LastSeen: nullTime(seen[u.Key])}
		if attrs != nil {
			rw.Attributes = attrsJSON(attrs[u.Key])
		}
		out = append(out, rw)
	}
	next := ""
	if len(users) == limit {
		next = strconv.FormatInt(users[len(users)-1].Key, 10)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"users": out, "next_after": next})
	return nil
}

func (a *API) postMerge(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var body struct {
		From store.Identity `json:"from"`
		Into store.Identity `json:"into"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.From.ID == "" {
		return apierr.Invalid("missing_field", "from.id", "from needs an id")
	}
	if body.Into.ID == "" {
		return apierr.Invalid("missing_field", "into.id", "into needs an id")
	}
	for field, k := range map[string]string{"from.kind": body.From.Kind, "into.kind": body.Into.Kind} {
		if k != "" && k != "user" && k != "anonymous" {
			return apierr.Invalid("invalid_field", field, "kind must be user or anonymous")
		}
	}
	if err := a.store.Merge(r.Context(), site.ID, body.From, body.Into); err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"merged": true})
	return nil
}

// decodeJSON reads a small JSON request body strictly.
func decodeJSON(r *http.Request, v any) error { return apierr.DecodeJSON(r, v, 1<<20) }
