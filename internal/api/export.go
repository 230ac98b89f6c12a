package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
)

// maxExportColumns bounds the columns an export may ask for.
const maxExportColumns = 200

// exportColumns are the columns an export may hold: its own fields (the
// member's user_id, a response's answers…), then the site's user
// attributes. A name is a field when the export has one by that name,
// else an attribute.
type exportColumns struct {
	fields []string
	attrs  map[string]bool
}

// newExportColumns lists the site's user attributes beside fields.
func (a *API) newExportColumns(r *http.Request, site store.Site, fields []string) (exportColumns, error) {
	cat, err := a.store.AttributeCatalog(r.Context(), site.ID)
	if err != nil {
		return exportColumns{}, err
	}
	c := exportColumns{fields: fields, attrs: map[string]bool{}}
	for _, k := range cat {
		if k.Entity == store.EntityUser {
			c.attrs[k.Key] = true
		}
	}
	return c, nil
}

func (c exportColumns) isField(name string) bool { return slices.Contains(c.fields, name) }

// choose reads ?columns=a,b,c: each a field or a user attribute, each
// once, in the order given. Without the parameter, def.
func (c exportColumns) choose(r *http.Request, def []string) ([]string, error) {
	q, ok := r.URL.Query()["columns"]
	if !ok {
		return def, nil
	}
	s := strings.Join(q, ",")
	if strings.TrimSpace(s) == "" {
		return nil, apierr.Invalid("invalid_parameter", "columns", "choose at least one column")
	}
	names := strings.Split(s, ",")
	if len(names) > maxExportColumns {
		return nil, apierr.Invalid("too_many_columns", "columns", "choose at most %d columns", maxExportColumns)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			return nil, apierr.Invalid("invalid_parameter", "columns", "a column name is empty (columns are separated by commas)")
		case !c.isField(n) && !c.attrs[n]:
			return nil, apierr.Invalid("unknown_column", "columns", "there is no column %q: choose %s or a user attribute of the site",
				n, strings.Join(c.fields, ", "))
		case seen[n]:
			return nil, apierr.Invalid("duplicate_column", "columns", "the column %q is chosen twice", n)
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}

// attributes returns the attribute columns among cols.
func (c exportColumns) attributes(cols []string) []string {
	var out []string
	for _, n := range cols {
		if !c.isField(n) {
			out = append(out, n)
		}
	}
	return out
}
