#!/usr/bin/env bash
# bench-segments.sh times segments on a generated site: 1M users, ~50M
# events, 20 attributes over 90 days by default. The data is generated once
# into .bench/segments-USERS/ and reused (delete the folder to regenerate).
#
# Environment: USERS (1000000), EVENTS_PER_USER (50), RUNS (10),
# MEMBERSHIPS (200), DB_MEMORY (256MB, as the server's default).
set -euo pipefail
cd "$(dirname "$0")/.."

users=${USERS:-1000000}
dir=.bench/segments-$users
mkdir -p .bench

echo "bench-segments: building" >&2
go build -o bin/sightline ./cmd/sightline
go build -o bin/sightline-segbench ./cmd/sightline-segbench

# The data is generated relative to a moment kept in .complete, and every
# later run evaluates the segments at that moment, so reused data does not
# age ("within 7d" keeps meaning the data's last week).
if [ ! -f "$dir/.complete" ]; then
	rm -rf "$dir"
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	echo "bench-segments: generating $users users into $dir (once; reused by later runs)" >&2
	start=$(date +%s)
	bin/sightline gen --data "$dir" --site bench --users "$users" --days 90 --seed 1 --now "$now" \
		--events-per-user "${EVENTS_PER_USER:-50}"
	echo "bench-segments: generated in $(( $(date +%s) - start ))s, $(du -sh "$dir" | cut -f1) on disk" >&2
	echo "$now" > "$dir/.complete"
fi
now=$(cat "$dir/.complete")
[ -n "$now" ] || now=$(date -u -r "$dir/.complete" +%Y-%m-%dT%H:%M:%SZ)

stamp=$(date -u +%Y%m%d-%H%M%S)
out=.bench/segments-$stamp
{
	echo "== Sightline segment benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ) =="
	echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB RAM"
	echo "build: $(go version | cut -d' ' -f3), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	bin/sightline-segbench --data "$dir" --site bench --now "$now" --runs "${RUNS:-10}" \
		--memberships "${MEMBERSHIPS:-200}" --db-memory "${DB_MEMORY:-256MB}" --json "$out.json"
} 2>&1 | tee "$out.txt"
echo "results: $out.txt, $out.json" >&2
