package enrich

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// ErrGeoLayout reports a MaxMind DB file whose records carry no country code
// in any layout Geo understands, such as an ASN database.
var ErrGeoLayout = errors.New("geo database has no country codes")

// geoLayouts are the record paths to an ISO 3166-1 alpha-2 country code that
// Geo understands, tried in order when a database is opened.
func geoLayouts() [][]any {
	return [][]any{
		// MaxMind GeoLite2/GeoIP2 Country and City, DB-IP Lite.
		{"country", "iso_code"},
		// ip-location-db's *-country-mmdb packages (sapics/ip-location-db).
		{"country_code"},
	}
}

// geoProbeLimit bounds how many networks OpenGeo reads to recognise the
// record layout; any real country database has a code within the first few.
const geoProbeLimit = 10_000

// Geo maps IP addresses to countries using a MaxMind DB (.mmdb) file. A nil
// *Geo is valid and knows no countries, so the server runs without a
// database. Lookups are safe for concurrent use; Close is not, and must come
// after the last lookup.
type Geo struct {
	db *maxminddb.Reader
	// path leads from a record to its country code.
	path []any
}

// OpenGeo opens the MaxMind DB file at path and recognises its record layout:
// MaxMind's country.iso_code or ip-location-db's country_code. It fails with
// ErrGeoLayout when the records carry neither.
func OpenGeo(path string) (*Geo, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open geo database: %w", err)
	}
	layout, err := detectGeoLayout(db)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open geo database %s: %w", path, err)
	}
	return &Geo{db: db, path: layout}, nil
}

// detectGeoLayout returns the first of geoLayouts that yields a country code
// for one of the first networks in db.
func detectGeoLayout(db *maxminddb.Reader) ([]any, error) {
	layouts := geoLayouts()
	n := 0
	for res := range db.Networks() {
		if err := res.Err(); err != nil {
			return nil, fmt.Errorf("read networks: %w", err)
		}
		for _, layout := range layouts {
			var code string
			// A record of another layout may hold a map where a string is
			// expected; that is a mismatch, not a broken file.
			if res.DecodePath(&code, layout...) == nil && code != "" {
				return layout, nil
			}
		}
		if n++; n >= geoProbeLimit {
			break
		}
	}
	return nil, ErrGeoLayout
}

// Country returns the upper-case ISO 3166-1 alpha-2 code of the country ip is
// in, or "" when it is unknown: no database, an address that is not public
// (private, loopback, link-local, unspecified), or one the database lacks.
func (g *Geo) Country(ip netip.Addr) string {
	if g == nil {
		return ""
	}
	// The databases index IPv4 in their own subtree; an IPv4-mapped IPv6
	// address such as ::ffff:8.8.8.8 would otherwise miss.
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return ""
	}
	var code string
	// Errors are per address (for example IPv6 in an IPv4-only file) and
	// mean only that the country is unknown.
	if err := g.db.Lookup(ip).DecodePath(&code, g.path...); err != nil {
		return ""
	}
	return normalizeCountry(code)
}

// normalizeCountry returns code in upper case if it looks like an ISO 3166-1
// alpha-2 code, else "".
func normalizeCountry(code string) string {
	if len(code) != 2 {
		return ""
	}
	var b [2]byte
	for i := range 2 {
		c := code[i]
		switch {
		case 'A' <= c && c <= 'Z':
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		default:
			return ""
		}
		b[i] = c
	}
	if b[0] == code[0] && b[1] == code[1] {
		return code // already upper case; no allocation
	}
	return string(b[:])
}

// Close releases the database. It is a no-op on a nil *Geo.
func (g *Geo) Close() error {
	if g == nil {
		return nil
	}
	if err := g.db.Close(); err != nil {
		return fmt.Errorf("close geo database: %w", err)
	}
	return nil
}
