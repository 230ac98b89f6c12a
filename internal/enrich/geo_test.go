package enrich_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/enrich"
)

// geoCase is one lookup and its expected country.
type geoCase struct {
	ip   string
	want string
}

// checkCountries runs each case as a subtest against g.
func checkCountries(t *testing.T, g *enrich.Geo, cases []geoCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.ip, func(t *testing.T) {
			var ip netip.Addr
			if c.ip != "" {
				ip = netip.MustParseAddr(c.ip)
			}
			if got := g.Country(ip); got != c.want {
				t.Errorf("Country(%s) = %q, want %q", c.ip, got, c.want)
			}
		})
	}
}

// openGeo opens path and closes it when the test ends.
func openGeo(t *testing.T, path string) *enrich.Geo {
	t.Helper()
	g, err := enrich.OpenGeo(path)
	if err != nil {
		t.Fatalf("OpenGeo: %v", err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return g
}

func TestGeoNil(t *testing.T) {
	var g *enrich.Geo
	checkCountries(t, g, []geoCase{{"8.8.8.8", ""}, {"2001:4860:4860::8888", ""}, {"", ""}})
	if err := g.Close(); err != nil {
		t.Errorf("Close on nil Geo: %v", err)
	}
}

func TestGeoLayouts(t *testing.T) {
	tests := []struct {
		name    string
		records map[string]map[string]any
	}{
		{"maxmind country.iso_code", map[string]map[string]any{
			"8.8.0.0/16": {"country": map[string]any{"iso_code": "US", "names": map[string]any{"en": "United States"}}},
			"81.2.0.0/16": {
				"continent":          map[string]any{"code": "EU"},
				"country":            map[string]any{"iso_code": "GB"},
				"registered_country": map[string]any{"iso_code": "GB"},
			},
			"1.1.1.0/24": {"country": map[string]any{"iso_code": "au"}},
			"10.0.0.0/8": {"country": map[string]any{"iso_code": "XX"}},
			"9.9.9.0/24": {"country": map[string]any{"iso_code": "???"}},
		}},
		{"ip-location-db country_code", map[string]map[string]any{
			"8.8.0.0/16":  {"country_code": "US"},
			"81.2.0.0/16": {"country_code": "GB"},
			"1.1.1.0/24":  {"country_code": "au"},
			"10.0.0.0/8":  {"country_code": "XX"},
			"9.9.9.0/24":  {"country_code": "???"},
		}},
	}
	cases := []geoCase{
		{"8.8.8.8", "US"},
		{"::ffff:8.8.8.8", "US"},
		{"81.2.69.142", "GB"},
		{"1.1.1.1", "AU"},   // normalised to upper case
		{"9.9.9.9", ""},     // not an ISO code
		{"10.1.2.3", ""},    // private, even though the file has a record
		{"127.0.0.1", ""},   // loopback
		{"169.254.1.1", ""}, // link-local
		{"0.0.0.0", ""},     // unspecified
		{"4.4.4.4", ""},     // not in the file
		{"2001:db8::1", ""}, // IPv6 in an IPv4-only file
		{"", ""},            // zero Addr
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCountries(t, openGeo(t, writeMMDB(t, tt.records)), cases)
		})
	}
}

func TestOpenGeoErrors(t *testing.T) {
	junk := filepath.Join(t.TempDir(), "junk.mmdb")
	if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	asn := writeMMDB(t, map[string]map[string]any{
		"8.8.0.0/16": {"autonomous_system_number": "15169"},
	})
	tests := []struct {
		name   string
		path   string
		target error // nil: any error will do
	}{
		{"missing file", filepath.Join(t.TempDir(), "missing.mmdb"), os.ErrNotExist},
		{"not a database", junk, nil},
		{"no country codes", asn, enrich.ErrGeoLayout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := enrich.OpenGeo(tt.path)
			if err == nil {
				_ = g.Close()
				t.Fatal("OpenGeo succeeded, want an error")
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("OpenGeo error = %v, want errors.Is %v", err, tt.target)
			}
		})
	}
}

// realGeoPath returns the country database fetched by scripts/fetch-geo.sh,
// or skips the test when there is none.
func realGeoPath(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv("SIGHTLINE_TEST_GEO")
	if path == "" {
		path = filepath.Join("..", "..", "data", "geo", "country.mmdb")
	}
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("no geo database at %s (run scripts/fetch-geo.sh or set SIGHTLINE_TEST_GEO): %v", path, err)
	}
	return path
}

func TestGeoRealDatabase(t *testing.T) {
	g := openGeo(t, realGeoPath(t))
	checkCountries(t, g, []geoCase{
		{"8.8.8.8", "US"},
		{"::ffff:8.8.8.8", "US"},
		{"2001:4860:4860::8888", "US"},
		{"127.0.0.1", ""},
		{"::1", ""},
		{"192.168.1.1", ""},
		{"fd00::1", ""},
	})
}

func BenchmarkGeoCountry(b *testing.B) {
	g, err := enrich.OpenGeo(realGeoPath(b))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	ips := []netip.Addr{
		netip.MustParseAddr("8.8.8.8"),
		netip.MustParseAddr("81.2.69.142"),
		netip.MustParseAddr("193.0.6.139"),
		netip.MustParseAddr("2001:4860:4860::8888"),
		netip.MustParseAddr("1.1.1.1"),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g.Country(ips[i%len(ips)])
	}
}
