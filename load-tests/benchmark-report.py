#!/usr/bin/env python3
"""Combines the generator's per-run JSON files of load-tests/benchmark.sh into benchmark.json and benchmark.md."""

import argparse
import datetime
import json
import os
import sys

RUNS = ["echo", "score", "stream", "open50", "open80", "echo50", "echo80", "floor", "floorstream"]
PROCESSES = ["server", "redis", "postgres", "generator"]


def load_runs(results):
    runs = {}
    for name in RUNS:
        path = os.path.join(results, f"bench-{name}.json")
        if not os.path.exists(path):
            sys.exit(f"missing {path}: the {name} run did not complete")
        with open(path, encoding="utf-8") as f:
            runs[name] = json.load(f)
    return runs


def cpu(run, process):
    return (((run.get("cpu") or {}).get("processes") or {}).get(process) or {})


def cpu_ms(run, process):
    return cpu(run, process).get("msPerRequest")


def other_cpu_seconds(run):
    """Machine CPU not spent by the four measured processes: other work sharing the machine."""
    machine = (run.get("cpu") or {}).get("machine")
    if not machine:
        return None
    known = sum(cpu(run, p).get("seconds") or 0 for p in PROCESSES)
    return machine["busySeconds"] - known


def rows_per_commit(run):
    return (((run.get("server") or {}).get("ledger") or {}).get("rowsPerCommit"))


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(value, digits=2, unit=""):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{unit}"


def verdict(ok):
    if ok is None:
        return "–"
    return "met" if ok else "**missed**"


def summarise(runs):
    echo, score, stream = runs["echo"], runs["score"], runs["stream"]
    open50, open80 = runs["open50"], runs["open80"]
    echo_max = echo["throughputPerSecond"]
    scoring_max = score["throughputPerSecond"]
    stream_max = stream["throughputPerSecond"]
    scoring_ratio = ratio(scoring_max, echo_max)
    stream_ratio = ratio(stream_max, scoring_max)
    p99_50 = open50["latencyMs"]["p99"]
    p999_50 = open50["latencyMs"]["p99.9"]
    open_errors = open50["errors"]
    summary = {
        "echoMaxPerSecond": echo_max,
        "scoringMaxPerSecond": scoring_max,
        "scoringToEcho": scoring_ratio,
        "streamMaxPerSecond": stream_max,
        "streamToUnary": stream_ratio,
        "open50": {"rate": open50["rate"], "throughputPerSecond": open50["throughputPerSecond"], "errors": open50["errors"],
                   "latencyMs": open50["latencyMs"]},
        "open80": {"rate": open80["rate"], "throughputPerSecond": open80["throughputPerSecond"], "errors": open80["errors"],
                   "latencyMs": open80["latencyMs"]},
        "echo50": {"rate": runs["echo50"]["rate"], "errors": runs["echo50"]["errors"], "latencyMs": runs["echo50"]["latencyMs"]},
        "rowsPerCommit": {name: rows_per_commit(runs[name]) for name in ["score", "stream", "open50", "open80"]},
        "cpuMsPerScoredRequest": {p: cpu_ms(score, p) for p in PROCESSES},
        "machineCpuMsPerScoredRequest": ((score.get("cpu") or {}).get("machine") or {}).get("msPerRequest"),
    }
    e50 = runs["echo50"]["latencyMs"]
    e80 = runs["echo80"]["latencyMs"]
    machine_max = summary["machineCpuMsPerScoredRequest"]
    machine_50 = ((open50.get("cpu") or {}).get("machine") or {}).get("msPerRequest")
    summary["streamToEcho"] = ratio(stream_max, echo_max)
    # The least durable work any design needs (EchoDurable and its stream): how far the pipeline is from it.
    floor_max = runs["floor"]["throughputPerSecond"]
    floor_stream_max = runs["floorstream"]["throughputPerSecond"]
    summary["floorMaxPerSecond"] = floor_max
    summary["floorToEcho"] = ratio(floor_max, echo_max)
    summary["scoringToFloor"] = ratio(scoring_max, floor_max)
    summary["floorStreamMaxPerSecond"] = floor_stream_max
    summary["floorStreamToEcho"] = ratio(floor_stream_max, echo_max)
    summary["streamToFloorStream"] = ratio(stream_max, floor_stream_max)
    summary["echo80"] = {"rate": runs["echo80"]["rate"], "errors": runs["echo80"]["errors"], "latencyMs": e80}
    summary["machineCpuAt50ToMax"] = ratio(machine_50, machine_max)
    summary["open50P99ToEcho"] = ratio(p99_50, e50["p99"])
    summary["open50P999ToEcho"] = ratio(p999_50, e50["p99.9"])
    summary["open80P99ToEcho"] = ratio(open80["latencyMs"]["p99"], e80["p99"])
    targets = {
        "scoringAtLeast0.4xEcho": None if scoring_ratio is None else scoring_ratio >= 0.4,
        "streamAtLeast0.6xEcho": None if summary["streamToEcho"] is None else summary["streamToEcho"] >= 0.6,
        "machineCpuAt50AtMost1.5xMax": None if summary["machineCpuAt50ToMax"] is None else summary["machineCpuAt50ToMax"] <= 1.5,
        "open50P99AtMost3xEcho": summary["open50P99ToEcho"] is not None and summary["open50P99ToEcho"] <= 3 and open_errors == 0,
        "open50P999AtMost3xEcho": summary["open50P999ToEcho"] is not None and summary["open50P999ToEcho"] <= 3 and open_errors == 0,
        "open80P99Below10xEcho": summary["open80P99ToEcho"] is not None and summary["open80P99ToEcho"] < 10,
    }
    return summary, targets


def markdown(runs, summary, targets, machine, settings, elapsed):
    score = runs["score"]
    s = summary
    o50, o80 = s["open50"], s["open80"]
    rpc = s["rowsPerCommit"]
    c = s["cpuMsPerScoredRequest"]
    lines = []
    lines.append(f"Machine: {machine.get('nproc')} × {machine.get('cpuModel')}, {machine.get('memoryGiB')} GiB, "
                 f"kernel {machine.get('kernel')}, .NET SDK {machine.get('dotnet')}; {machine.get('shared')}.")
    lines.append(f"Settings: {settings}; whole benchmark {elapsed} s.")
    lines.append("")
    lines.append("| measure | result | target |")
    lines.append("|---|---|---|")
    lines.append(f"| echo max (closed loop, {runs['echo'].get('concurrency')} callers) | {fmt(s['echoMaxPerSecond'], 0)} req/s | |")
    lines.append(f"| scoring max (closed loop, {score.get('concurrency')} callers, Score + Redeem) | {fmt(s['scoringMaxPerSecond'], 0)} req/s | |")
    lines.append(f"| scoring / echo | {fmt(s['scoringToEcho'], 2)} | ≥ 0.4: {verdict(targets['scoringAtLeast0.4xEcho'])} |")
    lines.append(f"| stream max ({runs['stream'].get('streams')} streams × window {runs['stream'].get('streamWindow')}) | "
                 f"{fmt(s['streamMaxPerSecond'], 0)} req/s | |")
    lines.append(f"| stream / echo | {fmt(s['streamToEcho'], 2)} | ≥ 0.6: {verdict(targets['streamAtLeast0.6xEcho'])} |")
    lines.append(f"| stream / unary scoring | {fmt(s['streamToUnary'], 2)} | |")
    lines.append(f"| durable floor (EchoDurable) / echo; scoring / floor | {fmt(s['floorToEcho'], 2)}; {fmt(s['scoringToFloor'], 2)} | |")
    lines.append(f"| stream floor (EchoDurableStream) / echo; stream / stream floor | {fmt(s['floorStreamToEcho'], 2)}; {fmt(s['streamToFloorStream'], 2)} | |")
    for label, run, key in [("50%", o50, "open50"), ("80%", o80, "open80")]:
        lat = run["latencyMs"]
        target = ""
        if key == "open50":
            target = (f"p99 ≤ 3 × echo's ({fmt(s['open50P99ToEcho'], 1)} ×): {verdict(targets['open50P99AtMost3xEcho'])}; "
                      f"p99.9 ≤ 3 × echo's ({fmt(s['open50P999ToEcho'], 1)} ×): {verdict(targets['open50P999AtMost3xEcho'])}")
        else:
            target = f"p99 < 10 × echo's ({fmt(s['open80P99ToEcho'], 1)} ×): {verdict(targets['open80P99Below10xEcho'])}"
        errors = f", {run['errors']} errors" if run["errors"] else ""
        lines.append(f"| open loop at {label} of scoring max ({fmt(run['rate'], 0)} req/s{errors}): p50 / p99 / p99.9 | "
                     f"{fmt(lat['p50'])} / {fmt(lat['p99'])} / {fmt(lat['p99.9'])} ms | {target} |")
    e50 = s["echo50"]["latencyMs"]
    lines.append(f"| reference: echo (transport alone) open loop at the 50% rate: p50 / p99 / p99.9 | "
                 f"{fmt(e50['p50'])} / {fmt(e50['p99'])} / {fmt(e50['p99.9'])} ms | |")
    e80 = s["echo80"]["latencyMs"]
    lines.append(f"| reference: echo open loop at the 80% rate: p50 / p99 / p99.9 | "
                 f"{fmt(e80['p50'])} / {fmt(e80['p99'])} / {fmt(e80['p99.9'])} ms | |")
    lines.append(f"| machine CPU per request, open loop at 50% / at scoring max | {fmt(s['machineCpuAt50ToMax'], 2)} × | "
                 f"≤ 1.5 ×: {verdict(targets['machineCpuAt50AtMost1.5xMax'])} |")
    lines.append(f"| ledger rows per commit: scoring max / stream / open 50% / open 80% | "
                 f"{fmt(rpc['score'], 1)} / {fmt(rpc['stream'], 1)} / {fmt(rpc['open50'], 1)} / {fmt(rpc['open80'], 1)} | |")
    lines.append(f"| CPU ms per scored request at scoring max: server / Redis / PostgreSQL | "
                 f"{fmt(c['server'], 3)} / {fmt(c['redis'], 3)} / {fmt(c['postgres'], 3)} | |")
    lines.append(f"| … generator / whole machine | {fmt(c['generator'], 3)} / {fmt(s['machineCpuMsPerScoredRequest'], 3)} | |")
    lines.append("")
    lines.append("Per run (measured window only; CPU in ms per answered request; *other* is machine CPU used by anything "
                 "but the four processes):")
    lines.append("")
    lines.append("| run | load | answered/s | errors | p50 ms | p99 ms | p99.9 ms | max ms | rows/commit | server | Redis | PostgreSQL | generator | other | machine | machine busy | server switches/req | apply calls/req | commits/req |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in RUNS:
        run = runs[name]
        lat = run["latencyMs"]
        if run["mode"] == "open":
            load = f"open {fmt(run['rate'], 0)}/s"
        elif run.get("streams") and "stream" in run["targetRpc"]:
            load = f"closed {run['streams']}×{run['streamWindow']}"
        else:
            load = f"closed {run['concurrency']}"
        answered = max(1, run["ok"] + run["expectedFailures"])
        other = other_cpu_seconds(run)
        machine_cpu = (run.get("cpu") or {}).get("machine") or {}
        lines.append("| " + " | ".join([
            name, load, fmt(run["throughputPerSecond"], 0), str(run["errors"]),
            fmt(lat["p50"]), fmt(lat["p99"]), fmt(lat["p99.9"]), fmt(lat["max"]),
            fmt(rows_per_commit(run), 1),
            fmt(cpu_ms(run, "server"), 3), fmt(cpu_ms(run, "redis"), 3), fmt(cpu_ms(run, "postgres"), 3),
            fmt(cpu_ms(run, "generator"), 3), fmt(None if other is None else other * 1000 / answered, 3),
            fmt(machine_cpu.get("msPerRequest"), 3),
            fmt(None if not machine_cpu else machine_cpu["utilisation"] * 100, 0, "%"),
            fmt(cpu(run, "server").get("contextSwitchesPerRequest"), 2),
            fmt((run.get("server") or {}).get("redisApplyCallsPerRequest"), 3),
            fmt((run.get("server") or {}).get("ledgerCommitsPerRequest"), 3),
        ]) + " |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", required=True)
    parser.add_argument("--machine", required=True, help="JSON description of the machine")
    parser.add_argument("--settings", default="")
    parser.add_argument("--elapsed", type=int, default=0)
    args = parser.parse_args()

    runs = load_runs(args.results)
    machine = json.loads(args.machine)
    summary, targets = summarise(runs)
    document = {
        "generatedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "elapsedSeconds": args.elapsed,
        "machine": machine,
        "settings": args.settings,
        "summary": summary,
        "targets": targets,
        "runs": runs,
    }
    with open(os.path.join(args.results, "benchmark.json"), "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
    text = markdown(runs, summary, targets, machine, args.settings, args.elapsed)
    with open(os.path.join(args.results, "benchmark.md"), "w", encoding="utf-8") as f:
        f.write(text)
    print(text)
    for name in RUNS:
        other = other_cpu_seconds(runs[name])
        busy = ((runs[name].get("cpu") or {}).get("machine") or {}).get("busySeconds")
        if other is not None and busy and other > 0.1 * busy:
            print(f"warning: during {name}, {other:.1f} s of CPU ({100 * other / busy:.0f}% of the machine's busy time) went to "
                  "other processes: the machine was not quiet", file=sys.stderr)


if __name__ == "__main__":
    main()
