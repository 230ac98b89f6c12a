#!/bin/sh
# fetch-geo.sh downloads a free IP-to-country database for Sightline.
#
# Usage: scripts/fetch-geo.sh [TARGET]   (default: data/geo/country.mmdb)
#
# It fetches the npm package @ip-location-db/geo-whois-asn-country-mmdb with
# `npm pack` (no node_modules, no install scripts run) and copies its combined
# IPv4+IPv6 file, geo-whois-asn-country.mmdb, to TARGET. Records have the layout
# {"country_code": "NO"}, which internal/enrich reads.
#
# License: the package is published as CC0-1.0. It is built partly from RIR
# WHOIS/ASN statistics that the NRO licenses under CC BY 4.0 and ships an
# NRO_LICENSE asking for attribution to nro.net; we copy that file next to
# TARGET (as TARGET.NRO_LICENSE) and credit NRO wherever we ship the data.
#
# Caveat: as of version 2.3.2026061719 (the latest on npm in 2026) the
# package README warns that the npm builds contain data bugs and that npm
# publishing will stop in favour of GitHub releases of sapics/ip-location-db.
# The file still works for country lookups; revisit the source when it goes
# stale.
#
# Idempotent: does nothing when TARGET already exists. Delete it to refresh.
set -eu

target=${1:-data/geo/country.mmdb}
pkg=@ip-location-db/geo-whois-asn-country-mmdb
file=geo-whois-asn-country.mmdb

if [ -e "$target" ]; then
	echo "fetch-geo: $target already exists; delete it to download again" >&2
	exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
	echo "fetch-geo: npm is required to download $pkg but was not found in PATH" >&2
	exit 1
fi

tmp=$(mktemp -d)
partial=
trap 'rm -rf "$tmp" ${partial:+"$partial"}' EXIT
trap 'exit 130' INT TERM

if ! (cd "$tmp" && npm pack --ignore-scripts --loglevel=error "$pkg" >pack.log 2>&1); then
	echo "fetch-geo: npm pack $pkg failed:" >&2
	cat "$tmp/pack.log" >&2
	exit 1
fi

tgz=$(ls "$tmp"/*.tgz 2>/dev/null | head -n 1)
if [ -z "$tgz" ]; then
	echo "fetch-geo: npm pack $pkg produced no tarball" >&2
	exit 1
fi
if ! tar -xzf "$tgz" -C "$tmp" "package/$file" package/NRO_LICENSE 2>/dev/null &&
	! tar -xzf "$tgz" -C "$tmp" "package/$file"; then
	echo "fetch-geo: $file not found in $(basename "$tgz"); has the package layout changed?" >&2
	exit 1
fi

mkdir -p "$(dirname "$target")"
# Copy to a temporary name in the target directory, then rename, so that a
# running server or a concurrent run never sees a half-written file.
partial=$target.tmp.$$
cp "$tmp/package/$file" "$partial"
mv "$partial" "$target"
partial=
if [ -f "$tmp/package/NRO_LICENSE" ]; then
	cp "$tmp/package/NRO_LICENSE" "$target.NRO_LICENSE"
fi
echo "fetch-geo: wrote $target from $(basename "$tgz" .tgz)"
