package enrich

import (
	"net/netip"
	"strings"
)

// ClientIP chooses the address whose country a message is attributed to, in
// order of preference:
//
//  1. contextIP, the message's context.ip, which Segment's server-side
//     libraries set to the end user's address when they send on that user's
//     behalf;
//  2. the first entry of the X-Forwarded-For header xff, only when
//     trustProxy says a reverse proxy in front of Sightline sets it;
//  3. remoteAddr, the peer address of the connection as in
//     http.Request.RemoteAddr ("host:port" or a bare address).
//
// A source that is empty or does not parse is skipped. IPv4-mapped IPv6
// addresses are unmapped and zones dropped. The result is the zero Addr when
// no source holds an address.
//
// Both context.ip and the first X-Forwarded-For entry are chosen by the
// client, so a visitor can pick the country they are counted in; that is an
// accepted trade-off for a coarse, privacy-safe dimension, and the address is
// never stored.
func ClientIP(remoteAddr string, contextIP string, trustProxy bool, xff string) netip.Addr {
	if ip, ok := parseIP(contextIP); ok {
		return ip
	}
	if trustProxy && xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		if ip, ok := parseIP(first); ok {
			return ip
		}
	}
	if ip, ok := parseIP(remoteAddr); ok {
		return ip
	}
	return netip.Addr{}
}

// parseIP reads an address with or without a port ("1.2.3.4",
// "1.2.3.4:5678", "2001:db8::1", "[2001:db8::1]:443"), as found in
// RemoteAddr and, from some proxies, X-Forwarded-For.
func parseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	// A bracketed address without a port, "[2001:db8::1]".
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if ip, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return ip.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}
