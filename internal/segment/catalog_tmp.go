package segment

import "github.com/sightline/sightline/internal/attr"

// Catalog is what validation needs to know about a site.
type Catalog interface {
	AttributeType(scope Scope, key string) (attr.Type, bool)
	AttributeKeys(scope Scope) []string
}
