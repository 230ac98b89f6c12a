#!/usr/bin/env bash
# bench-ingest.sh — how many events/s does a fresh Sightline server
# acknowledge on this machine?
#
# Builds bin/sightline and bin/sightline-load, starts `sightline serve` on a
# free loopback port with a new temporary data dir, creates a site, runs the
# load generator against it, then reads the server's peak and current RSS
# and CPU time from /proc, stops it with SIGTERM and removes the data dir.
# The summary is printed and kept, with the load generator's JSON and a
# /metrics snapshot, under .bench/.
#
# BACKEND=clickhouse runs the scaled backend instead (serve --clickhouse
# --postgres), on a ClickHouse and a PostgreSQL that sightline-services
# starts on loopback for the run; NODES=2 starts two servers on them,
# the load generator sending its requests to each in turn. CPU and RSS
# are the servers' (summed), not the services'.
#
# Environment (defaults in brackets):
#   BACKEND [embedded]  NODES [1]
#   DURATION [20s]  WARMUP [3s]  CONCURRENCY [8]  BATCH [100]  USERS [100000]
#   LOAD_ARGS        more flags for sightline-load, e.g. "-mix 0.2"
#   SERVER_ARGS      more flags for sightline serve, e.g. "--queue 5000"
#   STARTUP_TIMEOUT  seconds to wait for /healthz [60]
#   KEEP_DATA=1      keep the temporary dir (data and server log)
#   PROFILE=1        take a CPU profile of the server during the load and a
#                    heap profile after it (from the admin socket's
#                    /debug/pprof), kept beside the results
set -euo pipefail

cd "$(dirname "$0")/.."

DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
CONCURRENCY=${CONCURRENCY:-8}
BATCH=${BATCH:-100}
USERS=${USERS:-100000}
LOAD_ARGS=${LOAD_ARGS:-}
SERVER_ARGS=${SERVER_ARGS:-}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-60}
BACKEND=${BACKEND:-embedded}
NODES=${NODES:-1}
case $BACKEND in
embedded) [[ $NODES == 1 ]] || { echo "bench-ingest: NODES needs BACKEND=clickhouse" >&2; exit 1; } ;;
clickhouse) ;;
*) echo "bench-ingest: BACKEND is embedded or clickhouse" >&2; exit 1 ;;
esac

log() { printf 'bench-ingest: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

# now_ns prints the time in nanoseconds.
now_ns() { date +%s%N; }

# free_port prints a loopback TCP port nobody listens on, below the
# ephemeral range so that no outgoing connection holds it either.
free_port() {
	local low port
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	for _ in $(seq 1 100); do
		port=$((20000 + RANDOM % (low - 20000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# healthy reports whether GET /healthz answers 200.
healthy() {
	if command -v curl >/dev/null; then
		curl -fsS -o /dev/null --max-time 2 "$base/healthz" 2>/dev/null
		return
	fi
	local line
	exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || return 1
	printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	IFS= read -r -t 2 line <&3 || true
	exec 3>&-
	[[ $line == HTTP/1.?" 200"* ]]
}

# proc_status_kb prints a field (VmHWM, VmRSS) of the servers'
# /proc/PID/status in kB, summed.
proc_status_kb() {
	local pid total=0 v
	for pid in $server_pids; do
		v=$(awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status")
		total=$((total + v))
	done
	echo "$total"
}

# cpu_ticks prints the servers' user+system CPU time in clock ticks,
# summed. The command name in /proc/PID/stat may hold spaces, so fields
# are counted after its closing parenthesis: utime and stime are the 12th
# and 13th there.
cpu_ticks() {
	local stat pid total=0
	for pid in $server_pids; do
		stat=$(<"/proc/$pid/stat")
		stat=${stat##*) }
		# shellcheck disable=SC2086 # split into fields on purpose
		set -- $stat
		total=$((total + ${12} + ${13}))
	done
	echo "$total"
}

mib() { awk -v kb="$1" 'BEGIN { printf "%.1f MiB", kb / 1024 }'; }

# stop_server sends SIGTERM to every server, waits up to 30s, then
# SIGKILL; it sets server_exit (the first non-zero) and shutdown_s.
server_pids=
server_exit=
shutdown_s=
stop_server() {
	[[ -n $server_pids ]] || return 0
	local t0 i pid code
	t0=$(now_ns)
	for pid in $server_pids; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $server_pids; do
		for ((i = 0; i < 300; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "server $pid still running 30s after SIGTERM; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	server_exit=0
	for pid in $server_pids; do
		code=0
		wait "$pid" 2>/dev/null || code=$?
		[[ $server_exit != 0 ]] || server_exit=$code
	done
	shutdown_s=$(awk -v ns=$(($(now_ns) - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')
	server_pids=
}

# services_pid is sightline-services', when BACKEND=clickhouse.
services_pid=
stop_services() {
	[[ -n $services_pid ]] || return 0
	kill -TERM "$services_pid" 2>/dev/null || true
	wait "$services_pid" 2>/dev/null || true
	services_pid=
}

tmp=
cleanup() {
	local status=$?
	stop_server
	stop_services
	if [[ -n $tmp ]]; then
		if [[ -n ${KEEP_DATA:-} ]]; then
			log "kept $tmp"
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building"
go build -o bin/sightline ./cmd/sightline
go build -o bin/sightline-load ./cmd/sightline-load

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sightline-bench.XXXXXX")
data=$tmp/data

if [[ $BACKEND == clickhouse ]]; then
	scripts/ensure-clickhouse.sh
	scripts/ensure-postgres.sh
	go build -o bin/sightline-services ./cmd/sightline-services
	log "starting ClickHouse and PostgreSQL"
	bin/sightline-services >"$tmp/services.env" 2>"$tmp/services.log" &
	services_pid=$!
	for ((i = 0; i < 600; i++)); do
		[[ -f $tmp/services.env && $(wc -l <"$tmp/services.env") -ge 2 ]] && break
		kill -0 "$services_pid" 2>/dev/null || { cat "$tmp/services.log" >&2; die "the services did not start"; }
		sleep 0.1
	done
	set -a
	# shellcheck disable=SC1091 # written by sightline-services above
	. "$tmp/services.env"
	set +a
fi

# start_node starts server number $1 and waits for its /healthz; it adds
# its PID to server_pids and its base URL to bases.
bases=
start_node() {
	local n=$1 dir=$data log_file=$tmp/server.log node_args=
	if ((n > 1)); then
		dir=$data$n log_file=$tmp/server$n.log
	fi
	[[ $BACKEND == clickhouse ]] && node_args="--node node$n"
	port=$(free_port) || die "found no free loopback port"
	base=http://127.0.0.1:$port
	if ((n == 1)); then
		metrics_port=$(free_port) || die "found no free loopback port"
		while [[ $metrics_port == "$port" ]]; do metrics_port=$(free_port) || die "found no free loopback port"; done
		metrics_args="--metrics-addr 127.0.0.1:$metrics_port"
	else
		metrics_args="--metrics-addr off"
	fi
	log "starting server $n on $base with data in $dir ($BACKEND)"
	# shellcheck disable=SC2086 # the args are split into flags on purpose
	bin/sightline serve --addr "127.0.0.1:$port" $metrics_args --data "$dir" $node_args $SERVER_ARGS >"$log_file" 2>&1 &
	local pid=$!
	server_pids="$server_pids $pid"
	local ready=
	for ((i = 0; i < STARTUP_TIMEOUT * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 30 "$log_file" >&2
			die "server $n exited while starting"
		fi
		if healthy; then
			ready=1
			break
		fi
		sleep 0.1
	done
	[[ -n $ready ]] || {
		tail -n 30 "$log_file" >&2
		die "/healthz of server $n did not answer 200 within ${STARTUP_TIMEOUT}s"
	}
	bases="${bases:+$bases,}$base"
}

t_start=$(now_ns)
for ((n = 1; n <= NODES; n++)); do
	start_node "$n"
done
startup_s=$(awk -v ns=$(($(now_ns) - t_start)) 'BEGIN { printf "%.2f", ns / 1e9 }')
idle_rss=$(proc_status_kb VmRSS)

site_json=$(bin/sightline site create bench --data "$data" --json) || die "site create failed"
write_key=$(printf '%s' "$site_json" | tr -d '\n' |
	sed -n 's/.*"write_key"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
[[ -n $write_key ]] || die "no write_key in: $site_json"

stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p .bench
out=.bench/ingest-$stamp
cpu0=$(cpu_ticks)
t0=$(now_ns)
profile_pid=
if [[ -n ${PROFILE:-} ]] && command -v curl >/dev/null; then
	seconds=$(awk -v d="$DURATION" 'BEGIN { sub(/s$/, "", d); printf "%d", d }')
	curl -fsS --max-time $((seconds + 30)) --unix-socket "$data/admin.sock" \
		"http://admin/debug/pprof/profile?seconds=$seconds" -o "$out.cpu.pprof" &
	profile_pid=$!
fi
log "load: $DURATION after $WARMUP warmup, $CONCURRENCY connections, $BATCH messages/request"
# The key goes through the environment, not the command line, so that ps
# does not show it.
# shellcheck disable=SC2086 # LOAD_ARGS is split into flags on purpose
SIGHTLINE_WRITE_KEY=$write_key bin/sightline-load -url "$bases" \
	-duration "$DURATION" -warmup "$WARMUP" -concurrency "$CONCURRENCY" \
	-batch "$BATCH" -users "$USERS" -out "$out.json" $LOAD_ARGS >"$tmp/load.txt" &&
	load_exit=0 || load_exit=$?
wall_ns=$(($(now_ns) - t0))

for pid in $server_pids; do
	kill -0 "$pid" 2>/dev/null || {
		cat "$tmp/load.txt"
		tail -n 30 "$tmp"/server*.log >&2
		die "a server died during the load"
	}
done
cpu1=$(cpu_ticks)
[[ -z $profile_pid ]] || wait "$profile_pid" || log "the CPU profile failed"
if [[ -n $profile_pid ]]; then
	curl -fsS --max-time 10 --unix-socket "$data/admin.sock" "http://admin/debug/pprof/heap" -o "$out.heap.pprof" ||
		log "the heap profile failed"
fi
peak_rss=$(proc_status_kb VmHWM)
cur_rss=$(proc_status_kb VmRSS)
if command -v curl >/dev/null; then
	curl -fsS --max-time 5 "http://127.0.0.1:$metrics_port/metrics" >"$out.metrics.txt" 2>/dev/null || rm -f "$out.metrics.txt"
fi

log "stopping the server"
stop_server
data_kb=$(du -sck "$data"* | tail -1 | cut -f1)
all_events=$(sed -n 's/^ *"all_events_acked": *\([0-9]*\).*/\1/p' "$out.json" 2>/dev/null || true)

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
server_cpu_s=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')
{
	echo "== Sightline ingest benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ) =="
	echo "machine       nproc $(nproc), ${cpu_model:-unknown CPU}, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)"
	echo "build         $(go env GOVERSION), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty)')"
	echo "backend       $BACKEND, $NODES node(s)$([[ $BACKEND == clickhouse ]] && echo ", ClickHouse $(dpkg-query -W -f '${Version}' clickhouse-server 2>/dev/null), PostgreSQL $(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)"), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "settings      DURATION=$DURATION WARMUP=$WARMUP CONCURRENCY=$CONCURRENCY BATCH=$BATCH USERS=$USERS${LOAD_ARGS:+ LOAD_ARGS=\"$LOAD_ARGS\"}${SERVER_ARGS:+ SERVER_ARGS=\"$SERVER_ARGS\"}"
	cat "$tmp/load.txt"
	echo "server rss    peak $(mib "$peak_rss") (VmHWM), after the load $(mib "$cur_rss") (VmRSS), idle before it $(mib "$idle_rss")"
	awk -v s="$server_cpu_s" -v ns="$wall_ns" 'BEGIN {
		printf "server cpu    %.1fs over %.1fs of load, warmup included = %.2f cores\n", s, ns / 1e9, s / (ns / 1e9) }'
	if [[ -n $all_events && $all_events -gt 0 ]]; then
		awk -v kb="$data_kb" -v n="$all_events" 'BEGIN {
			printf "data dir      %.1f MiB after shutdown for %d acknowledged events = %.0f B/event\n", kb / 1024, n, kb * 1024 / n }'
		awk -v s="$server_cpu_s" -v n="$all_events" 'BEGIN {
			printf "server cpu    %.1f µs per acknowledged event (what 100k events/s needs: under 20 µs on 2 cores)\n", s * 1e6 / n }'
	else
		echo "data dir      $(mib "$data_kb") after shutdown"
	fi
	echo "lifecycle     ready in ${startup_s}s; SIGTERM to exit $server_exit in ${shutdown_s}s"
	echo "results       $out.txt, $out.json$([[ -f $out.metrics.txt ]] && echo ", $out.metrics.txt")$([[ -f $out.cpu.pprof ]] && echo ", $out.cpu.pprof")"
} | tee "$out.txt"

[[ $server_exit == 0 ]] || die "the server exited with status $server_exit on SIGTERM"
[[ $load_exit == 0 ]] || die "the load generator failed (exit $load_exit)"
