#!/bin/sh
# ensure-postgres.sh makes sure a PostgreSQL server (initdb, postgres) is
# installed for the tests that start one (internal/testsvc), installing
# Debian's postgresql package with apt-get when it is missing. It is quiet
# and quick when one is already there.
#
# It starts no service: Debian's package creates a cluster and would start
# it through invoke-rc.d; policy-rc.d refuses the start while installing,
# and the tests run their own server in a temporary folder.
#
# Exit status: 0 when initdb and postgres are available, 1 when they could
# not be installed (not root and no password-less sudo, no apt-get, no
# network); the tests then skip and say why, unless CI=true or
# SIGHTLINE_REQUIRE_SERVICES=1.
set -eu

# Debian installs the server programs in /usr/lib/postgresql/<major>/bin,
# outside PATH.
have() {
	command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && return 0
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
			return 0
		fi
	done
	return 1
}
if have; then
	exit 0
fi

"$(dirname "$0")/apt-install.sh" ensure-postgres --no-start postgresql || exit 1
if ! have; then
	echo "ensure-postgres: apt-get finished but initdb is not found:" >&2
	exit 1
fi
echo "ensure-postgres: installed $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | head -n 1)" >&2
