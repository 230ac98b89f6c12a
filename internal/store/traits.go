package store

import (
	"fmt"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/textlimit"
)

// The rules every backend applies to an identify's or a group's traits:
// the first value of a key fixes its type, a site has at most a number of
// keys, and a value of the wrong type is refused for its key alone (a
// warning to the sender and a rejection row for the catalog), the rest of
// the message being kept.

// traitPrefix is how warnings name a trait's field.
const traitPrefix = "traits."

// NewTraitKey returns the type a trait gives a key the site does not have
// yet. It returns false, with a warning in out when there is one to give,
// when the trait makes no key: a value that is not valid, an unset (of a
// key nobody has: nothing to do), or a site that has max keys already
// (keys is how many it has).
func NewTraitKey(p attr.Pair, keys, max int, out *Outcome) (attr.Type, bool) {
	v, err := attr.Infer(p.Raw)
	if err != nil {
		out.Warnings = append(out.Warnings, Warning{Code: "invalid_value", Field: traitPrefix + p.Key,
			Message: fmt.Sprintf("%s: %v", p.Key, err)})
		return 0, false
	}
	if v.Null {
		return 0, false
	}
	if keys >= max {
		out.Warnings = append(out.Warnings, Warning{Code: "attribute_key_limit", Field: traitPrefix + p.Key,
			Message: fmt.Sprintf("the site already has %d attribute keys, the limit; %s was not stored", max, p.Key)})
		return 0, false
	}
	return v.Type, true
}

// TraitRejection is what a backend keeps of a trait refused for its key's
// type: the type received and the value as text, cut to 200 bytes.
type TraitRejection struct {
	Received string
	Value    string
}

// ConformTrait returns a trait's value in its key's type. When the value
// does not fit, it adds the warning to out and returns false with the
// rejection to record.
func ConformTrait(p attr.Pair, typ attr.Type, out *Outcome) (attr.Value, bool, TraitRejection) {
	v, ok := attr.Conform(p.Raw, typ)
	if ok {
		return v, true, TraitRejection{}
	}
	received := attr.Received(p.Raw)
	out.Warnings = append(out.Warnings, Warning{Code: "attribute_type_mismatch", Field: traitPrefix + p.Key,
		Message: fmt.Sprintf("%s is a %s attribute; received a %s value, which was not stored", p.Key, typ, received)})
	return v, false, TraitRejection{Received: received, Value: cut(fmt.Sprint(p.Raw), 200)}
}

// cut shortens s to n bytes on a character boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return textlimit.Cut(s, n) + "…"
}
