"""Runs every benchmark several times and writes benchmarks/RESULTS.md (figures, spread, method, command).

    make bench                                        # = .venv/bin/python benchmarks/run.py
    .venv/bin/python benchmarks/run.py --runs 3 --only cold-start --only demo --output /tmp/r.md

Each benchmark module measures and returns a small dataclass; this runner repeats them, summarises each
figure as its median with its spread (min-max and interquartile range over the runs), checks it against
its target (set in the benchmark's own module), and writes the Markdown. `--runs N` sets the number of
runs of every benchmark (default: each benchmark's own, below, chosen to keep `make bench` under about
10 minutes besides its one `make test`); `--only NAME` (repeatable) runs a subset: into an output file
that exists it puts only that subset's figures and sections, in place of the ones of the same name, and
keeps the others.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cold_start
import demo_time
import deployer_api_calls
import endpoint_load
import invoker_cpu
import load_workers
import promotion_api_calls
import reaper
import test_suite_time
import watcher_poll
from benchstats import Spread, load_average, machine

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "RESULTS.md"
DEFAULT_RUNS = {
    "cold-start": 5,
    "deployer": 5,
    "promotion": 5,
    "reaper": 1,  # two fleets of 5,000 endpoints a run
    "watcher": 1,
    "load": 3,
    "invoker-cpu": 5,
    "load-workers": 3,
    "demo": 3,
    "test-suite": 1,  # several minutes a run
}
MET = {True: "met", False: "**not met**"}


class Report:
    """The Markdown being written: a summary table of every figure, then a section per benchmark. A
    figure's name stays the same from run to run (what varies, such as a rate, goes in its value), so
    that a run of some benchmarks (`--only`) replaces their figures by name."""

    def __init__(self) -> None:
        self.summary: list[tuple[str, str, str, str, str]] = []  # figure, median (spread), runs, target, met
        self.sections: list[str] = []

    def figure(self, name: str, spread: str, runs: int, target: str = "—", met: bool | None = None) -> None:
        self.summary.append((name, spread, str(runs), target, "—" if met is None else MET[met]))


def _method(module: Any) -> str:
    """A benchmark module's docstring without its title and its command block: the method."""
    paragraphs = str(module.__doc__).strip().split("\n\n")[1:]
    return "\n\n".join(p for p in paragraphs if not p.startswith("    "))


def _calls(calls: Sequence[str]) -> str:
    return ", ".join(f"{op} x{n}" if n > 1 else op for op, n in Counter(calls).items())


def _section(
    title: str, command: str, method: str, body: list[str], *, load: tuple[str, str], took: float
) -> str:
    return "\n".join(
        [
            f"## {title}",
            "",
            f"Command: `{command}`. Took {took:.0f} s; load average (1, 5, 15 min) before `{load[0]}`, "
            f"after `{load[1]}`.",
            "",
            method.strip(),
            "",
            *body,
            "",
        ]
    )


def _timed(action: Callable[[], Any]) -> tuple[Any, tuple[str, str], float]:
    before, started = load_average(), time.perf_counter()
    result = action()
    return result, (before, load_average()), time.perf_counter() - started


# ------------------------------------------------------------------------------------------ benchmarks


def _checkout(path: Path) -> str:
    """A checkout of the project by its commit (its path when it is not a git checkout)."""
    found = subprocess.run(
        ["git", "-C", str(path), "log", "-1", "--format=%h"], check=False, capture_output=True, text=True
    )
    return f"commit {found.stdout.strip()}" if found.returncode == 0 else str(path)


def bench_cold_start(report: Report, runs: int, cpu: bool = False, before: Path | None = None) -> None:
    result, load, took = _timed(lambda: cold_start.measure(runs, cpu=cpu, before=before))
    rows = [
        f"Samples: {result.clock}.",
        "",
        *([f"Before: {_checkout(before)}, measured side by side.", ""] if before else []),
        "| candidate | python | ms, median (min-max, IQR) | ratio to its `import boto3` | target |",
    ]
    rows.append("|---|---|---|---|---|")
    for candidate in result.candidates:
        ms = Spread.of(result.samples_ms[candidate.name])
        ratio = Spread.of(result.ratios(candidate.name))
        is_function = candidate.name in result.functions
        verdict = (
            f"≤ {cold_start.TARGET_RATIO}x: {MET[ratio.median <= cold_start.TARGET_RATIO]}"
            if is_function
            else ""
        )
        venv = Path(candidate.python).parents[1].name
        rows.append(
            f"| {candidate.name} | {venv} | {ms.format(0)} | "
            f"{'baseline' if candidate.name == candidate.baseline else ratio.format(2, 'x')} | {verdict} |"
        )
        if is_function:
            report.figure(
                f"cold start {candidate.name} vs `import boto3`",
                f"{ratio.format(2, 'x')}; {ms.median:.0f} ms (import and first event)",
                ms.runs,
                f"≤ {cold_start.TARGET_RATIO}x",
                ratio.median <= cold_start.TARGET_RATIO,
            )
        elif candidate.name != candidate.baseline and not candidate.name.endswith(cold_start.BEFORE):
            report.figure(
                f"cold start {candidate.name} vs its `import boto3`", ratio.format(2, "x"), ratio.runs
            )
    budget = result.budget_ms()
    body = [
        *rows,
        "",
        f"Where each function's cold start goes, in ms (the median, min-max and IQR of the rounds' "
        f"differences, each taken within one round). The budget: {cold_start.TARGET_RATIO}x "
        f"`import boto3` minus the floor's first event, what a function may add to the floor and still "
        f"meet the target: **{budget.format(0, ' ms')}**.",
        "",
        "| function | `import app` minus the floor | first event minus `import app` |",
        "|---|---|---|",
        *(
            f"| {name} | {imported.format(0)} | {first_event.format(0)} |"
            for name, imported, first_event in result.breakdown()
        ),
    ]
    size = cold_start.layer_size()
    if size is None:
        body += ["", "Built layer: not built (`make build`); no figure."]
    else:
        met = size.unzipped_mb < cold_start.TARGET_LAYER_MB
        built = datetime.fromtimestamp(size.built_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        body += [
            "",
            f"Built layer (`{size.path.relative_to(REPO)}`, built {built}): "
            f"**{size.unzipped_mb:.1f} MB unzipped** ({size.files} files, "
            f"{size.bytecode_files} of them .pyc), "
            f"{size.zipped_mb:.1f} MB zipped; "
            f"target under {cold_start.TARGET_LAYER_MB:g} MB unzipped: {MET[met]}. "
            "One measurement: the size does not vary between runs.",
        ]
        report.figure("built CoreLayer, unzipped", f"{size.unzipped_mb:.1f} MB", 1, "< 15 MB", met)
    report.sections.append(
        _section(
            "Cold start and layer size",
            f".venv/bin/python benchmarks/cold_start.py --runs {runs}{' --cpu' if cpu else ''}"
            f"{' --before PATH' if before else ''}",
            _method(cold_start),
            body,
            load=load,
            took=took,
        )
    )


def _invocation_rows(runs: list[list[deployer_api_calls.Measured]], budget: str) -> list[str]:
    rows = [
        "| invocation | status | domain calls | framework calls | handler ms, median (min-max) "
        "| domain calls (one run) |",
        "|---|---|---:|---:|---:|---|",
    ]
    for index, first in enumerate(runs[0]):
        same = [run[index] for run in runs]
        statuses = sorted({m.status for m in same})
        domain = Spread.of([len(m.domain) for m in same])
        framework = Spread.of([len(m.framework) for m in same])
        ms = Spread.of([m.duration_ms for m in same])
        rows.append(
            f"| {first.label} | {'/'.join(statuses)} | {domain.format(0)} | {framework.format(0)} | "
            f"{ms.median:.1f} ({ms.low:.1f}-{ms.high:.1f}) | {_calls(first.domain)} |"
        )
    return [*rows, "", budget]


def bench_deployer(report: Report, runs: int) -> None:
    results, load, took = _timed(lambda: [deployer_api_calls.run() for _ in range(runs)])
    shapes = {tuple((m.label, m.status) for m in run) for run in results}
    if len(shapes) != 1:
        raise RuntimeError(f"the deployer's invocations differ between runs: {shapes}")

    def plain(run: list[deployer_api_calls.Measured]) -> list[deployer_api_calls.Measured]:
        return [m for m in run if m.label.split(":")[0] in {"create", "update"} and m.status == "started"]

    worst = Spread.of([max(len(m.domain) for m in plain(run)) for run in results])
    with_framework = Spread.of([max(len(m.domain) + len(m.framework) for m in plain(run)) for run in results])
    met = worst.median <= deployer_api_calls.TARGET_DOMAIN_CALLS
    report.figure(
        "AWS calls per approval-to-deployment (plain create/update, domain)",
        worst.format(0),
        worst.runs,
        f"≤ {deployer_api_calls.TARGET_DOMAIN_CALLS}",
        met,
    )
    report.figure(
        "  the same, with the idempotency record, PutEvents and the in-service check",
        with_framework.format(0),
        worst.runs,
    )
    note = (
        f"Per approval that deploys (plain create or update): **{worst.format(0)} domain calls** "
        f"(target ≤ {deployer_api_calls.TARGET_DOMAIN_CALLS}: {MET[met]}); with the framework's calls "
        "(idempotency record, PutEvents, the in-service check's CreateSchedule) "
        f"{with_framework.format(0)}. The `SageMaker Endpoint State Change` "
        "invocation that follows each deployment (IN_SERVICE: housekeeping of old configs and models) is "
        "not counted in the target: it is listed above."
    )
    report.sections.append(
        _section(
            "AWS calls per approval-to-deployment (ModelDeployerFunction)",
            f".venv/bin/python benchmarks/deployer_api_calls.py (run by the runner in-process, {runs} runs)",
            _method(deployer_api_calls),
            _invocation_rows(results, note),
            load=load,
            took=took,
        )
    )


def bench_promotion(report: Report, runs: int) -> None:
    results, load, took = _timed(lambda: [promotion_api_calls.run().invocations for _ in range(runs)])
    shapes = {tuple((m.label, m.status) for m in run) for run in results}
    if len(shapes) != 1:
        raise RuntimeError(f"the copier's invocations differ between runs: {shapes}")
    for index, measured in enumerate(results[0]):
        domain = Spread.of([len(run[index].domain) for run in results])
        total = Spread.of([len(run[index].domain) + len(run[index].framework) for run in results])
        report.figure(
            f"AWS calls per promotion, {measured.label.split(':')[0]} "
            f"(domain; with framework {total.median:.0f})",
            domain.format(0),
            domain.runs,
        )
    note = (
        "No target is set for it. An advanced promotion is two copies (champion and challenger); the source "
        "version is described once, and each copy takes one CopyObject and three HeadObject: the copier "
        "reads "
        "the source's size and whether the target already holds it, and boto3's managed copy (s3transfer) "
        "heads the source again to choose between one CopyObject and a multipart copy. Above 8 MB "
        "(boto3's default threshold), a real model artifact takes CreateMultipartUpload, one UploadPartCopy "
        "per 8 MB part and CompleteMultipartUpload instead of the one CopyObject."
    )
    report.sections.append(
        _section(
            "AWS calls per promotion (ArtifactCopierFunction)",
            f".venv/bin/python benchmarks/promotion_api_calls.py (run by the runner in-process, {runs} runs)",
            _method(promotion_api_calls),
            _invocation_rows(results, note),
            load=load,
            took=took,
        )
    )


REAPER_FLEET = 5000


def bench_reaper(report: Report, runs: int) -> None:
    def side_by_side() -> tuple[reaper.ReaperRun, reaper.ReaperRun]:
        return reaper.measure(REAPER_FLEET, before=True), reaper.measure(REAPER_FLEET)

    pairs, load, took = _timed(lambda: [side_by_side() for _ in range(runs)])
    results = [after for _, after in pairs]
    first_before, first = pairs[0]
    finding = Spread.of([r.finding for r in results])
    per_50 = Spread.of([r.finding / (r.endpoints / reaper.ENDPOINTS_PER_FINDING_CALL) for r in results])
    met = all(r.met for r in results)
    fleet = f"{REAPER_FLEET:,}"
    report.figure(
        f"reaper on {fleet} endpoints: discovery calls",
        f"{finding.format(0)} ({per_50.median:.2f} per 50 endpoints)",
        finding.runs,
        f"≤ {first.budget} (1 per 50)",
        all(r.finding <= r.budget for r in results),
    )
    other = Spread.of([r.other_calls_per_endpoint for r in results])
    other_before = Spread.of([b.other_calls_per_endpoint for b, _ in pairs])
    ratio = Spread.of([a.other_calls_per_endpoint / b.other_calls_per_endpoint for b, a in pairs])
    total_ratio = Spread.of([sum(a.calls.values()) / sum(b.calls.values()) for b, a in pairs])
    report.figure(
        f"reaper on {fleet} endpoints: calls per endpoint besides the deletions",
        f"{other.format(2)}; before {other_before.format(2)}, after/before {ratio.format(2, 'x')}",
        other.runs,
        f"≤ {reaper.MAX_OTHER_CALLS_PER_ENDPOINT}",
        all(r.other_calls_per_endpoint <= reaper.MAX_OTHER_CALLS_PER_ENDPOINT for r in results),
    )
    deletions = Spread.of([r.deletion_calls / max(r.deleted, 1) for r in results])
    seconds = Spread.of([r.seconds for r in results])
    report.figure("reaper: deletion calls per deleted endpoint", deletions.format(1), deletions.runs)
    names = sorted(set(first_before.calls) | set(first.calls))
    rows = ["| AWS call | before (one run) | after (same fleet) |", "|---|---:|---:|"]
    rows += [f"| {name} | {first_before.calls.get(name, 0)} | {first.calls.get(name, 0)} |" for name in names]
    rows += [
        f"| **total** | {sum(first_before.calls.values())} | {sum(first.calls.values())} |",
        "",
        f"Fleet: {first.fleet}. Deleted {first.deleted}, kept {first.kept}, failed {first.failed} "
        f"(every run, before and after: {sorted({(r.deleted, r.kept, r.failed) for p in pairs for r in p})})."
        " "
        f"Discovery (Search, DescribeScalableTargets): **{finding.format(0)} calls** for {first.endpoints} "
        f"endpoints, target at most {first.budget}. Every call but the deletions: **{other.format(2)} per "
        f"endpoint** (target at most {reaper.MAX_OTHER_CALLS_PER_ENDPOINT}: {MET[met]}); before, "
        f"{other_before.format(2)}: after/before **{ratio.format(2, 'x')}**, all calls after/before "
        f"{total_ratio.format(2, 'x')}. DescribeEndpointConfig of configs of endpoints that stay: "
        f"{first.staying_configs_described} after (the unmanaged endpoints' configs, which could hold any "
        f"model), {first_before.staying_configs_described} before. The deletions themselves: "
        f"{deletions.format(1)} calls per deleted endpoint. The reaper's own time against the embedded AWS: "
        f"{seconds.format(1, ' s')}. Its control-plane bookkeeping, not counted: {first.bookkeeping}.",
    ]
    report.sections.append(
        _section(
            f"AWS calls per reaper run on {fleet} endpoints (EndpointReaperFunction)",
            f".venv/bin/python benchmarks/reaper.py --endpoints {REAPER_FLEET} [--before] "
            f"(run by the runner in-process, {runs} runs, each before and after on the same kind of fleet)",
            _method(reaper),
            rows,
            load=load,
            took=took,
        )
    )


def bench_watcher(report: Report, runs: int) -> None:
    results, load, took = _timed(lambda: [watcher_poll.measure() for _ in range(runs)])
    largest = [run[-1] for run in results]
    sizes = [poll.items for poll in results[0]]
    flat = all(len({poll.by_key_total for poll in run}) == 1 for run in results)
    by_key = Spread.of([poll.by_key_total for poll in largest])
    by_scan = Spread.of([poll.by_scan_total for poll in largest])
    report.figure(
        f"watcher poll, {sizes[-1]:,} table items: DynamoDB calls",
        f"{by_key.format(0)} (the same at {', '.join(f'{size:,}' for size in sizes)} items); "
        f"by Scan {by_scan.format(0)}",
        by_key.runs,
        "independent of the table's size",
        flat,
    )
    rows = ["| table items | by key (deployed) | by Scan (before) |", "|---:|---|---|"]
    rows += [
        f"| {poll.items:,} | {poll.by_key_total}: {poll.by_key} | {poll.by_scan_total}: {poll.by_scan} |"
        for poll in results[0]
    ]
    rows += [
        "",
        f"{watcher_poll.MLFLOW_PROJECTS} MLflow projects: one Query of the `ProjectsByRegistry` index "
        "finds them and one Query per project reads its aliases' last seen versions, at every table size "
        f"({MET[flat]}); the Scan it replaced reads the whole table, 1 MB a call.",
    ]
    report.sections.append(
        _section(
            "DynamoDB calls of an MLflow alias watcher poll by table size (MlflowAliasWatcherFunction)",
            f".venv/bin/python benchmarks/watcher_poll.py (run by the runner in-process, {runs} runs)",
            _method(watcher_poll),
            rows,
            load=load,
            took=took,
        )
    )


def _percent(spread: Spread) -> str:
    if spread.low == spread.high:
        return f"{spread.median:+.1%}"
    return f"{spread.median:+.1%} ({spread.low:+.1%} to {spread.high:+.1%})"


def _generator_rows(pairs: list[tuple[endpoint_load.Figures, endpoint_load.Figures]]) -> list[str]:
    rows = []
    for side in (0, 1):
        runs = [pair[side] for pair in pairs]

        def spread(key: str, runs: list[endpoint_load.Figures] = runs) -> str:
            values = [getattr(run, key) for run in runs if getattr(run, key) is not None]
            if not values:
                return ""
            value = Spread.of(values)
            return f"{value.median:.2f} ({value.low:.2f}-{value.high:.2f})"

        rows.append(
            f"| {runs[0].generator} | {Spread.of([r.requests for r in runs]).median:.0f} | {spread('rps')} | "
            f"{spread('p50')} | {spread('p95')} | {spread('p99')} | {spread('in_flight')} | "
            f"{spread('behind_schedule')} |"
        )
    return rows


LOAD_HEADER = [
    "| generator | requests | req/s | p50 ms | p95 ms | p99 ms | in flight at start | behind schedule |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
]


def bench_load(report: Report, runs: int, locust: str, seconds: float, concurrency: int) -> None:
    result, load, took = _timed(lambda: endpoint_load.measure(locust, concurrency, seconds, runs))
    ratio = Spread.of(result.throughput_ratios())
    report.figure(
        "load phase vs Locust, closed-loop throughput",
        ratio.format(2, "x"),
        ratio.runs,
        f"≥ {endpoint_load.THROUGHPUT_TARGET:g}x",
        result.throughput_met,
    )
    deltas = {key: Spread.of(result.latency_deltas(key)) for key, _ in endpoint_load.PERCENTILES}
    for key, delta in deltas.items():
        report.figure(
            f"load phase vs Locust, {key} at R", f"{_percent(delta)} at R = {result.rate:g} req/s", delta.runs
        )
    body = [
        f"Medians over {runs} rounds (min-max in brackets); {concurrency} users/workers, "
        f"{result.seconds:g} s a run.",
        "",
        "Closed loop (throughput):",
        "",
        *LOAD_HEADER,
        *_generator_rows(result.closed),
        "",
        f"Paced at R = {result.rate:g} req/s (half Locust's median closed-loop rate; latency):",
        "",
        *LOAD_HEADER,
        *_generator_rows(result.paced),
        "",
        f"- throughput, load phase / Locust per round: **{ratio.format(2, 'x')}**; "
        f"target ≥ {endpoint_load.THROUGHPUT_TARGET:g}x: {MET[result.throughput_met]}.",
        "- latency at R, (load phase - Locust) / Locust per round: "
        + ", ".join(f"{key} **{_percent(delta)}**" for key, delta in deltas.items())
        + " (a comparison, not the target: the ground truth below is the judge of the load phase's "
        "percentiles; the diagnostics show what Locust's own figures carry).",
    ]
    if result.truth:
        body += _truth_rows(report, result.truth, result.rate, target=True)
        body += _truth_rows(report, result.truth_fast, result.rate, target=False)
    if result.single:
        single = {key: Spread.of(_deltas(result.single, key)) for key, _ in endpoint_load.PERCENTILES}
        overhead = {
            key: Spread.of(
                [getattr(gevent, key) - getattr(plain, key) for plain, gevent in result.sequential]
            )
            for key, _ in endpoint_load.PERCENTILES
        }
        body += [
            "",
            "Diagnostics (why the percentiles differ), same server, same rounds alternation, "
            f"{max(result.seconds // 2, 1):g} s a run:",
            "",
            "One Locust user vs one load-phase worker, both paced at "
            f"{endpoint_load.SINGLE_RATE:g} req/s (no request can overlap another of the same generator):",
            "",
            *LOAD_HEADER,
            *_generator_rows(result.single),
            "",
            "One client sending request after request (closed loop, one at a time) in the same interpreter "
            "(.venv-bench), without and with gevent's monkey patching (what Locust runs under):",
            "",
            *LOAD_HEADER,
            *_generator_rows(result.sequential),
            "",
            "- one user vs one worker, (load phase - Locust) / Locust: "
            + ", ".join(f"{key} {_percent(delta)}" for key, delta in single.items())
            + ".",
            "- gevent's cost per request for one client (gevent - plain): "
            + ", ".join(f"{key} {delta.median:+.2f} ms" for key, delta in overhead.items())
            + ".",
            "",
            "Findings (computed from the figures above):",
            "",
            *_load_findings(result, single, overhead, load),
        ]
    report.sections.append(
        _section(
            "Load phase vs Locust",
            f".venv/bin/python benchmarks/endpoint_load.py --locust {os.path.relpath(locust, REPO)} "
            f"--rounds {runs} --seconds {seconds:g} --concurrency {concurrency}",
            _method(endpoint_load) + "\n\n" + LOAD_ANALYSIS.strip(),
            body,
            load=load,
            took=took,
        )
    )


def _truth_rows(report: Report, truths: list[endpoint_load.Truth], rate: float, *, target: bool) -> list[str]:
    """The paced load phase against the server's own times on one endpoint: a summary figure each
    percentile (held to the ±10% target on the timed endpoint) and a table of the rounds."""
    endpoint = truths[0].endpoint
    deltas = {key: Spread.of([t.delta(key) for t in truths]) for key, _ in endpoint_load.PERCENTILES}
    met = all(abs(delta.median) <= endpoint_load.LATENCY_TOLERANCE for delta in deltas.values())
    for key, delta in deltas.items():
        report.figure(
            f"load phase vs the server's own times + loopback, {key} at R, {endpoint}",
            f"{_percent(delta)} at R = {rate:g} req/s",
            delta.runs,
            *(("within ±10%", abs(delta.median) <= endpoint_load.LATENCY_TOLERANCE) if target else ()),
        )
    title = (
        f"Ground truth at R = {rate:g} req/s on `{endpoint}` (answers in {endpoint_load.MODEL_MS:g} ms), "
        f"{truths[0].concurrency} senders"
        if target
        else f"A diagnostic, the same on `{endpoint}` (answers under 1 ms), {truths[0].concurrency} senders"
    )
    return [
        "",
        f"{title}: the tester's percentiles (from due; from send in brackets) next to the server's service "
        "times plus the loopback cost, per round:",
        "",
        "| round | requests (served) | loopback ms | behind schedule | "
        + " | ".join(
            f"{key} tester (from send) | {key} server + loopback" for key, _ in endpoint_load.PERCENTILES
        )
        + " |",
        "|---|---:|---:|---:|" + "---:|---:|" * len(endpoint_load.PERCENTILES),
        *(
            f"| {number} | {t.requests} ({t.served}) | {t.loopback_ms:.2f} | {t.behind_schedule} | "
            + " | ".join(
                f"{t.driver[key]:.2f} ({t.driver_from_send[key]:.2f}) | {t.server[key] + t.loopback_ms:.2f}"
                for key, _ in endpoint_load.PERCENTILES
            )
            + " |"
            for number, t in enumerate(truths, 1)
        ),
        "",
        "- (tester - (server + loopback)) / (server + loopback) per round: "
        + ", ".join(f"{key} **{_percent(delta)}**" for key, delta in deltas.items())
        + (f"; target within ±10%: {MET[met]}." if target else "."),
    ]


def _load_findings(
    result: endpoint_load.LoadComparison,
    single: dict[str, Spread],
    overhead: dict[str, Spread],
    load: tuple[str, str],
) -> list[str]:
    findings = []
    worst = max(float(load[0].split()[0]), float(load[1].split()[0]))
    cores = os.cpu_count() or 1
    if worst > cores:
        findings.append(
            f"- The machine was busy with other work (1-minute load average up to {worst:.1f} on {cores} "
            "cores): every generator competed for CPU with it, which widens the spread of all figures."
        )
    locust_flight = statistics.median(p[0].in_flight or 0.0 for p in result.paced)
    load_flight = statistics.median(p[1].in_flight or 0.0 for p in result.paced)
    findings.append(
        f"- Arrival pattern at R: a Locust request started with {locust_flight:.2f} of Locust's other "
        f"requests in flight (median of rounds), a load-phase request with {load_flight:.2f}. "
        + (
            "Locust's users, paced by `constant_throughput` (their starts staggered by 1/R), still drift "
            "into step and send in bursts; the load phase spaces its requests 1/R apart. The server sees a "
            "burstier load from Locust at the same mean rate, so its requests queue more: the two do not "
            "measure the same thing."
            if locust_flight > load_flight + 0.25
            else "Both spread their requests alike."
        )
    )
    within = all(abs(delta.median) <= endpoint_load.LATENCY_TOLERANCE for delta in single.values())
    findings.append(
        f"- With one user against one worker (no bursts possible) at {endpoint_load.SINGLE_RATE:g} req/s the "
        "percentiles "
        + ("agree within 10%" if within else "still differ by more than 10%")
        + ": "
        + ", ".join(f"{key} {_percent(delta)}" for key, delta in single.items())
        + "."
    )
    plain_p50 = statistics.median(p[0].p50 for p in result.sequential)
    findings.append(
        f"- Client-side overhead: gevent's monkey-patched sockets (Locust) add "
        f"{overhead['p50'].median:+.2f} ms at p50 to a request that takes {plain_p50:.2f} ms with plain "
        "sockets (one client, closed loop), "
        f"{overhead['p99'].median:+.2f} ms at p99."
    )
    paced_rps = statistics.median(p[0].rps for p in result.paced)
    findings.append(
        f"- Offered rate: Locust's paced users achieved {paced_rps:.1f} req/s of the R = {result.rate:g} "
        f"asked ({paced_rps / result.rate:.0%}); the load phase "
        f"{statistics.median(p[1].rps for p in result.paced):.1f} req/s."
    )
    return findings


def _deltas(pairs: list[tuple[endpoint_load.Figures, endpoint_load.Figures]], key: str) -> list[float]:
    return [(getattr(load, key) - getattr(locust, key)) / getattr(locust, key) for locust, load in pairs]


LOAD_ANALYSIS = """
"In flight at start" is the mean number of the same generator's other requests still unanswered when a
request started, from the start time and latency of every request: it shows the arrival pattern each
generator really produced. Both generators time a request with `time.perf_counter()` (nanosecond
resolution on Linux) around the same boto3 call and read of the body, and the percentiles are computed
from the raw values: timer resolution and Locust's rounding play no part.
"""


# Lambda's memory sizes compared for the tester: CPU is given in proportion, 1 vCPU at 1,769 MB.
LAMBDA_MB_PER_VCPU = 1769
TESTER_MEMORY_SIZES_MB = (512, 1024, 1769, 3538)


def bench_invoker_cpu(report: Report, runs: int) -> None:
    result, load, took = _timed(lambda: invoker_cpu.measure(2000, runs))
    ratio = Spread.of(result.ratios())
    report.figure(
        "tester's invoker vs boto3, client CPU per request",
        f"{ratio.format(2, 'x')} less",
        ratio.runs,
        f"≥ {invoker_cpu.TARGET_RATIO:g}x less",
        result.met,
    )
    lean_us = statistics.median(result.cpu_us[invoker_cpu.LEAN])
    rows = ["| invoker | client CPU per request, µs | wall time per request, µs |", "|---|---:|---:|"]
    rows += [
        f"| {name} | {Spread.of(result.cpu_us[name]).format(0)} | "
        f"{Spread.of(result.wall_us[name]).format(0)} |"
        for name in (invoker_cpu.LEAN, invoker_cpu.BOTO3)
    ]
    rows += [
        "",
        f"- client CPU per request, boto3 / lean, per round: **{ratio.format(2, 'x')}**; target at least "
        f"{invoker_cpu.TARGET_RATIO:g}x (half the CPU): {MET[result.met]}.",
        "",
        "Tester memory (Lambda gives CPU in proportion to memory, one vCPU at 1,769 MB): the most requests "
        f"per second one invocation's client CPU allows, at the lean invoker's {lean_us:.0f} µs per request "
        "on this machine's cores (Lambda's arm64 cores differ: the proportion holds, not the figure):",
        "",
        "| MemorySize | vCPU | ceiling, req/s | cost of a 60 s phase (arm64, $0.0000133334 per GB-s) |",
        "|---:|---:|---:|---:|",
    ]
    for megabytes in TESTER_MEMORY_SIZES_MB:
        vcpu = megabytes / LAMBDA_MB_PER_VCPU
        # one process: its Python runs under one GIL, so more than one vCPU adds little to one invocation
        ceiling = min(vcpu, 1.0) * 1e6 / lean_us
        rows.append(
            f"| {megabytes} MB | {vcpu:.2f} | {ceiling:,.0f} | ${megabytes / 1024 * 60 * 0.0000133334:.4f} |"
        )
    rows += [
        "",
        "The tester's default is 1,769 MB: the load phase is bound by its client CPU, under one GIL, so it "
        "gets one whole vCPU; below that its ceiling falls in proportion (512 MB: 0.29 vCPU), and above it "
        "a second vCPU serves no more Python than one GIL allows: a phase that needs more runs on more "
        "workers (each an invocation with its own vCPU). Memory itself is not the limit (a few hundred "
        "buckets per histogram).",
    ]
    report.sections.append(
        _section(
            "Tester's invoker: client CPU per request, and tester memory",
            f".venv/bin/python benchmarks/invoker_cpu.py --requests 2000 --rounds {runs}",
            _method(invoker_cpu),
            rows,
            load=load,
            took=took,
        )
    )


def bench_load_workers(report: Report, runs: int) -> None:
    result, load, took = _timed(lambda: load_workers.measure(2, 5, runs, 4, 16))
    scaling, scaling_fast = Spread.of(result.scaling()), Spread.of(result.scaling(load_workers.ENDPOINT))
    report.figure(
        f"load phase on {result.workers} workers vs {result.workers} x 1 worker, closed-loop req/s, "
        f"{load_workers.TIMED_ENDPOINT}",
        scaling.format(2, "x"),
        scaling.runs,
        f"≥ {load_workers.SCALING_TARGET:g}x",
        result.scaling_met,
    )
    report.figure(
        f"  the same on {load_workers.ENDPOINT} (the server shares the cores)",
        scaling_fast.format(2, "x"),
        scaling_fast.runs,
    )
    behind = Spread.of([float(count) for count in result.behind_schedule()])
    report.figure(
        f"requests behind schedule at {load_workers.PACED_SHARE:.0%} of one driver's closed-loop rate, "
        f"{load_workers.TIMED_ENDPOINT}",
        behind.format(0),
        behind.runs,
        "0",
        result.schedule_met,
    )
    rows = [
        "| run | requests | req/s | p50 ms | p99 ms | p99 from send ms | behind schedule "
        "| waited for concurrency |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows += [
        f"| {title} | {run['requests']} | {run['requests_per_second']:.1f} | {run['p50_ms']:.2f} | "
        f"{run['p99_ms']:.2f} | {run['p99_from_send_ms']:.2f} | {run['behind_schedule']} | "
        f"{run['waited_for_concurrency']} |"
        for title, run in load_workers.titled_runs(result)
    ]
    rows += [
        "",
        f"- {result.workers} workers / ({result.workers} x 1 worker), closed-loop req/s per round, "
        f"`{load_workers.TIMED_ENDPOINT}`: **{scaling.format(2, 'x')}**; target at least "
        f"{load_workers.SCALING_TARGET:g}x: {MET[result.scaling_met]}. "
        f"The same on `{load_workers.ENDPOINT}`: {scaling_fast.format(2, 'x')} "
        "(one worker already takes most of what the server, on the same cores, answers).",
        f"- behind schedule at {load_workers.PACED_SHARE:.0%} of one driver's closed-loop rate, per round, "
        f"`{load_workers.TIMED_ENDPOINT}`: **{result.behind_schedule()}**; target 0 (median of rounds): "
        f"{MET[result.schedule_met]}. The same on `{load_workers.ENDPOINT}`: "
        f"{result.behind_schedule(load_workers.ENDPOINT)}.",
    ]
    report.sections.append(
        _section(
            "Load phase on several workers (local cloud)",
            f".venv/bin/python benchmarks/load_workers.py --workers 2 --seconds 5 --rounds {runs}",
            _method(load_workers),
            rows,
            load=load,
            took=took,
        )
    )


def bench_demo(report: Report, runs: int, baseline: str | None) -> None:
    result, load, took = _timed(lambda: demo_time.measure(runs, shlex.split(baseline) if baseline else None))
    seconds = Spread.of(result.seconds)
    report.figure("demo wall time", seconds.format(1, " s"), seconds.runs)
    lines = [f"**{seconds.format(1, ' s')}**; the demo's last line: “{result.last_line}”"]
    command = f"benchmarks/demo_time.py --runs {runs}"
    if baseline:
        ratio = Spread.of(result.ratios)
        met = ratio.median <= demo_time.TARGET_RATIO
        report.figure(
            "demo wall time / before", ratio.format(2, "x"), ratio.runs, f"≤ {demo_time.TARGET_RATIO}x", met
        )
        baseline_seconds = Spread.of(result.baseline_seconds)
        lines.append(
            f"Side by side with `{baseline}`: {baseline_seconds.format(1, ' s')}; ratio (this / that, "
            f"pair by pair) **{ratio.format(2, 'x')}**; target at most {demo_time.TARGET_RATIO}x: {MET[met]}."
        )
        command += f" --vs {shlex.quote(baseline)}"
    report.sections.append(
        _section(
            "Demo wall time",
            f"{shlex.join(['.venv/bin/python', *demo_time.COMMAND[1:]])} (= make demo), "
            f"{runs} runs ({command})",
            _method(demo_time),
            lines,
            load=load,
            took=took,
        )
    )


def bench_test_suite(report: Report, runs: int) -> None:
    result, load, took = _timed(lambda: test_suite_time.measure(runs))
    seconds = Spread.of(result.seconds)
    target = test_suite_time.TARGET_SECONDS
    met = seconds.median <= target
    report.figure(
        "make test wall time, warm", seconds.format(0, " s"), seconds.runs, f"≤ {target:.0f} s", met
    )
    report.sections.append(
        _section(
            "Test suite wall time",
            f"{shlex.join(test_suite_time.COMMAND)}, {runs} "
            f"run{'s' if runs > 1 else ''} (benchmarks/test_suite_time.py --runs {runs})",
            _method(test_suite_time),
            [f"**{seconds.format(0, ' s')}** ({result.summary}); target at most {target:.0f} s: {MET[met]}."],
            load=load,
            took=took,
        )
    )


# ------------------------------------------------------------------------------------------ the file


def write(report: Report, arguments: argparse.Namespace, started: datetime, load: tuple[str, str]) -> str:
    facts = machine()
    command = (
        "make bench"
        if sys.argv[1:] == []
        else shlex.join([".venv/bin/python", "benchmarks/run.py", *sys.argv[1:]])
    )
    lines = [
        "# Benchmark results",
        "",
        f"Written by `benchmarks/run.py` (`{command}`); do not edit by hand. "
        f"Taken {started:%Y-%m-%d %H:%M} UTC on {facts['machine']}, "
        f"{facts['cores']} cores (shared with other work while it ran), Python "
        f"{facts['python']}; load average (1, 5, 15 min) `{load[0]}` before and `{load[1]}` after. Runs per "
        f"benchmark: {', '.join(f'{name} {runs}' for name, runs in arguments.plan.items())}. Every figure is "
        "the median of its runs with the spread: min-max and, where the runs differ, the interquartile range "
        "(IQR); a ratio is taken within one run (side by side), then summarised.",
        "",
        "| figure | median (min-max, IQR) | runs | target | |",
        "|---|---|---:|---|---|",
        *(f"| {' | '.join(row)} |" for row in report.summary),
        "",
        *report.sections,
    ]
    return "\n".join(lines).rstrip() + "\n"


def merged(existing: str, report: Report, note: str) -> str:
    """`existing` with `report`'s figures and sections in place of those of the same name (new ones
    appended), and `note` (what was updated, when) added to its first paragraph."""
    head, _, rest = existing.partition("\n## ")
    sections = {part.split("\n", 1)[0]: f"## {part.rstrip()}\n" for part in rest.split("\n## ") if rest}
    for section in report.sections:
        sections[section.split("\n", 1)[0].removeprefix("## ")] = section.rstrip() + "\n"
    lines = head.rstrip().split("\n")
    new_rows = {row[0]: f"| {' | '.join(row)} |" for row in report.summary}
    for index, line in enumerate(lines):
        name = line.split(" | ", 1)[0].removeprefix("| ")
        if name in new_rows:
            lines[index] = new_rows.pop(name)
    last_row = max(index for index, line in enumerate(lines) if line.startswith("|"))
    lines[last_row + 1 : last_row + 1] = list(new_rows.values())
    intro = next(index for index, line in enumerate(lines) if line.startswith("Written by"))
    lines[intro] += f" {note}"
    return "\n".join([*lines, "", *sections.values()]).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="runs (rounds) of every benchmark; default: each its own")
    parser.add_argument("--only", action="append", choices=list(DEFAULT_RUNS), help="run only these")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--locust", default=str(REPO / ".venv-bench" / "bin" / "locust"))
    parser.add_argument("--load-seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--demo-vs", help="a baseline demo command the demo is timed beside (demo_time.py --vs)"
    )
    parser.add_argument(
        "--cpu-time", action="store_true", help="cold start: the candidates' CPU time, not wall time"
    )
    parser.add_argument(
        "--cold-start-before", type=Path, help="cold start: another checkout's functions, side by side"
    )
    arguments = parser.parse_args()
    chosen = arguments.only or list(DEFAULT_RUNS)
    arguments.plan = {name: arguments.runs or DEFAULT_RUNS[name] for name in DEFAULT_RUNS if name in chosen}
    benchmarks: dict[str, Callable[[Report, int], None]] = {
        "cold-start": lambda report, runs: bench_cold_start(
            report, runs, arguments.cpu_time, arguments.cold_start_before
        ),
        "deployer": bench_deployer,
        "promotion": bench_promotion,
        "reaper": bench_reaper,
        "watcher": bench_watcher,
        "load": lambda report, runs: bench_load(
            report, runs, arguments.locust, arguments.load_seconds, arguments.concurrency
        ),
        "invoker-cpu": bench_invoker_cpu,
        "load-workers": bench_load_workers,
        "demo": lambda report, runs: bench_demo(report, runs, arguments.demo_vs),
        "test-suite": bench_test_suite,
    }
    report = Report()
    started, before = datetime.now(UTC), load_average()
    for name, runs in arguments.plan.items():
        print(f"{datetime.now(UTC):%H:%M:%S} {name}: {runs} runs", flush=True)
        benchmarks[name](report, runs)
    if arguments.only and arguments.output.exists():
        note = (
            f"`{shlex.join(['benchmarks/run.py', *sys.argv[1:]])}` updated {', '.join(arguments.plan)} on "
            f"{started:%Y-%m-%d %H:%M} UTC (load average before `{before}`, after `{load_average()}`)."
        )
        text = merged(arguments.output.read_text(), report, note)
    else:
        text = write(report, arguments, started, (before, load_average()))
    arguments.output.write_text(text)
    print(text)
    print(f"written to {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
