#!/usr/bin/env bash
# The load scripts' shared settings, from the environment (see benchmark.sh's header), sourced by each of them.
duration=${BENCH_DURATION:-20}
warmup=${BENCH_WARMUP:-5}
members=${BENCH_MEMBERS:-10000}
concurrency=${BENCH_CONCURRENCY:-64}
streams=${BENCH_STREAMS:-4}
stream_window=${BENCH_STREAM_WINDOW:-64}
channels=${BENCH_CHANNELS:-4}
prime=${BENCH_PRIME:-8}
command -v python3 >/dev/null || { echo "python3 is needed to write the report" >&2; exit 1; }
