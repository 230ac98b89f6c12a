#!/usr/bin/env bash
# bench-vs-clickhouse.sh runs the segment benchmark's 11 cases in
# Sightline and, by hand-written SQL, in ClickHouse on the same data (the
# site bench-segments generates, copied into ClickHouse), interleaved pair
# by pair, and prints the ratios of the medians. Debian's clickhouse-server
# is installed when missing and started on loopback in a temporary folder.
#
# Environment: USERS (1000000), EVENTS_PER_USER (50), RUNS (9),
# DB_MEMORY (256MB), CLICKHOUSE (a DSN of a database to use instead; the
# data is copied into it when its events table is empty).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-clickhouse.sh
users=${USERS:-1000000}
dir=.bench/segments-$users
if [ ! -f "$dir/.complete" ]; then
	echo "bench-vs-clickhouse: no generated site in $dir; generating it with make bench-segments's generator" >&2
	mkdir -p .bench
	go build -o bin/sightline ./cmd/sightline
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	rm -rf "$dir"
	bin/sightline gen --data "$dir" --site bench --users "$users" --days 90 --seed 1 --now "$now" \
		--events-per-user "${EVENTS_PER_USER:-50}"
	echo "$now" > "$dir/.complete"
fi
go build -o bin/sightline-vsclickhouse ./cmd/sightline-vsclickhouse
stamp=$(date -u +%Y%m%d-%H%M%S)
out=.bench/vs-clickhouse-$stamp.txt
{
	echo "== Sightline vs ClickHouse, $(date -u +%Y-%m-%dT%H:%M:%SZ) =="
	echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "build: $(go version | cut -d' ' -f3), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); ClickHouse $(/usr/sbin/clickhouse-server --version 2>/dev/null | head -1 || clickhouse --version 2>/dev/null | head -1)"
	bin/sightline-vsclickhouse --data "$dir" --site bench --now "$(cat "$dir/.complete")" --runs "${RUNS:-9}" \
		--db-memory "${DB_MEMORY:-256MB}" ${CLICKHOUSE:+--clickhouse "$CLICKHOUSE"}
} 2>&1 | tee "$out"
echo "results: $out" >&2
