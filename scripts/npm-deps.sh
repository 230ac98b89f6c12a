# npm-deps.sh is sourced by the build scripts (build-tracker.sh,
# build-dashboard.sh), not run.
#
# npm_deps NAME OUT: in the current folder (a package with a committed
# package-lock.json), install the dependencies with `npm ci` when they are
# missing or older than the lock file, then type-check. NAME prefixes the
# messages; OUT is the committed output, for the message when npm ci fails
# in --check mode ($check set): offline, the check is skipped (exit 0)
# because the Go tests still compare the sources' hashes.
npm_deps() {
	if ! command -v npm >/dev/null 2>&1; then
		echo "$1: npm is required but was not found in PATH" >&2
		exit 1
	fi
	if [ ! -x node_modules/.bin/esbuild ] || [ ! -x node_modules/.bin/tsc ] ||
		[ package-lock.json -nt node_modules/.package-lock.json ]; then
		if ! npm ci --no-audit --no-fund --loglevel=error >&2; then
			if [ -n "$check" ]; then
				echo "$1: npm ci failed; NOT checking $2 against a rebuild" >&2
				exit 0
			fi
			exit 1
		fi
	fi
	node_modules/.bin/tsc --noEmit -p .
}
