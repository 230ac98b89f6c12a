# Sightline's two set-up commands are `make run` and `make test`; the rest
# are for developers.
GO      ?= go
BIN     := bin/sightline
DATA    ?= data
GOFLAGS ?=

.PHONY: fuzz build run test vet oracle bench bench-ingest bench-segments bench-overview bench-heatmaps bench-vs-clickhouse chaos geo clean tracker tracker-check dashboard dashboard-check chromium services bench-insights bench-compare

build:
	$(GO) build $(GOFLAGS) -o $(BIN) ./cmd/sightline

# The country database is optional: without it countries stay empty.
geo:
	@scripts/fetch-geo.sh $(DATA)/geo/country.mmdb || echo "no country database (npm unreachable): countries will be empty"

# run fills a demo site on first start (sightline demo), then serves.
run: build geo
	$(BIN) demo --data $(DATA)
	$(BIN) serve --data $(DATA)

vet:
	$(GO) vet ./...
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "$$out"; echo "gofmt would change the files above"; exit 1; fi

# The browser tests need Chromium: installed from Debian when missing.
chromium:
	@scripts/ensure-chromium.sh || echo "no Chromium: the browser tests will be skipped"

# The tests of the scaled backends (internal/testsvc) start ClickHouse and
# PostgreSQL servers of their own: Debian's packages are installed when
# missing, and no service is started. Without them those tests skip, or
# fail under CI=true.
services:
	@scripts/ensure-clickhouse.sh || echo "no ClickHouse: its tests will be skipped (and fail under CI=true)"
	@scripts/ensure-postgres.sh || echo "no PostgreSQL: its tests will be skipped (and fail under CI=true)"

# The tracker script is built from web/tracker (TypeScript, esbuild) into
# internal/tracker/dist and committed; tracker rebuilds it, tracker-check
# fails when a rebuild differs from what is committed.
tracker:
	scripts/build-tracker.sh

tracker-check:
	@if command -v npm >/dev/null 2>&1; then scripts/build-tracker.sh --check; \
	else echo "npm not found: not checking internal/tracker/dist against a rebuild of web/tracker"; fi

# The dashboard is built from web/dashboard (TypeScript, Preact, esbuild)
# into internal/web/dist and committed; dashboard rebuilds it,
# dashboard-check fails when a rebuild differs from what is committed.
dashboard:
	scripts/build-dashboard.sh

dashboard-check:
	@if command -v npm >/dev/null 2>&1; then scripts/build-dashboard.sh --check; \
	else echo "npm not found: not checking internal/web/dist against a rebuild of web/dashboard"; fi

# The tests themselves run through scripts/test.sh: go test -race on every
# package, with internal/server split into two processes side by side.
test: vet geo chromium services tracker-check dashboard-check
	GO=$(GO) scripts/test.sh

# oracle checks many more random segments against the brute-force
# evaluator than make test does, now and in the past (trends), from a
# fresh seed each time, on DuckDB and on ClickHouse (skipped without
# one: see services); a failure prints the seed and the command that
# replays it.
ORACLE_ARGS ?= -oracle.seed=0 -oracle.datasets=32 -oracle.n=1000 -oracle.clickhouse.datasets=8 -oracle.clickhouse.n=150
oracle:
	$(GO) test -count=1 -timeout 90m -run 'TestOracle(ClickHouse)?(Historical)?$$' -v ./internal/segment/engine $(ORACLE_ARGS)

# fuzz runs the generated hostile-ingestion test and the fuzzers for
# longer than make test does (FUZZTIME each).
FUZZTIME ?= 2m
fuzz:
	$(GO) test -count=1 -timeout 60m -run 'TestHostileIngestion$$' -v ./internal/server -ingest.duration=$(FUZZTIME)
	$(GO) test -run XXX -fuzz FuzzCheck -fuzztime $(FUZZTIME) ./internal/jsoncheck
	$(GO) test -run XXX -fuzz FuzzCut -fuzztime $(FUZZTIME) ./internal/textlimit

clean:
	rm -rf bin

# bench runs the long benchmarks (not part of make test).
bench: bench-ingest bench-segments bench-overview bench-compare

# bench-segments times the seed's segments and others on 1M generated users
# (generated once into .bench/; USERS=100000 for a quicker run).
bench-segments:
	bash scripts/bench-segments.sh

# bench-heatmaps times the heatmap answers of a page group with CLICKS
# clicks (1,000,000) of USERS users (1,000,000) over 30 days (generated
# once into .bench/heatmaps; CLICKS=100000 USERS=100000 for a quicker run).
bench-heatmaps:
	mkdir -p .bench/heatmaps
	SIGHTLINE_BENCH_HEATMAPS=1 BENCH_DIR=$(CURDIR)/.bench/heatmaps go test -count=1 -timeout 60m -run TestHeatmapScale -v ./internal/heatmap
# bench-insights times trends, funnels and retention on the same generated
# site (DATA=folder NOW=time for another one, copied first).
bench-insights:
	bash scripts/bench-insights.sh

# bench-overview times the site overview (API and page) on a demo of 1M
# people (made once into .bench/; USERS=20000 for make run's demo).
bench-overview:
	bash scripts/bench-overview.sh

# bench-compare times comparisons and experiment results on 1M generated
# users (the data of bench-segments, made once into .bench/; USERS=300000
# for a quicker run).
bench-compare:
	bash scripts/bench-compare.sh

# bench-ingest measures the events/s a fresh server acknowledges; DURATION,
# WARMUP, CONCURRENCY, BATCH, USERS and LOAD_ARGS tune it.
bench-ingest:
	bash scripts/bench-ingest.sh

# chaos runs the failure scenarios against real servers (not part of make
# test, two to three minutes): kill -9 under batch load and under recording
# uploads, a full disk (a tmpfs: root only), slow-body starvation and reads
# under write load; it prints a table and fails when a scenario does.
# CHAOS_ARGS tunes it, e.g. CHAOS_ARGS="-only disk-full -seed 42".
chaos:
	bash scripts/chaos.sh

# bench-vs-clickhouse times the segment benchmark's cases in Sightline and
# in ClickHouse (Debian's, installed when missing, started on loopback in
# a temporary folder) on the same generated data, pair by pair, and prints
# the ratios; the counts must agree. Not part of make test.
bench-vs-clickhouse:
	bash scripts/bench-vs-clickhouse.sh
