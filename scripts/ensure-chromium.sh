#!/bin/sh
# ensure-chromium.sh makes sure a Chromium is installed for the browser
# tests (internal/server/browser_test.go), installing Debian's chromium
# package with apt-get when none is found. It is quiet and quick when one is
# already there, so make test runs it every time.
#
# A browser elsewhere can be named with SIGHTLINE_CHROMIUM=/path/to/chrome.
# Exit status: 0 when a Chromium is available, 1 when it could not be
# installed (not root and no password-less sudo, no apt-get, no network);
# the tests then skip and say why.
set -eu

if [ -n "${SIGHTLINE_CHROMIUM:-}" ] && [ -x "$SIGHTLINE_CHROMIUM" ]; then
	exit 0
fi
for b in chromium chromium-browser google-chrome google-chrome-stable; do
	if command -v "$b" >/dev/null 2>&1; then
		exit 0
	fi
done

"$(dirname "$0")/apt-install.sh" ensure-chromium chromium || exit 1
echo "ensure-chromium: $(chromium --version 2>/dev/null || echo chromium installed)" >&2
