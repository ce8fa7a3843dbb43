#!/usr/bin/env bash
# The benchmark's unary scoring run alone, for quick A/B of a change to the write path: starts a server, primes it
# with 8 s of scoring (not reported), runs the closed-loop scoring window, then prints the ledger writer's counters
# and one line of results (req/s, p50 and p99 ms, CPU ms per request of the server, Redis and PostgreSQL).
# Writes score.json and server.log to SCORE_RESULTS (default load-tests/results/score-only).
# Settings: the benchmark's BENCH_DURATION, BENCH_WARMUP, BENCH_MEMBERS, BENCH_CONCURRENCY, BENCH_CHANNELS;
# BENCH_SERVER_ENV="Ledger__MaxConcurrentCommits=1 ..." for other server settings.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
source load-tests/settings.sh
results=${SCORE_RESULTS:-$repo/load-tests/results/score-only}
mkdir -p "$results"
read -r -a server_env <<<"${BENCH_SERVER_ENV:-}"
source scripts/services.sh
server_log="$results/server.log"
source load-tests/server.sh
start_loyalty_server "${server_env[@]}"
load --label prime-score --target-rpc score --concurrency "$concurrency" --duration 8 --warmup 0 >/dev/null
wait_for_ledger
measured_run score "$results/score.json" --target-rpc score --mode closed --concurrency "$concurrency" --skip-enroll
curl -fsS "http://127.0.0.1:$metrics_port/metrics" |
  grep -E "^loyalty_ledger_predecessor_waits_total|^loyalty_hot_state_stale|^loyalty_ledger_rows_per_commit_(sum|count)|^loyalty_ledger_commit_failures" || true
stop_server
python3 - "$results/score.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
cpu = run["cpu"]["processes"]
print(f'{run["throughputPerSecond"]:,.0f} req/s  p50 {run["latencyMs"]["p50"]} ms  p99 {run["latencyMs"]["p99"]} ms  '
      f'CPU ms/request: server {cpu["server"]["msPerRequest"]}  Redis {cpu["redis"]["msPerRequest"]}  PostgreSQL {cpu["postgres"]["msPerRequest"]}')
PY
