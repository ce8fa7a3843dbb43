#!/usr/bin/env bash
# The benchmark: starts Redis and PostgreSQL (scripts/services.sh) and a Release server against them, all on loopback,
# with the echo baseline enabled, then primes it (enrols the population and runs every path for BENCH_PRIME seconds, so
# the runtime has compiled the hot code at its final tier before anything is measured) and runs, each after a warm-up:
#   1. echo   closed loop, EchoService.Echo (the transport alone)          -> echo max
#   2. score  closed loop, Score + Redeem                                   -> scoring max
#   3. stream closed loop, ScoreStream                                      -> stream max
#   4. open50 open loop at 50% of the scoring max                           -> latency at half load
#   5. open80 open loop at 80% of the scoring max                           -> latency at 80% load
#   6. echo50 open loop, EchoService.Echo at the open50 rate                -> the transport's own latency at that rate
#   7. echo80 open loop, EchoService.Echo at the open80 rate                -> the same at the open80 rate
#   8. floor  closed loop, EchoService.EchoDurable                         -> the least durable work, unary (floor.sh)
#   9. floorstream closed loop, EchoService.EchoDurableStream              -> the same for streams
# Each run also measures, over its window only, the CPU time of the server, Redis, PostgreSQL, the generator and the
# whole machine, the context switches of each process's threads, and the server's counters (rows per ledger commit,
# Redis apply calls and ledger commits per request, commit and Redis latency, GC, thread pool).
# Writes load-tests/results/benchmark.json and benchmark.md (plus one JSON per run) and prints the markdown.
#
# Settings (environment):
#   BENCH_DURATION=20  measured seconds per run      BENCH_WARMUP=5       warm-up seconds per run
#   BENCH_MEMBERS=10000  population (Zipf s=1)       BENCH_CONCURRENCY=64 closed-loop callers (echo, score, floor)
#   BENCH_STREAMS=4  BENCH_STREAM_WINDOW=64          BENCH_CHANNELS=4     HTTP/2 connections
#   BENCH_PRIME=8  seconds of each path before the measured runs (not reported)
#   BENCH_RESULTS=load-tests/results                 extra generator options: BENCH_GENERATOR_ARGS
#   BENCH_SERVER_ENV="HotState__MaxConcurrentApplies=4 ..."  extra server settings, for A/B runs
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

source load-tests/settings.sh
results=${BENCH_RESULTS:-$repo/load-tests/results}
read -r -a extra_args <<<"${BENCH_GENERATOR_ARGS:-}"
read -r -a server_env <<<"${BENCH_SERVER_ENV:-}"

source scripts/services.sh

mkdir -p "$results"
server_log="$results/benchmark-server.log"

source load-tests/server.sh
start_loyalty_server Benchmark__EnableEcho=true "${server_env[@]}"

# Not measured: enrols the population and runs the scoring, stream and echo paths once.
prime_server() {
  echo >&2
  echo "=== priming the server ($prime s per path, not reported)" >&2
  load --label prime-score --target-rpc score --concurrency "$concurrency" --duration "$prime" --warmup 0 "${extra_args[@]}" >/dev/null
  load --label prime-stream --target-rpc stream --streams "$streams" --stream-window "$stream_window" --skip-enroll \
    --duration "$prime" --warmup 0 "${extra_args[@]}" >/dev/null
  load --label prime-echo --target-rpc echo --concurrency "$concurrency" --duration "$prime" --warmup 0 "${extra_args[@]}" >/dev/null
  wait_for_ledger
}

generator() {
  local name=$1
  shift
  measured_run "$name" "$results/bench-$name.json" "$@" "${extra_args[@]}"
}

json_number() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

rm -f "$results"/bench-*.json
started=$(date +%s)
prime_server
generator echo --target-rpc echo --mode closed --concurrency "$concurrency"
generator score --target-rpc score --mode closed --concurrency "$concurrency" --skip-enroll
scoring_max=$(json_number "$results/bench-score.json" throughputPerSecond)
generator stream --target-rpc stream --mode closed --streams "$streams" --stream-window "$stream_window" --skip-enroll
rate50=$(python3 -c "print(round($scoring_max * 0.5, 1))")
rate80=$(python3 -c "print(round($scoring_max * 0.8, 1))")
generator open50 --target-rpc score --mode open --rate "$rate50" --skip-enroll
generator open80 --target-rpc score --mode open --rate "$rate80" --skip-enroll
generator echo50 --target-rpc echo --mode open --rate "$rate50"
generator echo80 --target-rpc echo --mode open --rate "$rate80"
# The floors last, primed right before (not measured): their rows go to a table of their own, and its writes
# should not land in the windows above.
load --label prime-floor --target-rpc echodurable --concurrency "$concurrency" --duration "$prime" --warmup 0 "${extra_args[@]}" >/dev/null
load --label prime-floorstream --target-rpc echodurablestream --streams "$streams" --stream-window "$stream_window" \
  --duration "$prime" --warmup 0 "${extra_args[@]}" >/dev/null
generator floor --target-rpc echodurable --mode closed --concurrency "$concurrency"
generator floorstream --target-rpc echodurablestream --mode closed --streams "$streams" --stream-window "$stream_window"
elapsed=$(($(date +%s) - started))

stop_server

machine=$(python3 - <<EOF
import json, os, platform, subprocess
def first(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return None
model = None
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
memory = None
with open("/proc/meminfo") as f:
    for line in f:
        if line.startswith("MemTotal:"):
            memory = round(int(line.split()[1]) / 1024 / 1024, 1)
print(json.dumps({
    "nproc": os.cpu_count(),
    "cpuModel": model,
    "memoryGiB": memory,
    "kernel": platform.release(),
    "dotnet": first(["dotnet", "--version"]),
    "redis": first(["redis-server", "--version"]),
    "postgres": first(["$PG_BIN/postgres", "--version"]),
    "shared": "server, generator, Redis and PostgreSQL share this machine's cores",
}))
EOF
)

python3 load-tests/benchmark-report.py --results "$results" --machine "$machine" --elapsed "$elapsed" \
  --settings "duration=$duration warmup=$warmup members=$members concurrency=$concurrency streams=$streams stream_window=$stream_window channels=$channels"
