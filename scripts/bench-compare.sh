#!/usr/bin/env bash
# bench-compare.sh times comparisons (power users against everyone else,
# two plans) and an experiment's results (the onboarding A/B test) on a
# generated site: 1M users, ~50M events by default, generated once into
# .bench/segments-USERS/ and shared with bench-segments.sh.
#
# Environment: USERS (1000000), EVENTS_PER_USER (50), RUNS (5), DAYS (30),
# DB_MEMORY (1GB).
set -euo pipefail
cd "$(dirname "$0")/.."

users=${USERS:-1000000}
dir=.bench/segments-$users
mkdir -p .bench

echo "bench-compare: building" >&2
go build -o bin/sightline ./cmd/sightline
go build -o bin/sightline-comparebench ./cmd/sightline-comparebench

if [ ! -f "$dir/.complete" ]; then
	rm -rf "$dir"
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	echo "bench-compare: generating $users users into $dir (once; reused by later runs)" >&2
	bin/sightline gen --data "$dir" --site bench --users "$users" --days 90 --seed 1 --now "$now" \
		--events-per-user "${EVENTS_PER_USER:-50}"
	echo "$now" > "$dir/.complete"
fi
now=$(cat "$dir/.complete")

stamp=$(date -u +%Y%m%d-%H%M%S)
out=.bench/compare-$stamp.txt
{
	echo "== Sightline compare benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ) =="
	echo "machine: nproc $(nproc), $(free -g | awk '/Mem:/{print $2}') GiB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "build: $(go version | cut -d' ' -f3), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	bin/sightline-comparebench --data "$dir" --site bench ${now:+--now "$now"} --runs "${RUNS:-5}" \
		--days "${DAYS:-30}" --db-memory "${DB_MEMORY:-1GB}"
} 2>&1 | tee "$out"
echo "results: $out" >&2
