package store

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// CheckSiteName trims a site's name and refuses an empty one, as every
// backend's CreateSite and UpdateSite do.
func CheckSiteName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", &FieldError{Code: "invalid_name", Field: "name", Msg: "a site needs a name"}
	}
	return name, nil
}

// NormalizeOrigins checks a site's allowed origins (scheme://host[:port],
// http or https) and returns them in canonical form, each once, in order;
// the error names the first bad one's index ("origins[1]").
func NormalizeOrigins(origins []string) ([]string, error) {
	clean := make([]string, 0, len(origins))
	for i, o := range origins {
		u, err := url.Parse(strings.TrimSpace(o))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, &FieldError{Code: "invalid_origin", Field: fmt.Sprintf("origins[%d]", i),
				Msg: fmt.Sprintf("origin %q is not of the form https://host[:port]", o)}
		}
		if n := strings.ToLower(u.Scheme + "://" + u.Host); !slices.Contains(clean, n) {
			clean = append(clean, n)
		}
	}
	return clean, nil
}

// DefaultTimeZone is a site's time zone until one is set.
const DefaultTimeZone = "UTC"

// CheckTimeZone checks a site's time zone against Go's zone database and
// returns it as stored: an IANA name such as Europe/Oslo, "" read as UTC.
// "Local" is refused: it would follow whichever machine runs the query.
func CheckTimeZone(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return DefaultTimeZone, nil
	}
	if _, err := time.LoadLocation(name); err != nil || strings.EqualFold(name, "local") || len(name) > 64 {
		return "", &FieldError{Code: "invalid_time_zone", Field: "time_zone",
			Msg: fmt.Sprintf("%q is not an IANA time zone name such as Europe/Oslo or America/New_York", name)}
	}
	return name, nil
}
