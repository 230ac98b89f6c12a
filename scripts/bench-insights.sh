#!/usr/bin/env bash
# bench-insights.sh times insights (trends, funnels, retention) on the
# site bench-segments generates: 1M users, ~50M events over 90 days by
# default, generated once into .bench/segments-USERS/ (see
# bench-segments.sh). DATA names another generated data folder instead
# (it is copied first: opening it may write), NOW its generation time.
#
# Environment: USERS (1000000), RUNS (5), DB_MEMORY (256MB), DATA, NOW.
set -euo pipefail
cd "$(dirname "$0")/.."

users=${USERS:-1000000}
echo "bench-insights: building" >&2
go build -o bin/sightline ./cmd/sightline
go build -o bin/sightline-insightbench ./cmd/sightline-insightbench

if [ -n "${DATA:-}" ]; then
	dir=.bench/insights-copy
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -r "$DATA"/. "$dir"/
	now=${NOW:?NOW is the data's generation time, RFC 3339}
else
	dir=.bench/segments-$users
	if [ ! -f "$dir/.complete" ]; then
		now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
		echo "bench-insights: generating $users users into $dir (once; reused by later runs)" >&2
		bin/sightline gen --data "$dir" --site bench --users "$users" --days 90 --seed 1 --now "$now" \
			--events-per-user "${EVENTS_PER_USER:-50}"
		echo "$now" > "$dir/.complete"
	fi
	now=$(cat "$dir/.complete")
fi

mkdir -p .bench
out=.bench/insights-$(date -u +%Y%m%d-%H%M%S).txt
{
	echo "== Sightline insight benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ) =="
	echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB RAM"
	echo "build: $(go version | cut -d' ' -f3), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	bin/sightline-insightbench --data "$dir" --site bench --now "$now" --runs "${RUNS:-5}" --db-memory "${DB_MEMORY:-256MB}"
} 2>&1 | tee "$out"
echo "results: $out" >&2
