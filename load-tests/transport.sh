#!/usr/bin/env bash
# The transport alone at low load: the echo's closed-loop maximum, then the echo as an open loop at 20% of that
# maximum, TRANSPORT_ROUNDS times (default 3), against one server. 20% of the echo's maximum is half of the smallest
# unary scoring maximum that meets the 0.4 × echo target, so how busy the bare echo keeps the machine at that rate
# bounds what any design can do at half load (docs/BENCHMARKS.md, "The targets together").
# Writes transport-*.json and transport.md to TRANSPORT_RESULTS (default load-tests/results) and prints transport.md.
# Settings: the benchmark's BENCH_DURATION, BENCH_WARMUP, BENCH_MEMBERS, BENCH_CONCURRENCY, BENCH_CHANNELS, BENCH_PRIME.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

source load-tests/settings.sh
results=${TRANSPORT_RESULTS:-$repo/load-tests/results}
rounds=${TRANSPORT_ROUNDS:-3}

source scripts/services.sh
mkdir -p "$results"
server_log="$results/transport-server.log"
source load-tests/server.sh
start_loyalty_server Benchmark__EnableEcho=true

echo "=== priming ($prime s, not reported)" >&2
load --label prime --target-rpc echo --concurrency "$concurrency" --duration "$prime" --warmup 0 >/dev/null

rm -f "$results"/transport-*.json
for round in $(seq 1 "$rounds"); do
  measured_run "echo-$round" "$results/transport-echo-$round.json" --target-rpc echo --mode closed --concurrency "$concurrency" --skip-enroll
  rate=$(python3 -c 'import json, sys; print(round(0.2 * json.load(open(sys.argv[1]))["throughputPerSecond"], 1))' \
    "$results/transport-echo-$round.json")
  measured_run "echo20-$round" "$results/transport-echo20-$round.json" --target-rpc echo --mode open --rate "$rate" --skip-enroll
done
stop_server

python3 - "$results" "$rounds" <<'PY' | tee "$results/transport.md"
import json, os, sys
results, rounds = sys.argv[1], int(sys.argv[2])
def load(name):
    return json.load(open(os.path.join(results, f"transport-{name}.json")))
def cpu(run, process):
    return run["cpu"]["processes"][process]
print("| round | echo max, req/s | machine CPU ms per request at the max | echo at 20%, req/s | machine busy at 20% "
      "| machine CPU ms per request at 20% (server / generator) | context switches per request at 20% (server / generator) |")
print("|---|---|---|---|---|---|---|")
for r in range(1, rounds + 1):
    top, low = load(f"echo-{r}"), load(f"echo20-{r}")
    print(f"| {r} | {top['throughputPerSecond']:,.0f} | {top['cpu']['machine']['msPerRequest']:.3f} "
          f"| {low['throughputPerSecond']:,.0f} | {low['cpu']['machine']['utilisation']:.0%} "
          f"| {low['cpu']['machine']['msPerRequest']:.3f} ({cpu(low, 'server')['msPerRequest']:.3f} / {cpu(low, 'generator')['msPerRequest']:.3f}) "
          f"| {cpu(low, 'server')['contextSwitchesPerRequest']:.1f} / {cpu(low, 'generator')['contextSwitchesPerRequest']:.1f} |")
PY
