#!/bin/sh
# ensure-clickhouse.sh makes sure a ClickHouse server and client are
# installed for the tests that start one (internal/testsvc), installing
# Debian's clickhouse-server and clickhouse-client packages with apt-get
# when they are missing. It is quiet and quick when they are already there.
#
# It starts no service: the packages' init scripts need systemd or a
# running init, and the tests start their own server in a temporary folder
# (policy-rc.d refuses the start while installing).
#
# Exit status: 0 when clickhouse-server is available, 1 when it could not be
# installed (not root and no password-less sudo, no apt-get, no network);
# the tests then skip and say why, unless CI=true or
# SIGHTLINE_REQUIRE_SERVICES=1.
set -eu

# The server is installed in /usr/sbin, which a user's PATH may lack.
PATH="$PATH:/usr/sbin"
have() {
	command -v clickhouse-server >/dev/null 2>&1 && command -v clickhouse-client >/dev/null 2>&1
}
if have; then
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-clickhouse: no clickhouse-server found and no apt-get to install one" >&2
	exit 1
fi
sudo=
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo="sudo -n"
	else
		echo "ensure-clickhouse: no clickhouse-server found; install it as root: apt-get install clickhouse-server clickhouse-client" >&2
		exit 1
	fi
fi

echo "ensure-clickhouse: installing Debian's clickhouse-server and clickhouse-client (once)" >&2
log=$(mktemp)
rcd=
cleanup() {
	rm -f "$log"
	if [ -n "$rcd" ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT
# policy-rc.d exit status 101 tells invoke-rc.d not to start the service.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
	$sudo chmod 755 /usr/sbin/policy-rc.d
	rcd=1
fi
install() {
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		clickhouse-server clickhouse-client >"$log" 2>&1
}
# A fresh container has no package lists yet: update only when needed.
if ! install && ! { $sudo apt-get update -q >"$log" 2>&1 && install; }; then
	echo "ensure-clickhouse: apt-get could not install clickhouse-server:" >&2
	tail -n 20 "$log" >&2
	exit 1
fi
if ! have; then
	echo "ensure-clickhouse: apt-get finished but clickhouse-server is not on PATH:" >&2
	tail -n 20 "$log" >&2
	exit 1
fi
echo "ensure-clickhouse: installed $(clickhouse-client --version 2>/dev/null || echo clickhouse-server)" >&2
