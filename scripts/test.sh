#!/usr/bin/env bash
# test.sh runs every package's tests: make test's last step.
#
# internal/server is by far the longest package (10 minutes of a 15-minute
# run), and most of its time is spent waiting on Chromium, servers and
# sockets rather than computing. It runs as two processes side by side
# (SIGHTLINE_SERVER_SHARD, see testsvc.Shard), each with half its tests:
# the second shard starts at once from a test binary built first, the
# first runs within `go test ./...` as usual.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
flags=(-race -count=1 -timeout 30m)

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
$GO test "${flags[@]}" -c -o "$bin/server.test" ./internal/server || exit 1
(
	cd internal/server &&
		SIGHTLINE_SERVER_SHARD=2/2 "$bin/server.test" -test.count=1 -test.timeout=30m >"$bin/shard2.log" 2>&1
) &
shard2=$!

SIGHTLINE_SERVER_SHARD=1/2 $GO test "${flags[@]}" ./...
status=$?

wait "$shard2"
status2=$?
echo "== internal/server, shard 2 of 2 (exit $status2)"
if [[ $status2 == 0 ]]; then
	tail -n 3 "$bin/shard2.log"
else
	cat "$bin/shard2.log"
fi
[[ $status == 0 && $status2 == 0 ]]
