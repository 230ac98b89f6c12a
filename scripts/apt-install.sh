#!/bin/sh
# apt-install.sh NAME [--no-start] PACKAGE... installs Debian packages with
# apt-get for the ensure-*.sh scripts, as root or through password-less
# sudo, updating the package lists only when the first try fails (a fresh
# container has none). With --no-start, policy-rc.d refuses to start the
# packages' services while they install: the tests start servers of their
# own in temporary folders. NAME prefixes the messages.
#
# Exit status: 0 when apt-get installed the packages, 1 otherwise (no
# apt-get, not root and no password-less sudo, no network), with the
# reason on stderr.
set -eu

name=$1
shift
nostart=
if [ "${1:-}" = --no-start ]; then
	nostart=1
	shift
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "$name: not installed, and no apt-get to install $*" >&2
	exit 1
fi
sudo=
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo="sudo -n"
	else
		echo "$name: not installed; install it as root: apt-get install $*" >&2
		exit 1
	fi
fi

echo "$name: installing Debian's $* (once)" >&2
log=$(mktemp)
rcd=
cleanup() {
	rm -f "$log"
	if [ -n "$rcd" ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT
# policy-rc.d exit status 101 tells invoke-rc.d not to start the service.
if [ -n "$nostart" ] && [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
	$sudo chmod 755 /usr/sbin/policy-rc.d
	rcd=1
fi
install() {
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@" >"$log" 2>&1
}
if ! install "$@" && ! { $sudo apt-get update -q >"$log" 2>&1 && install "$@"; }; then
	echo "$name: apt-get could not install $*:" >&2
	tail -n 20 "$log" >&2
	exit 1
fi
