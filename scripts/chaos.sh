#!/usr/bin/env bash
# chaos.sh — does Sightline keep what it acknowledged when things go wrong?
#
# Builds bin/sightline and bin/sightline-chaos, then runs every failure
# scenario against real `sightline serve` processes on fresh temporary data
# folders and random loopback ports: kill -9 under batch load and under
# recording uploads (three rounds each), a full disk and its recovery (a
# tmpfs: needs root, else the scenario is skipped), slow-body starvation,
# and reads under write load. It prints a table and exits non-zero when a
# scenario fails. The output is kept in .bench/chaos-STAMP.txt.
#
# Environment:
#   CHAOS_ARGS  more flags for sightline-chaos, e.g. "-only kill-batch -seed 42"
#               (bin/sightline-chaos -h lists them)
set -euo pipefail

cd "$(dirname "$0")/.."

CHAOS_ARGS=${CHAOS_ARGS:-}

log() { printf 'chaos: %s\n' "$*" >&2; }

log "building"
go build -o bin/sightline ./cmd/sightline
go build -o bin/sightline-chaos ./cmd/sightline-chaos

if [[ $(id -u) != 0 ]]; then
	log "not root: the disk-full scenario cannot mount its tmpfs and will be skipped"
fi

mkdir -p .bench
out=.bench/chaos-$(date +%Y%m%d-%H%M%S).txt
status=0
# shellcheck disable=SC2086 # CHAOS_ARGS is split into flags on purpose
bin/sightline-chaos -bin bin/sightline $CHAOS_ARGS | tee "$out" || status=${PIPESTATUS[0]}
{
	echo
	echo "machine: nproc $(nproc), $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)"
	echo "build:   $(go env GOVERSION), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty)')"
} | tee -a "$out"
log "kept in $out"
exit "$status"
