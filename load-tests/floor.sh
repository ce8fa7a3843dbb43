#!/usr/bin/env bash
# The floor under a durable answer, measured: what a request costs when it does only the least hot-state and ledger
# work any design of the transaction pipeline needs (EchoService.EchoRedis / EchoLedger / EchoDurable, see
# protos/loyalty/bench/v1/echo.proto), against the echo and against Score, all against one server, one after the
# other, and the same for streams (EchoStream / EchoDurableStream against ScoreStream). Then the benchmark's open-loop runs at 50% and 80% of the durable floor's own maximum, for the floor and
# for the echo at the same rates. If the floor misses a target of docs/BENCHMARKS.md, no pipeline can meet it.
# Writes floor-*.json and floor.md to FLOOR_RESULTS (default load-tests/results) and prints floor.md.
# Settings: the benchmark's BENCH_DURATION, BENCH_WARMUP, BENCH_MEMBERS, BENCH_CONCURRENCY, BENCH_CHANNELS, BENCH_STREAMS,
# BENCH_STREAM_WINDOW, BENCH_PRIME; FLOOR_SERVER_ENV="HotState__MaxConcurrentApplies=1 ..." for other server settings.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

source load-tests/settings.sh
results=${FLOOR_RESULTS:-$repo/load-tests/results}
read -r -a server_env <<<"${FLOOR_SERVER_ENV:-}"

source scripts/services.sh
mkdir -p "$results"
server_log="$results/floor-server.log"
source load-tests/server.sh
start_loyalty_server Benchmark__EnableEcho=true "${server_env[@]}"

run() {
  local name=$1
  shift
  measured_run "$name" "$results/floor-$name.json" "$@"
}

echo "=== priming ($prime s per path, not reported)" >&2
for rpc in score echo echoredis echoledger echodurable; do
  load --label "prime-$rpc" --target-rpc "$rpc" --concurrency "$concurrency" --duration "$prime" --warmup 0 >/dev/null
done
for rpc in stream echostream echodurablestream; do
  load --label "prime-$rpc" --target-rpc "$rpc" --streams "$streams" --stream-window "$stream_window" --skip-enroll \
    --duration "$prime" --warmup 0 >/dev/null
done
wait_for_ledger

rm -f "$results"/floor-*.json
for rpc in echo echoredis echoledger echodurable score; do
  run "$rpc" --target-rpc "$rpc" --mode closed --concurrency "$concurrency" --skip-enroll
done
for rpc in echostream echodurablestream stream; do
  run "$rpc" --target-rpc "$rpc" --mode closed --streams "$streams" --stream-window "$stream_window" --skip-enroll
done
durable_max=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["throughputPerSecond"])' "$results/floor-echodurable.json")
rate50=$(python3 -c "print(round($durable_max * 0.5, 1))")
rate80=$(python3 -c "print(round($durable_max * 0.8, 1))")
run durable50 --target-rpc echodurable --mode open --rate "$rate50"
run echo50 --target-rpc echo --mode open --rate "$rate50"
run durable80 --target-rpc echodurable --mode open --rate "$rate80"
run echo80 --target-rpc echo --mode open --rate "$rate80"
stop_server

python3 - "$results" "$concurrency" "$streams" "$stream_window" <<'PY' | tee "$results/floor.md"
import json, math, os, sys
results, concurrency, streams, window = sys.argv[1:5]
runs = {name: json.load(open(os.path.join(results, f"floor-{name}.json")))
        for name in ["echo", "echoredis", "echoledger", "echodurable", "score", "echostream", "echodurablestream", "stream",
                     "durable50", "echo50", "durable80", "echo80"]}
echo = runs["echo"]["throughputPerSecond"]
def value(run, *path):
    """A figure of the run, or NaN when the generator could not measure it (null or absent)."""
    for key in path:
        run = (run or {}).get(key)
    return math.nan if run is None else run
def cpu(run, process):
    return value(run, "cpu", "processes", process, "msPerRequest")
def switches(run, process):
    return value(run, "cpu", "processes", process, "contextSwitchesPerRequest")
def machine(run):
    return value(run, "cpu", "machine", "msPerRequest")
print(f"| closed loop (unary: {concurrency} callers; streams: {streams} × {window}) | answered/s | / echo | machine CPU ms per request | server / Redis / PostgreSQL / generator | server switches per request |")
print("|---|---|---|---|---|---|")
for name in ["echo", "echoredis", "echoledger", "echodurable", "score", "echostream", "echodurablestream", "stream"]:
    r = runs[name]
    print(f"| {name} | {r['throughputPerSecond']:,.0f} | {r['throughputPerSecond'] / echo:.2f} | {machine(r):.3f} | "
          f"{cpu(r, 'server'):.3f} / {cpu(r, 'redis'):.3f} / {cpu(r, 'postgres'):.3f} / {cpu(r, 'generator'):.3f} | {switches(r, 'server'):.2f} |")
print()
d, d50, e50, d80, e80 = runs["echodurable"], runs["durable50"], runs["echo50"], runs["durable80"], runs["echo80"]
print(f"| open loop at the durable floor's 50% ({d50['rate']:,.0f} req/s) and 80% ({d80['rate']:,.0f} req/s) | value | target |")
print("|---|---|---|")
print(f"| machine CPU per request, floor at 50% / floor at its max | {machine(d50) / machine(d):.2f} × ({machine(d50):.3f} / {machine(d):.3f} ms) | ≤ 1.5 × |")
print(f"| echo alone at that rate: machine CPU per request | {machine(e50):.3f} ms (server {cpu(e50, 'server'):.3f}, generator {cpu(e50, 'generator'):.3f}) | |")
print(f"| floor at 50%: p99 / echo's p99 | {d50['latencyMs']['p99'] / e50['latencyMs']['p99']:.1f} × ({d50['latencyMs']['p99']:.2f} / {e50['latencyMs']['p99']:.2f} ms) | ≤ 3 × |")
print(f"| floor at 50%: p99.9 / echo's p99.9 | {d50['latencyMs']['p99.9'] / e50['latencyMs']['p99.9']:.1f} × ({d50['latencyMs']['p99.9']:.2f} / {e50['latencyMs']['p99.9']:.2f} ms) | ≤ 3 × |")
print(f"| floor at 80%: p99 / echo's p99 | {d80['latencyMs']['p99'] / e80['latencyMs']['p99']:.1f} × ({d80['latencyMs']['p99']:.2f} / {e80['latencyMs']['p99']:.2f} ms) | < 10 × |")
print(f"| floor at 50%: PostgreSQL / Redis CPU ms per request | {cpu(d50, 'postgres'):.3f} / {cpu(d50, 'redis'):.3f} (at the max {cpu(d, 'postgres'):.3f} / {cpu(d, 'redis'):.3f}) | |")
for name in ["durable50", "echo50", "durable80", "echo80"]:
    r = runs[name]
    if r.get("errors"):
        print(f"\n{name}: {r['errors']} errors {r.get('errorsByStatus')}")
PY
