#!/usr/bin/env bash
# bench-overview.sh times the site overview (GET /overview and the page in
# Chromium, to every card filled) on a demo site of USERS people: the
# Ledgerly site of `sightline demo`, with its surveys, recordings and
# saved segments. The data is made once into .bench/overview-USERS/ and
# reused; delete the folder to make it again (the data ages: the demo's
# last day is when it was made).
#
# Environment: USERS (1000000; 20000 is the demo of make run), RUNS (15).
set -euo pipefail
cd "$(dirname "$0")/.."

users=${USERS:-1000000}
dir=.bench/overview-$users
mkdir -p .bench
go build -o bin/sightline ./cmd/sightline
if [ ! -f "$dir/demo.json" ]; then
	rm -rf "$dir"
	echo "bench-overview: making a demo of $users people into $dir (once; reused by later runs)" >&2
	start=$(date +%s)
	bin/sightline demo --data "$dir" --users "$users" >/dev/null
	echo "bench-overview: made in $(( $(date +%s) - start ))s, $(du -sh "$dir" | cut -f1) on disk" >&2
fi
stamp=$(date -u +%Y%m%d-%H%M%S)
out=.bench/overview-$stamp.txt
{
	echo "== Sightline overview benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $users people =="
	echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB RAM"
	echo "build: $(go version | cut -d' ' -f3), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	go test -count=1 -timeout 60m -run 'TestOverviewTimes$' ./internal/server -v \
		-args -overview.data="$PWD/$dir" -overview.runs="${RUNS:-15}" | grep -v '^=== RUN\|^--- \|^PASS\|^ok\|screenshots in'
} 2>&1 | tee "$out"
echo "results: $out" >&2
