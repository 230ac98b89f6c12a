#!/bin/sh
# build-dashboard.sh bundles the dashboard (web/dashboard: TypeScript,
# Preact, uPlot, one stylesheet) with esbuild into internal/web/dist, which
# the binary embeds:
#
#   assets/app-HASH.js     the app; HASH is esbuild's content hash, so the
#   assets/app-HASH.css    name changes whenever the content does (served
#                          as immutable)
#   assets/chunk-HASH.js   code the app imports on demand (the session
#                          replayer), split out so the first load stays small
#   assets/licenses.txt    the licences of the bundled libraries
#   index.html             web/dashboard/index.html naming those files
#   sources.sha256         the hashes of the sources it was built from;
#                          a Go test fails when they no longer match
#
# Usage: scripts/build-dashboard.sh          rebuild and replace the output
#        scripts/build-dashboard.sh --check  rebuild in a temporary folder and
#                                            fail if it differs from what is
#                                            committed (make test runs this)
#
# Needs node and npm; dependencies are installed with `npm ci` from the
# committed package-lock.json (pinned versions).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/web/dashboard
out=$root/internal/web/dist
check=
[ "${1:-}" = "--check" ] && check=1

. "$root/scripts/npm-deps.sh"
cd "$src"
npm_deps build-dashboard internal/web/dist

# The modules must not import each other in a circle (types included).
node "$root/scripts/check-imports.mjs" src

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/dist/assets"
node_modules/.bin/esbuild src/main.tsx --bundle --minify --format=esm --target=es2020 \
	--jsx=automatic --jsx-import-source=preact --entry-names=app-[hash] --splitting --chunk-names=chunk-[hash] \
	--legal-comments=none --charset=utf8 --log-level=warning --outdir="$tmp/dist/assets"
js=$(cd "$tmp/dist/assets" && ls app-*.js)
css=$(cd "$tmp/dist/assets" && ls app-*.css)
sed -e "s/{{JS}}/$js/" -e "s/{{CSS}}/$css/" index.html >"$tmp/dist/index.html"
for lib in preact uplot @rrweb/replay; do
	printf '%s %s\n\n' "$lib" "$(node -p "require('./node_modules/$lib/package.json').version")"
	if [ -f "node_modules/$lib/LICENSE" ]; then
		cat "node_modules/$lib/LICENSE"
	else # the package ships no licence file: its package.json names it
		printf '%s licence (package.json of %s)\n' "$(node -p "require('./node_modules/$lib/package.json').license")" "$lib"
	fi
	printf '\n\n'
done >"$tmp/dist/assets/licenses.txt"
sha256sum index.html package.json package-lock.json tsconfig.json $(find src -type f | LC_ALL=C sort) >"$tmp/dist/sources.sha256"

if [ -n "$check" ]; then
	if ! diff -r "$tmp/dist" "$out" >"$tmp/diff" 2>&1; then
		echo "build-dashboard: internal/web/dist differs from a fresh build of web/dashboard;" >&2
		echo "run scripts/build-dashboard.sh and commit the result:" >&2
		head -n 40 "$tmp/diff" >&2
		exit 1
	fi
	echo "build-dashboard: internal/web/dist matches web/dashboard"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out"
cp -R "$tmp/dist/." "$out/"
jsgz=$(gzip -9 -c "$out/assets/$js" | wc -c)
cssgz=$(gzip -9 -c "$out/assets/$css" | wc -c)
echo "build-dashboard: wrote internal/web/dist: $js ($(wc -c <"$out/assets/$js") bytes, $jsgz gzipped), $css ($(wc -c <"$out/assets/$css") bytes, $cssgz gzipped)"
