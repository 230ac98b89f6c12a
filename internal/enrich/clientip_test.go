package enrich_test

import (
	"net/netip"
	"testing"

	"github.com/sightline/sightline/internal/enrich"
)

func TestClientIP(t *testing.T) {
	tests := []struct {
		name       string
		remoteAddr string
		contextIP  string
		trustProxy bool
		xff        string
		want       string // "" for the zero Addr
	}{
		{"remote addr with port", "203.0.113.7:51234", "", false, "", "203.0.113.7"},
		{"remote addr IPv6 with port", "[2001:db8::7]:443", "", false, "", "2001:db8::7"},
		{"remote addr bare", "203.0.113.7", "", false, "", "203.0.113.7"},
		{"context ip wins over everything", "10.0.0.2:80", "198.51.100.1", true, "192.0.2.9", "198.51.100.1"},
		{"context ip with spaces", "10.0.0.2:80", " 198.51.100.1 ", false, "", "198.51.100.1"},
		{"invalid context ip is skipped", "203.0.113.7:1", "not-an-ip", false, "", "203.0.113.7"},
		{"xff ignored without trust", "10.0.0.2:80", "", false, "192.0.2.9", "10.0.0.2"},
		{"xff first entry when trusted", "10.0.0.2:80", "", true, "192.0.2.9, 10.0.0.1, 10.0.0.2", "192.0.2.9"},
		{"xff entry with port", "10.0.0.2:80", "", true, "192.0.2.9:4711", "192.0.2.9"},
		{"xff IPv6 entry", "10.0.0.2:80", "", true, "2001:db8::9, 10.0.0.1", "2001:db8::9"},
		{"xff bracketed IPv6 entry", "10.0.0.2:80", "", true, "[2001:db8::9]", "2001:db8::9"},
		{"xff unknown falls back to remote", "10.0.0.2:80", "", true, "unknown, 192.0.2.9", "10.0.0.2"},
		{"trusted but no xff", "10.0.0.2:80", "", true, "", "10.0.0.2"},
		{"IPv4-mapped IPv6 unmapped", "[::ffff:203.0.113.7]:80", "", false, "", "203.0.113.7"},
		{"zone dropped", "[fe80::1%eth0]:80", "", false, "", "fe80::1"},
		{"nothing usable", "@", "", false, "", ""},
		{"all empty", "", "", true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := enrich.ClientIP(tt.remoteAddr, tt.contextIP, tt.trustProxy, tt.xff)
			var want netip.Addr
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got != want {
				t.Errorf("ClientIP(%q, %q, %v, %q) = %v, want %v",
					tt.remoteAddr, tt.contextIP, tt.trustProxy, tt.xff, got, want)
			}
		})
	}
}
