.PHONY: bench bench-ingest

# bench runs the benchmarks that need a running server.
bench: bench-ingest

# bench-ingest measures the events/s a fresh server acknowledges; DURATION,
# WARMUP, CONCURRENCY, BATCH, USERS and LOAD_ARGS tune it.
bench-ingest:
	bash scripts/bench-ingest.sh
