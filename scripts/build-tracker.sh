#!/bin/sh
# build-tracker.sh bundles the browser tracker (web/tracker, TypeScript) with
# esbuild into internal/tracker/dist, which the binary embeds:
#
#   sightline-VERSION-HASH.js  the minified script; VERSION is
#                              web/tracker/package.json's, HASH the first 8
#                              hex digits of the file's SHA-256, so the name
#                              changes whenever the content does (it is
#                              served as immutable)
#   chunks/NAME-HASH.js        one per web/tracker/chunks/NAME.ts: parts of
#                              the tracker loaded lazily (none yet); their
#                              file names are baked into the core, whose
#                              loadChunk(NAME) loads /t/chunks/NAME-HASH.js
#   sources.sha256             the hashes of the sources it was built from;
#                              a Go test fails when they no longer match, so a
#                              source change without a rebuild cannot pass
#                              make test
#
# Usage: scripts/build-tracker.sh          rebuild and replace the output
#        scripts/build-tracker.sh --check  rebuild in a temporary folder and
#                                          fail if it differs from what is
#                                          committed (CI runs this)
#
# Needs node and npm; dependencies are installed with `npm ci` from the
# committed package-lock.json (esbuild and typescript, pinned).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/web/tracker
out=$root/internal/tracker/dist
check=
[ "${1:-}" = "--check" ] && check=1

. "$root/scripts/npm-deps.sh"
cd "$src"
npm_deps build-tracker internal/tracker/dist

version=$(node -p "require('./package.json').version")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/dist"
bundle() { # bundle ENTRY OUTFILE [esbuild flags]
	entry=$1 outfile=$2
	shift 2
	node_modules/.bin/esbuild "$entry" --bundle --minify --format=iife --target=es2017 \
		--define:VERSION="\"$version\"" --legal-comments=none --charset=utf8 \
		--log-level=warning --outfile="$outfile" "$@"
}

# The chunks first: the core carries their file names.
chunks='{'
srcdirs=src
if [ -d chunks ]; then
	srcdirs="src chunks"
	for f in $(find chunks -maxdepth 1 -name '*.ts' | LC_ALL=C sort); do
		name=$(basename "$f" .ts)
		bundle "$f" "$tmp/$name.js"
		h=$(sha256sum "$tmp/$name.js" | cut -c1-8)
		mkdir -p "$tmp/dist/chunks"
		mv "$tmp/$name.js" "$tmp/dist/chunks/$name-$h.js"
		chunks="$chunks\"$name\":\"$name-$h.js\","
	done
fi
chunks="${chunks%,}}"

bundle src/index.ts "$tmp/sightline.js" --define:CHUNKS="$chunks"
hash=$(sha256sum "$tmp/sightline.js" | cut -c1-8)
mv "$tmp/sightline.js" "$tmp/dist/sightline-$version-$hash.js"
sha256sum package.json package-lock.json tsconfig.json $(find $srcdirs -type f | LC_ALL=C sort) >"$tmp/dist/sources.sha256"

if [ -n "$check" ]; then
	if ! diff -r "$tmp/dist" "$out" >"$tmp/diff" 2>&1; then
		echo "build-tracker: internal/tracker/dist differs from a fresh build of web/tracker;" >&2
		echo "run scripts/build-tracker.sh and commit the result:" >&2
		head -n 40 "$tmp/diff" >&2
		exit 1
	fi
	echo "build-tracker: internal/tracker/dist matches web/tracker"
	exit 0
fi

mkdir -p "$out"
rm -rf "$out"/sightline-*.js "$out"/sources.sha256 "$out"/chunks
cp -R "$tmp/dist/"* "$out/"
size=$(gzip -9 -c "$out/sightline-$version-$hash.js" | wc -c)
echo "build-tracker: wrote internal/tracker/dist/sightline-$version-$hash.js ($(wc -c <"$out/sightline-$version-$hash.js") bytes, $size gzipped)"
