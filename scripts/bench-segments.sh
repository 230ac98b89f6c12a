#!/usr/bin/env bash
# bench-segments.sh times segments on a generated site: 1M users, ~50M
# events, 20 attributes over 90 days by default. The data is generated once
# into .bench/segments-USERS/ and reused (delete the folder to regenerate).
#
# Environment: USERS (1000000), EVENTS_PER_USER (50), RUNS (10),
# MEMBERSHIPS (200), DB_MEMORY (256MB, as the server's default), DATA (a
# generated data folder with its .complete to use instead).
#
# BACKEND=clickhouse times the scaled backend's reads instead: the engine
# on ClickHouse (compiler.ClickHouse), the site copied there from the data
# folder (chstore.Copy, as sightline migrate does) into a ClickHouse that
# sightline-services starts, or the database CLICKHOUSE names (copied only
# when empty, so a second run reuses it). NODES=2 runs two benchmarks at
# once on the same ClickHouse, as two nodes' reads would.
set -euo pipefail
cd "$(dirname "$0")/.."

users=${USERS:-1000000}
dir=${DATA:-.bench/segments-$users}
backend=${BACKEND:-embedded}
nodes=${NODES:-1}
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

ch_args=()
services_pid=
if [ "$backend" = clickhouse ]; then
	scripts/ensure-clickhouse.sh
	if [ -z "${CLICKHOUSE:-}" ]; then
		scripts/ensure-postgres.sh
		go build -o bin/sightline-services ./cmd/sightline-services
		env_file=$(mktemp)
		bin/sightline-services >"$env_file" &
		services_pid=$!
		trap 'kill -TERM $services_pid 2>/dev/null; wait $services_pid 2>/dev/null; rm -f "$env_file"' EXIT
		for _ in $(seq 600); do
			[ "$(wc -l <"$env_file")" -ge 2 ] && break
			sleep 0.1
		done
		CLICKHOUSE=$(sed -n "s/^SIGHTLINE_CLICKHOUSE='\(.*\)'$/\1/p" "$env_file")
	fi
	ch_args=(--clickhouse "$CLICKHOUSE")
	# The copy, once, before any timing.
	bin/sightline-segbench --data "$dir" --site bench --now "$now" --membership-only --memberships 0 "${ch_args[@]}" >/dev/null
fi

stamp=$(date -u +%Y%m%d-%H%M%S)
out=.bench/segments-$stamp
run_bench() {
	bin/sightline-segbench --data "${2:-$dir}" --site bench --now "$now" --runs "${RUNS:-10}" \
		--memberships "${MEMBERSHIPS:-200}" --db-memory "${DB_MEMORY:-256MB}" --json "$1" "${ch_args[@]}"
}
if [ "$nodes" -gt 1 ]; then
	# The second node reads its saved segments and settings from a copy
	# of the folder: DuckDB lets one process open a file.
	second_dir=$(mktemp -d)
	cp -r "$dir/." "$second_dir"
	trap 'rm -rf "$second_dir" "${env_file:-}"; [ -n "$services_pid" ] && { kill -TERM $services_pid 2>/dev/null; wait $services_pid 2>/dev/null; }' EXIT
fi
{
	echo "== Sightline segment benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ) =="
	echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "build: $(go version | cut -d' ' -f3), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "backend: $backend$([ "$backend" = clickhouse ] && echo ", ClickHouse $(dpkg-query -W -f '${Version}' clickhouse-server 2>/dev/null), $nodes node(s) reading at once")"
	if [ "$nodes" -gt 1 ]; then
		run_bench "$out.node2.json" "$second_dir" >"$out.node2.txt" 2>&1 &
		second=$!
		run_bench "$out.json"
		wait "$second"
		echo "== the second node, at the same time =="
		cat "$out.node2.txt"
	else
		run_bench "$out.json"
	fi
} 2>&1 | tee "$out.txt"
echo "results: $out.txt, $out.json" >&2
