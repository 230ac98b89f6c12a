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

if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-chromium: no Chromium found and no apt-get to install one" >&2
	exit 1
fi
sudo=
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo="sudo -n"
	else
		echo "ensure-chromium: no Chromium found; install it as root: apt-get install chromium" >&2
		exit 1
	fi
fi

echo "ensure-chromium: installing Debian's chromium package (once)" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
install() {
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium >"$log" 2>&1
}
# A fresh container has no package lists yet: update only when needed.
if ! install && ! { $sudo apt-get update -q >"$log" 2>&1 && install; }; then
	echo "ensure-chromium: apt-get could not install chromium:" >&2
	tail -n 20 "$log" >&2
	exit 1
fi
echo "ensure-chromium: $(chromium --version 2>/dev/null || echo chromium installed)" >&2
