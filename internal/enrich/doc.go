// Package enrich derives privacy-safe fields from the context of an
// incoming message: the device from the user agent, the country from the
// client IP address and the acquisition channel from the referrer and UTM
// parameters.
//
// The package keeps no raw identifiers: callers store only what it returns
// (a browser family and major version, an ISO country code, a channel name),
// never the user agent string or the IP address it was derived from. It has
// no dependency on storage or on the rest of Sightline, so it can be tested
// and benchmarked on its own.
package enrich
