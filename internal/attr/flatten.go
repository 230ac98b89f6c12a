package attr

import (
	"encoding/json"
	"sort"
)

// Pair is one flattened attribute: a dotted key and its raw JSON value
// (a scalar, nil, or an array's JSON text as a string).
type Pair struct {
	Key string
	Raw any
}

// MaxDepth is how deep nested objects are flattened; deeper objects are kept
// as their JSON text under the key reached at that depth.
const MaxDepth = 5

// Flatten turns a traits object into dotted keys: {"address":{"city":"Oslo"}}
// becomes address.city = "Oslo". An array becomes a string holding its JSON
// text (["a","b"] is stored as the string `["a","b"]`), so that nothing sent
// is dropped and "contains" conditions still match its elements. Keys come
// out sorted, so that processing is deterministic.
func Flatten(traits map[string]any) []Pair {
	var out []Pair
	flatten(&out, "", traits, 1)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func flatten(out *[]Pair, prefix string, obj map[string]any, depth int) {
	for k, v := range obj {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch x := v.(type) {
		case map[string]any:
			if depth >= MaxDepth {
				*out = append(*out, Pair{Key: key, Raw: jsonText(x)})
				continue
			}
			flatten(out, key, x, depth+1)
		case []any:
			*out = append(*out, Pair{Key: key, Raw: jsonText(x)})
		default:
			*out = append(*out, Pair{Key: key, Raw: v})
		}
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
