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

"$(dirname "$0")/apt-install.sh" ensure-clickhouse --no-start clickhouse-server clickhouse-client || exit 1
if ! have; then
	echo "ensure-clickhouse: apt-get finished but clickhouse-server is not on PATH:" >&2
	exit 1
fi
echo "ensure-clickhouse: installed $(clickhouse-client --version 2>/dev/null || echo clickhouse-server)" >&2
