package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// segmentBody is a segment as clients send it: the definition as JSON
// ("definition") or as text ("text").
type segmentBody struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Author      string          `json:"author"`
	Definition  json.RawMessage `json:"definition"`
	Text        string          `json:"text"`
}

func (b segmentBody) def() engine.Definition {
	d := engine.Definition{Text: b.Text}
	if len(b.Definition) > 0 && string(b.Definition) != "null" {
		d.JSON = b.Definition
	}
	return d
}

// segmentJSON is a saved segment as the API shows it.
type segmentJSON struct {
	store.SavedSegment
	Definition json.RawMessage `json:"definition"`
	Size       *int64          `json:"size,omitempty"`
	// Warnings name events and property keys the site has not seen (see
	// segment.Warnings); saving and reading a segment report them.
	Warnings []segment.Warning `json:"warnings,omitempty"`
}

func (a *API) registerSegments(mux *http.ServeMux, p string) {
	mux.Handle("POST "+p+"/segments/preview", a.auth(store.ScopeRead, a.previewSegment))
	mux.Handle("GET "+p+"/segments", a.auth(store.ScopeRead, a.listSegments))
	mux.Handle("POST "+p+"/segments", a.auth(store.ScopeWrite, a.createSegment))
	mux.Handle("GET "+p+"/segments/{seg}", a.auth(store.ScopeRead, a.getSegment))
	mux.Handle("PUT "+p+"/segments/{seg}", a.auth(store.ScopeWrite, a.updateSegment))
	mux.Handle("DELETE "+p+"/segments/{seg}", a.auth(store.ScopeWrite, a.deleteSegment))
	mux.Handle("GET "+p+"/segments/{seg}/members", a.auth(store.ScopeRead, a.segmentMembers))
	mux.Handle("GET "+p+"/segments/{seg}/members/{id}", a.auth(store.ScopeRead, a.segmentHasMember))
	mux.Handle("GET "+p+"/segments/{seg}/export", a.auth(store.ScopeRead, a.exportSegment))
	mux.Handle("GET "+p+"/segments/{seg}/trend", a.auth(store.ScopeRead, a.getTrend))
	mux.Handle("POST "+p+"/segments/trend", a.auth(store.ScopeRead, a.postTrend))
	mux.Handle("GET "+p+"/users/{id}/segments", a.auth(store.ScopeRead, a.userSegments))
}

// segmentError turns a definition problem into a 400 that lists each
// problem with its position (text form) or path (JSON form). A definition
// beyond one of the limits has the limit's code (segment_too_large,
// too_many_conditions, too_deep); any other, invalid_segment.
func segmentError(err error) error {
	if !errors.Is(err, engine.ErrInvalid) {
		return err
	}
	return &apierr.Error{Status: http.StatusBadRequest, Code: segment.Code(err), Field: "definition",
		Message: err.Error(), Details: segment.Problems(err)}
}

// prepare parses and validates a definition.
func (a *API) prepare(ctx context.Context, site store.Site, b segmentBody, selfID string) (segment.Node, error) {
	n, err := a.segments.Prepare(ctx, site.ID, b.def(), selfID)
	if err != nil {
		return nil, segmentError(err)
	}
	return n, nil
}

// memberJSON is a segment member as the API shows it.
type memberJSON struct {
	UserID     string              `json:"user_id"`
	Key        int64               `json:"key"`
	Attributes map[string]attrJSON `json:"attributes"`
}

func membersJSON(ms []store.Member) []memberJSON {
	out := make([]memberJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, memberJSON{UserID: m.UserID, Key: m.Key, Attributes: attrsJSON(m.Attributes)})
	}
	return out
}

// maxKeyAttributes bounds the key attributes a site shows.
const maxKeyAttributes = 10

// keyAttributes returns the attributes to show beside users: those asked
// for with ?attributes=a,b, else the ones the site's admins chose, else a
// default pick: name, email, plan and ltv where the site has them, then
// the most common others, five in all.
func (a *API) keyAttributes(r *http.Request, site store.Site) ([]string, error) {
	if s := r.URL.Query().Get("attributes"); s != "" {
		return strings.Split(s, ","), nil
	}
	if len(site.KeyAttributes) > 0 {
		return site.KeyAttributes, nil
	}
	cat, err := a.store.AttributeCatalog(r.Context(), site.ID)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(cat, func(i, j int) bool { return cat[i].Users > cat[j].Users })
	has := map[string]bool{}
	for _, k := range cat {
		if k.Entity == store.EntityUser {
			has[k.Key] = true
		}
	}
	var keys []string
	for _, k := range []string{"name", "email", "plan", "ltv"} {
		if has[k] {
			keys = append(keys, k)
		}
	}
	for _, k := range cat {
		if len(keys) >= 5 {
			break
		}
		if k.Entity == store.EntityUser && !slices.Contains(keys, k.Key) {
			keys = append(keys, k.Key)
		}
	}
	return keys, nil
}

// checkKeyAttributes checks a site's chosen key attributes: user
// attributes the catalog knows, at most maxKeyAttributes, each once.
func (a *API) checkKeyAttributes(r *http.Request, site store.Site, keys []string) error {
	if len(keys) > maxKeyAttributes {
		return apierr.Invalid("too_many_attributes", "key_attributes", "choose at most %d key attributes", maxKeyAttributes)
	}
	cat, err := a.store.AttributeCatalog(r.Context(), site.ID)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, k := range cat {
		if k.Entity == store.EntityUser {
			known[k.Key] = true
		}
	}
	seen := map[string]bool{}
	for i, k := range keys {
		field := fmt.Sprintf("key_attributes[%d]", i)
		if !known[k] {
			return apierr.Invalid("unknown_attribute", field, "the site has no user attribute %q", k)
		}
		if seen[k] {
			return apierr.Invalid("duplicate_attribute", field, "%q is chosen twice", k)
		}
		seen[k] = true
	}
	return nil
}

func (a *API) previewSegment(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var b segmentBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	n, err := a.prepare(r.Context(), site, b, "")
	if err != nil {
		return err
	}
	sample, err := intParam(r, "sample", 10, 100)
	if err != nil {
		return err
	}
	attrs, err := a.keyAttributes(r, site)
	if err != nil {
		return err
	}
	start := time.Now()
	size, members, err := a.segments.Preview(r.Context(), site.ID, n, sample, attrs)
	if err != nil {
		return err
	}
	took := time.Since(start)
	def, err := segment.MarshalNode(n)
	if err != nil {
		return err
	}
	warnings, err := a.segmentWarnings(r.Context(), site, n)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{
		"size": size, "members": membersJSON(members), "text": segment.Format(n),
		"definition": json.RawMessage(def), "took_ms": took.Milliseconds(), "warnings": warnings,
	})
	return nil
}

// saved reads a saved segment and its tree.
func (a *API) saved(r *http.Request, site store.Site) (store.SavedSegment, segment.Node, error) {
	s, err := a.store.Segment(r.Context(), site.ID, r.PathValue("seg"))
	if err != nil {
		return store.SavedSegment{}, nil, err
	}
	n, err := a.segments.Saved(r.Context(), site.ID, s)
	if err != nil {
		return store.SavedSegment{}, nil, segmentError(err)
	}
	return s, n, nil
}

func (a *API) listSegments(w http.ResponseWriter, r *http.Request, site store.Site) error {
	segs, err := a.store.ListSegments(r.Context(), site.ID)
	if err != nil {
		return err
	}
	withSize := r.URL.Query().Get("size") == "true"
	out := make([]segmentJSON, 0, len(segs))
	for _, s := range segs {
		js := segmentJSON{SavedSegment: s, Definition: s.Definition}
		if withSize {
			n, err := a.segments.Saved(r.Context(), site.ID, s)
			if err != nil {
				return segmentError(err)
			}
			size, err := a.segments.Count(r.Context(), site.ID, n)
			if err != nil {
				return err
			}
			js.Size = &size
		}
		out = append(out, js)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"segments": out})
	return nil
}

func (a *API) saveSegment(w http.ResponseWriter, r *http.Request, site store.Site, id string) error {
	var b segmentBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	b.Name = strings.TrimSpace(b.Name)
	if b.Name == "" {
		return apierr.Invalid("missing_field", "name", "a segment needs a name")
	}
	if len(b.Name) > 200 || len(b.Description) > 2000 || len(b.Author) > 200 {
		return apierr.Invalid("too_long", "name", "name and author are limited to 200 bytes, description to 2000")
	}
	if b.Author == "" {
		b.Author = "api"
	}
	n, err := a.prepare(r.Context(), site, b, id)
	if err != nil {
		return err
	}
	def, err := segment.MarshalNode(n)
	if err != nil {
		return err
	}
	s, err := a.store.SaveSegment(r.Context(), store.SavedSegment{ID: id, SiteID: site.ID, Name: b.Name,
		Description: b.Description, Author: b.Author, Definition: def, Text: segment.Format(n)})
	if err != nil {
		return err
	}
	size, err := a.segments.Count(r.Context(), site.ID, n)
	if err != nil {
		return err
	}
	warnings, err := a.segmentWarnings(r.Context(), site, n)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if id == "" {
		status = http.StatusCreated
	}
	apierr.WriteJSON(w, status, segmentJSON{SavedSegment: s, Definition: def, Size: &size, Warnings: warnings})
	return nil
}

func (a *API) createSegment(w http.ResponseWriter, r *http.Request, site store.Site) error {
	return a.saveSegment(w, r, site, "")
}

func (a *API) updateSegment(w http.ResponseWriter, r *http.Request, site store.Site) error {
	if _, err := a.store.Segment(r.Context(), site.ID, r.PathValue("seg")); err != nil {
		return err
	}
	return a.saveSegment(w, r, site, r.PathValue("seg"))
}

func (a *API) getSegment(w http.ResponseWriter, r *http.Request, site store.Site) error {
	s, n, err := a.saved(r, site)
	if err != nil {
		return err
	}
	size, err := a.segments.Count(r.Context(), site.ID, n)
	if err != nil {
		return err
	}
	warnings, err := a.segmentWarnings(r.Context(), site, n)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, segmentJSON{SavedSegment: s, Definition: s.Definition, Size: &size,
		Warnings: warnings})
	return nil
}

func (a *API) deleteSegment(w http.ResponseWriter, r *http.Request, site store.Site) error {
	id := r.PathValue("seg")
	segs, err := a.store.ListSegments(r.Context(), site.ID)
	if err != nil {
		return err
	}
	for _, s := range segs {
		n, err := segment.ParseJSON(s.Definition)
		if err != nil {
			continue
		}
		for _, ref := range segment.SegmentRefs(n) {
			if ref == id && s.ID != id {
				return &apierr.Error{Status: http.StatusConflict, Code: "segment_in_use", Field: "id",
					Message: "segment " + s.ID + " (" + s.Name + ") refers to this segment; change it first"}
			}
		}
	}
	if err := a.store.DeleteSegment(r.Context(), site.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) segmentMembers(w http.ResponseWriter, r *http.Request, site store.Site) error {
	_, n, err := a.saved(r, site)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 100, 10000)
	if err != nil {
		return err
	}
	var after int64
	if s := r.URL.Query().Get("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil {
			return apierr.Invalid("invalid_parameter", "after", "after must be the next_after of a previous page")
		}
	}
	attrs, err := a.keyAttributes(r, site)
	if err != nil {
		return err
	}
	members, err := a.segments.Members(r.Context(), site.ID, n, after, limit, attrs)
	if err != nil {
		return err
	}
	next := ""
	if len(members) == limit {
		next = strconv.FormatInt(members[len(members)-1].Key, 10)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"members": membersJSON(members), "next_after": next})
	return nil
}

// memberFields are the columns of a segment export that are not
// attributes: the user's ID (empty for an anonymous visitor) and the
// user's key, which tells anonymous members apart.
var memberFields = []string{"user_id", "key"}

// exportSegment streams every member as CSV or as a JSON array. The
// columns are ?columns= (user_id, key and user attributes, in that order)
// or else user_id and the key attributes; JSON always has user_id and key,
// and the chosen attributes.
func (a *API) exportSegment(w http.ResponseWriter, r *http.Request, site store.Site) error {
	s, n, err := a.saved(r, site)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "json" {
		return apierr.Invalid("invalid_parameter", "format", "format must be csv or json")
	}
	keyAttrs, err := a.keyAttributes(r, site)
	if err != nil {
		return err
	}
	set, err := a.newExportColumns(r, site, memberFields)
	if err != nil {
		return err
	}
	cols, err := set.choose(r, append([]string{"user_id"}, keyAttrs...))
	if err != nil {
		return err
	}
	attrs := set.attributes(cols)
	const page = 10000
	first, err := a.segments.Members(r.Context(), site.ID, n, 0, page, attrs)
	if err != nil {
		return err
	}
	name := "segment-" + s.ID + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	var cw *csv.Writer
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		cw = csv.NewWriter(w)
		cw.Write(cols)
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte("[\n"))
	}
	enc := json.NewEncoder(w)
	count := 0
	for members := first; len(members) > 0; {
		for _, m := range members {
			if cw != nil {
				vals := map[string]string{"user_id": m.UserID, "key": strconv.FormatInt(m.Key, 10)}
				for _, at := range m.Attributes {
					vals[at.Key] = at.Value.Text()
				}
				row := make([]string, len(cols))
				for i, k := range cols {
					row[i] = vals[k]
				}
				cw.Write(row)
			} else {
				if count > 0 {
					w.Write([]byte(","))
				}
				enc.Encode(membersJSON([]store.Member{m})[0])
			}
			count++
		}
		if len(members) < page {
			break
		}
		// The header is sent: a failure now can only cut the file short,
		// which the missing closing bracket (JSON) or row count shows.
		members, err = a.segments.Members(r.Context(), site.ID, n, members[len(members)-1].Key, page, attrs)
		if err != nil {
			a.log.Error("segment export cut short", "segment", s.ID, "err", err)
			return nil
		}
	}
	if cw != nil {
		cw.Flush()
	} else {
		w.Write([]byte("]\n"))
	}
	return nil
}

func (a *API) segmentHasMember(w http.ResponseWriter, r *http.Request, site store.Site) error {
	_, n, err := a.saved(r, site)
	if err != nil {
		return err
	}
	id, err := identity(r)
	if err != nil {
		return err
	}
	key, err := a.store.UserKey(r.Context(), site.ID, id)
	if err != nil {
		return err
	}
	start := time.Now()
	in, err := a.segments.Contains(r.Context(), site.ID, n, key)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"member": in, "took_ms": time.Since(start).Milliseconds()})
	return nil
}

func (a *API) userSegments(w http.ResponseWriter, r *http.Request, site store.Site) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	key, err := a.store.UserKey(r.Context(), site.ID, id)
	if err != nil {
		return err
	}
	segs, err := a.store.ListSegments(r.Context(), site.ID)
	if err != nil {
		return err
	}
	type row struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	out := []row{}
	for _, s := range segs {
		n, err := a.segments.Saved(r.Context(), site.ID, s)
		if err != nil {
			return segmentError(err)
		}
		in, err := a.segments.Contains(r.Context(), site.ID, n, key)
		if err != nil {
			return err
		}
		if in {
			out = append(out, row{ID: s.ID, Name: s.Name})
		}
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"segments": out})
	return nil
}
