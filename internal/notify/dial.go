package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrForbiddenAddress means a destination resolved to an address that
// alerts may not reach: loopback, private, link-local (cloud metadata),
// shared (carrier-grade NAT), multicast or unspecified.
var ErrForbiddenAddress = errors.New("destination address not allowed")

// blockedPrefixes are ranges beyond what netip's predicates cover.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space; some clouds' metadata
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 can reach any IPv4 address
}

// forbidden reports whether alerts must not connect to ip.
func forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || !ip.IsValid() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Network says which destinations alerts may reach.
type Network struct {
	// AllowHTTP allows http:// URLs besides https://.
	AllowHTTP bool
	// AllowPrivate allows loopback, private and link-local addresses, for
	// receivers on the server's own network (and tests).
	AllowPrivate bool
}

// checkURL validates a destination URL before it is stored.
func (n Network) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && n.AllowHTTP:
	case u.Scheme == "http":
		return fmt.Errorf("must be https (the server's --alerts-allow-http setting allows http)")
	default:
		return fmt.Errorf("must be an https URL")
	}
	if u.User != nil {
		return fmt.Errorf("must not carry a user name or password")
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && forbidden(ip) && !n.AllowPrivate {
		return fmt.Errorf("%s is a loopback, private or link-local address (the server's --alerts-allow-private setting allows them): %w",
			ip, ErrForbiddenAddress)
	}
	return nil
}

// Client returns the HTTP client deliveries use. The address check runs
// when each connection is dialled, after name resolution, on the address
// actually dialled: a name that resolves to a public address when the URL
// is checked and to a private one later (DNS rebinding) is still refused.
// It uses no proxy and follows no redirect, which would bypass the check.
func (n Network) Client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !n.AllowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, ErrForbiddenAddress)
			}
			if forbidden(ap.Addr()) {
				return fmt.Errorf("dial %s: %w", ap.Addr(), ErrForbiddenAddress)
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
