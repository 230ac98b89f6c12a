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

if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-postgres: no PostgreSQL found and no apt-get to install one" >&2
	exit 1
fi
sudo=
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo="sudo -n"
	else
		echo "ensure-postgres: no PostgreSQL found; install it as root: apt-get install postgresql" >&2
		exit 1
	fi
fi

echo "ensure-postgres: installing Debian's postgresql package (once)" >&2
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
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends postgresql >"$log" 2>&1
}
# A fresh container has no package lists yet: update only when needed.
if ! install && ! { $sudo apt-get update -q >"$log" 2>&1 && install; }; then
	echo "ensure-postgres: apt-get could not install postgresql:" >&2
	tail -n 20 "$log" >&2
	exit 1
fi
if ! have; then
	echo "ensure-postgres: apt-get finished but initdb is not found:" >&2
	tail -n 20 "$log" >&2
	exit 1
fi
echo "ensure-postgres: installed $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | head -n 1)" >&2
