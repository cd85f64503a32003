"""The endpoint tester's load phase vs Locust, against the same local inference server endpoint.

    .venv/bin/python benchmarks/endpoint_load.py --locust .venv-bench/bin/locust \\
        [--rounds 3 --seconds 10 --concurrency 4]          # or: make bench-load (make bench runs it too)

Three processes, so that neither load generator shares an interpreter (and its GIL) with the server:
1. this script opens a LocalCloud, deploys the good demo model to endpoint `bench-dev` (through the
   real approval → deployer → InService path) and keeps serving it;
2. Locust (headless, `-u/-r` = `--concurrency`, `--run-time` = `--seconds`) with benchmarks/locustfile.py,
   whose users call the endpoint through boto3's sagemaker-runtime client;
3. the load phase (`SuiteRunner.run_load`, exactly what EndpointTesterFunction runs) in a child
   process, `--concurrency` senders for `--seconds`, through the tester's own invoker.
All reach the server through AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, one run after the other, on the same
cores. Two experiments, each `--rounds` rounds; in every round both generators run back to back, and
which one goes first alternates from round to round, so each ratio is taken side by side:
- throughput, closed loop: Locust's users with no wait, the load phase with no `rate_per_second`, same
  concurrency. Target: the load phase does at least 1.5x Locust's requests per second (the ratio is
  taken per round; its median is reported). The load phase sends through the tester's own invoker
  (SigV4-signed HTTP over one pool of kept-alive connections); Locust's users through boto3, as AWS's
  examples do.
- latency at equal offered load, open loop: a rate both sustain with room to spare, R = half of
  Locust's median closed-loop rate. Locust's users are paced by `constant_throughput` (R / concurrency
  each) and their starts staggered by 1/R (the same arrival pattern as the load phase's schedule, not
  users in step sending in bursts), the load phase runs at `rate_per_second` = R, same concurrency.
  A comparison (the difference is taken per round; its median is reported), not the target: Locust's
  figures carry its own client's overhead, which the diagnostics measure.

- ground truth: the inference server records when each request arrived and how long it took to answer
  (`LocalCloud.recording_inference`). The loopback cost (client, sockets, HTTP) is measured first:
  one request at a time at 50 req/s for 3 s, the median of the driver's latency minus the server's
  time, request by request. Then the load phase runs at R while the server records. Target: the
  tester's p50/p95/p99 (from due) within 10% of the server's percentiles plus the loopback cost, on
  `bench-timed-dev`: the same model answering in MODEL_MS (20 ms), as an endpoint on AWS answers in
  tens of milliseconds (the model, SageMaker's overhead, the network), with TIMED_CONCURRENCY (16)
  senders (R x 20 ms in flight, and room). The same run against `bench-dev` (sub-millisecond answers,
  `--concurrency` senders) is shown as a diagnostic: there 10% is a few hundred microseconds, less
  than either process waits for a core on a machine whose two cores the server and the driver share.

Fair by construction: the server is warmed once (one request loads the model) before any run, and no
load generator gets a warm-up of its own (Locust spawns every user at once, and its stats are not
reset). Every raw latency is recorded, and the percentiles of all runs are computed here with the same
nearest-rank function (Locust's own CSV rounds response times to whole milliseconds). Requests per
second are requests / measured seconds for all.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchstats import Spread
from mlops_core.integration_tests.tester import percentile
from mlops_local import LocalCloud
from mlops_local.demo_model import GOOD_MODEL, register_demo_version

REPO = Path(__file__).resolve().parents[1]
ENDPOINT = "bench-dev"
# The ground truth's endpoint (the module's text says why): the same model, answering in MODEL_MS, with
# TIMED_CONCURRENCY senders at R (R x MODEL_MS in flight, and room for slow answers).
MODEL_MS = 20.0
TIMED_ENDPOINT = "bench-timed-dev"
TIMED_CONCURRENCY = 16
BODY = json.dumps({"instances": [[12, 50.0, 1]]})
PERCENTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
LATENCY_TOLERANCE = 0.10
CALIBRATION_RATE = 50.0  # one request at a time, well apart: the loopback cost without queueing
CALIBRATION_SECONDS = 3.0
THROUGHPUT_TARGET = 1.5
LOCUST = "Locust"
LOAD_PHASE = "load phase"
LOAD_PHASE_CHILD = """
import json, sys, time
from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.sagemaker_runtime_http import SignedHttpInvoker
from mlops_core.integration_tests.tester import SuiteRunner
from mlops_core.integration_tests.suites import LoadPhase
rate = {"rate_per_second": float(sys.argv[4])} if sys.argv[4] else {}
phase = LoadPhase.model_validate({"request": {"json": {"instances": [[12, 50.0, 1]]}},
    "duration_seconds": float(sys.argv[2]), "concurrency": int(sys.argv[1]), "max_error_rate": 1.0, **rate})
invoker = SignedHttpInvoker.build(ClientFactory())
records = []
class Recording:  # (start, latency) of what run_load sees, kept raw (list.append is atomic under the GIL)
    def invoke(self, endpoint_name, request, *, timeout_seconds):
        started = time.perf_counter()
        response = invoker.invoke(endpoint_name, request, timeout_seconds=timeout_seconds)
        records.append((started, response.latency_ms))
        return response
runner = SuiteRunner(Recording(), remaining_ms=lambda: 10**9)
result = runner.run_load(sys.argv[3], phase)
print(json.dumps({"result": result.model_dump(mode="json"),
    "latencies_ms": [latency for _, latency in records], "starts": [start for start, _ in records]}))
"""
# One client, one request at a time, for `seconds`: with gevent's monkey patching (as in Locust) or
# without (plain blocking sockets, as in the load phase's threads), in the same interpreter (.venv-bench).
SEQUENTIAL_CHILD = """
import sys
if sys.argv[1] == "gevent":
    from gevent import monkey
    monkey.patch_all()
import json, os, time
import boto3
from botocore.config import Config
client = boto3.session.Session().client(
    "sagemaker-runtime", config=Config(retries={"mode": "standard", "max_attempts": 1}))
body = json.dumps({"instances": [[12, 50.0, 1]]})
def one():
    started = time.perf_counter()
    client.invoke_endpoint(EndpointName=os.environ["ENDPOINT_NAME"], Body=body,
        ContentType="application/json")["Body"].read()
    return (time.perf_counter() - started) * 1000
one()  # the connection, as each generator's first request makes it
latencies, began = [], time.perf_counter()
while time.perf_counter() - began < float(sys.argv[2]):
    latencies.append(one())
print(json.dumps({"latencies_ms": latencies, "elapsed_seconds": time.perf_counter() - began}))
"""
SINGLE_RATE = 200.0  # the diagnostic's paced rate with one user / one worker
SEQUENTIAL_MODES = ("plain", "gevent")


@dataclass(frozen=True)
class Figures:
    """One run of one generator."""

    generator: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    behind_schedule: int | None = None  # the paced load phase's requests that started late
    in_flight: float | None = None  # mean number of the generator's other requests in flight at a start


@dataclass(frozen=True)
class Truth:
    """One paced run of the load phase against what the inference server saw of it."""

    endpoint: str
    concurrency: int
    loopback_ms: float  # client and loopback cost of a request: driver latency - server service time
    driver: dict[str, float]  # the tester's p50/p95/p99 (from due)
    driver_from_send: dict[str, float]
    server: dict[str, float]  # the server's service time percentiles
    behind_schedule: int
    requests: int
    served: int

    def delta(self, key: str) -> float:
        """(driver - (server + loopback)) / (server + loopback) at percentile ``key``."""
        expected = self.server[key] + self.loopback_ms
        return (self.driver[key] - expected) / expected


@dataclass
class LoadComparison:
    concurrency: int
    seconds: float
    rounds: int
    closed: list[tuple[Figures, Figures]] = field(default_factory=list)  # (Locust, load phase) per round
    paced: list[tuple[Figures, Figures]] = field(default_factory=list)
    rate: float = 0.0  # R, the paced experiment's requests per second
    # Diagnostics: one Locust user vs one load-phase worker at SINGLE_RATE (no bursts possible), and
    # one client sending request after request with and without gevent (the client's own overhead).
    single: list[tuple[Figures, Figures]] = field(default_factory=list)
    sequential: list[tuple[Figures, Figures]] = field(default_factory=list)  # (plain, gevent) per round
    truth: list[Truth] = field(default_factory=list)  # the paced load phase vs the server, per round
    truth_fast: list[Truth] = field(default_factory=list)  # the same on bench-dev (sub-millisecond answers)

    def throughput_ratios(self) -> list[float]:
        return [load.rps / locust.rps for locust, load in self.closed]

    def latency_deltas(self, key: str) -> list[float]:
        """Per round, (load phase - Locust) / Locust of percentile `key`, at rate R."""
        return [
            (getattr(load, key) - getattr(locust, key)) / getattr(locust, key) for locust, load in self.paced
        ]

    @property
    def throughput_met(self) -> bool:
        return statistics.median(self.throughput_ratios()) >= THROUGHPUT_TARGET

    @property
    def latency_met(self) -> bool:
        """The paced percentiles on the timed endpoint within LATENCY_TOLERANCE of the ground truth."""
        return all(
            abs(statistics.median(truth.delta(key) for truth in self.truth)) <= LATENCY_TOLERANCE
            for key, _ in PERCENTILES
        )


def warm_up_server(environment: dict[str, str]) -> None:
    """One request per endpoint, so the server has loaded the models before any load generator starts."""
    import boto3  # noqa: PLC0415

    client = boto3.session.Session().client(
        "sagemaker-runtime", endpoint_url=environment["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"]
    )
    for endpoint in (ENDPOINT, TIMED_ENDPOINT):
        answer = client.invoke_endpoint(EndpointName=endpoint, Body=BODY, ContentType="application/json")
        answer["Body"].read()


def mean_in_flight(starts: list[float], latencies_ms: list[float]) -> float | None:
    """How many of the same generator's requests were in flight, on average, when a request started:
    0 for evenly spaced requests at a low rate, up to concurrency - 1 for requests sent in bursts."""
    if not starts:
        return None
    ends: list[float] = []
    total = 0
    for start, latency in sorted(zip(starts, latencies_ms, strict=True)):
        while ends and ends[0] <= start:
            heapq.heappop(ends)
        total += len(ends)
        heapq.heappush(ends, start + latency / 1000)
    return total / len(starts)


def figures(
    generator: str,
    latencies: list[float],
    elapsed_seconds: float,
    failures: int,
    *,
    behind: int | None = None,
    starts: list[float] | None = None,
) -> Figures:
    ordered = sorted(latencies)
    p50, p95, p99 = (percentile(ordered, fraction) or 0.0 for _, fraction in PERCENTILES)
    in_flight = mean_in_flight(starts, latencies) if starts else None
    return Figures(
        generator, len(ordered), failures, len(ordered) / elapsed_seconds, p50, p95, p99, behind, in_flight
    )


def serve(parameters: dict[str, str] | None = None) -> tuple[LocalCloud, dict[str, str]]:
    """A LocalCloud (with the stack's ``parameters``) serving ENDPOINT and TIMED_ENDPOINT, deployed through
    the approval → deployer → InService path, and the environment of a child process that calls them."""
    cloud = LocalCloud(parameters=parameters).open()
    for endpoint, model in ((ENDPOINT, GOOD_MODEL), (TIMED_ENDPOINT, {**GOOD_MODEL, "latency_ms": MODEL_MS})):
        arn = register_demo_version(cloud.session, endpoint, model)
        cloud.settle()
        cloud.session.client("sagemaker").update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus="Approved"
        )
        cloud.settle()
        status = cloud.session.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
        if status != "InService":
            raise RuntimeError(f"{endpoint} is {status}, not InService")
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("AWS_ENDPOINT_URL")
    } | {
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": cloud.sagemaker_runtime_url,
        "ENDPOINT_NAME": ENDPOINT,
        "PYTHONPATH": os.pathsep.join([str(REPO / "layers" / "mlops_core"), str(REPO / "local")]),
    }
    return cloud, environment


def run_load_phase(
    environment: dict[str, str], concurrency: int, seconds: float, rate: float | None = None
) -> Figures:
    """The load phase's figures; paced at ``rate`` requests per second when given (open loop)."""
    child = run_load_phase_child(environment, concurrency, seconds, rate)
    result = child["result"]
    return figures(
        LOAD_PHASE,
        child["latencies_ms"],
        result["duration_seconds"],
        result["errors"],
        behind=result["behind_schedule"],
        starts=child["starts"],
    )


def run_load_phase_child(
    environment: dict[str, str],
    concurrency: int,
    seconds: float,
    rate: float | None,
    endpoint: str = ENDPOINT,
) -> dict[str, Any]:
    """The child's output: the load result as the tester reports it, and every raw latency and start."""
    output = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_PHASE_CHILD,
            str(concurrency),
            str(seconds),
            endpoint,
            "" if rate is None else repr(rate),
        ],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    child: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return child


def ground_truth(
    cloud: LocalCloud,
    environment: dict[str, str],
    concurrency: int,
    seconds: float,
    rate: float,
    *,
    endpoint: str = TIMED_ENDPOINT,
) -> Truth:
    """The paced load phase's percentiles next to the server's, on ``endpoint``: loopback cost first (one
    request at a time at CALIBRATION_RATE: the median of the driver's latency minus the server's service
    time, request by request), then the phase at ``rate`` while the server records every request."""
    with cloud.recording_inference() as served:
        calibration = run_load_phase_child(environment, 1, CALIBRATION_SECONDS, CALIBRATION_RATE, endpoint)
    pairs = zip(calibration["latencies_ms"], [r.service_ms for r in served], strict=False)
    loopback = statistics.median(driver - server for driver, server in pairs)
    with cloud.recording_inference() as served:
        paced = run_load_phase_child(environment, concurrency, seconds, rate, endpoint)["result"]
    service = sorted(r.service_ms for r in served)
    server = {key: (percentile(service, fraction) or 0.0) for key, fraction in PERCENTILES}
    return Truth(
        endpoint=endpoint,
        concurrency=concurrency,
        loopback_ms=loopback,
        driver={key: paced[f"{key}_ms"] for key, _ in PERCENTILES},
        driver_from_send={key: paced[f"{key}_from_send_ms"] for key, _ in PERCENTILES},
        server=server,
        behind_schedule=paced["behind_schedule"],
        requests=paced["requests"],
        served=len(service),
    )


def run_locust(
    locust: str, environment: dict[str, str], concurrency: int, seconds: float, rate: float | None = None
) -> Figures:
    """Locust's figures from its raw latencies; closed loop, or paced at ``rate`` in all (open loop)."""
    with tempfile.TemporaryDirectory() as directory:
        prefix = Path(directory) / "locust"
        raw_file = Path(directory) / "latencies.json"
        user_rate = "" if rate is None else repr(rate / concurrency)
        finished = subprocess.run(
            [
                locust,
                "-f",
                str(REPO / "benchmarks" / "locustfile.py"),
                "--headless",
                "-u",
                str(concurrency),
                "-r",
                str(concurrency * 1000),  # every user at once: no ramp-up the load phase does not have
                "--run-time",
                f"{int(seconds)}s",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env=environment
            | {
                "LATENCIES_FILE": str(raw_file),
                "USER_RATE_PER_SECOND": user_rate,
                "USER_STAGGER_SECONDS": "" if rate is None else repr(1 / rate),
            },
            capture_output=True,
            text=True,
            check=False,  # a failed run is reported below, with Locust's own output
        )
        with open(f"{prefix}_stats.csv") as stats:
            rows = [r for r in csv.DictReader(stats) if r["Name"] == ENDPOINT]
        if not rows:
            raise RuntimeError(f"Locust recorded no request:\n{finished.stdout}\n{finished.stderr}")
        [row] = rows
        raw = json.loads(raw_file.read_text())
    return figures(
        LOCUST, raw["latencies_ms"], raw["elapsed_seconds"], int(row["Failure Count"]), starts=raw["starts"]
    )


def run_sequential(python: str, environment: dict[str, str], mode: str, seconds: float) -> Figures:
    output = subprocess.run(
        [python, "-c", SEQUENTIAL_CHILD, mode, str(seconds)],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    child = json.loads(output.strip().splitlines()[-1])
    return figures(f"one client, {mode}", child["latencies_ms"], child["elapsed_seconds"], 0)


def _side_by_side(
    round_: int,
    *,
    locust: str,
    environment: dict[str, str],
    concurrency: int,
    seconds: float,
    rate: float | None,
) -> tuple[Figures, Figures]:
    """Both generators once, Locust first in even rounds, the load phase first in odd ones."""
    runs = {
        LOCUST: lambda: run_locust(locust, environment, concurrency, seconds, rate),
        LOAD_PHASE: lambda: run_load_phase(environment, concurrency, seconds, rate),
    }
    order = [LOCUST, LOAD_PHASE] if round_ % 2 == 0 else [LOAD_PHASE, LOCUST]
    done = {name: runs[name]() for name in order}
    return done[LOCUST], done[LOAD_PHASE]


def measure(
    locust: str, concurrency: int = 4, seconds: float = 10, rounds: int = 3, diagnose: bool = True
) -> LoadComparison:
    seconds = float(int(seconds))  # Locust's --run-time is whole seconds: the same for all
    result = LoadComparison(concurrency, seconds, rounds)
    bench_python = str(Path(locust).parent / "python")
    cloud, environment = serve()
    try:
        warm_up_server(environment)
        setup = {"locust": locust, "environment": environment}
        for round_ in range(rounds):
            result.closed.append(
                _side_by_side(round_, **setup, concurrency=concurrency, seconds=seconds, rate=None)
            )
        result.rate = round(statistics.median(pair[0].rps for pair in result.closed) / 2, 1)
        for round_ in range(rounds):
            result.paced.append(
                _side_by_side(round_, **setup, concurrency=concurrency, seconds=seconds, rate=result.rate)
            )
        for _ in range(rounds):
            result.truth.append(ground_truth(cloud, environment, TIMED_CONCURRENCY, seconds, result.rate))
            result.truth_fast.append(
                ground_truth(cloud, environment, concurrency, seconds, result.rate, endpoint=ENDPOINT)
            )
        if diagnose:
            short = max(seconds // 2, 1.0)
            for round_ in range(rounds):
                result.single.append(
                    _side_by_side(round_, **setup, concurrency=1, seconds=short, rate=SINGLE_RATE)
                )
                modes = SEQUENTIAL_MODES if round_ % 2 == 0 else SEQUENTIAL_MODES[::-1]
                done = {mode: run_sequential(bench_python, environment, mode, short) for mode in modes}
                result.sequential.append((done["plain"], done["gevent"]))
    finally:
        cloud.close()
    return result


def rows(result: LoadComparison) -> list[tuple[str, Figures]]:
    """Every run, titled by its experiment and round, in the order of the experiments."""
    experiments = (
        ("closed loop", result.closed),
        (f"at {result.rate:g} req/s", result.paced),
        (f"1 user/worker at {SINGLE_RATE:g} req/s", result.single),
        ("one client, closed loop", result.sequential),
    )
    return [
        (f"{title}, round {round_}", run)
        for title, pairs in experiments
        for round_, pair in enumerate(pairs, 1)
        for run in pair
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locust", default=str(REPO / ".venv-bench" / "bin" / "locust"))
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-diagnose", action="store_true", help="skip the one-user and one-client runs")
    arguments = parser.parse_args()
    result = measure(
        arguments.locust,
        arguments.concurrency,
        arguments.seconds,
        arguments.rounds,
        not arguments.no_diagnose,
    )
    print(f"endpoint {ENDPOINT}, concurrency {result.concurrency}, {result.seconds:g} s per run")
    print(
        f"{'':60}{'requests':>9}{'req/s':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'in flight':>10}{'behind':>7}"
    )
    for title, run in rows(result):
        print(
            f"{f'{title}, {run.generator}':60}{run.requests:>9}{run.rps:>9.1f}"
            f"{run.p50:>8.2f}{run.p95:>8.2f}{run.p99:>8.2f}"
            + (f"{run.in_flight:>10.2f}" if run.in_flight is not None else f"{'':>10}")
            + (f"{run.behind_schedule:>7}" if run.behind_schedule is not None else "")
        )
    ratio = Spread.of(result.throughput_ratios()).format(2, "x")
    print(
        f"closed-loop req/s, load phase / Locust: {ratio} ({'met' if result.throughput_met else 'not met'})"
    )
    for key, _ in PERCENTILES:
        print(
            f"{key} at {result.rate:g} req/s, load phase vs Locust: "
            f"{Spread.of(result.latency_deltas(key)).format(3)}"
        )
    for truths in (result.truth, result.truth_fast):
        for key, _ in PERCENTILES:
            deltas = [truth.delta(key) for truth in truths]
            print(
                f"{key} at {result.rate:g} req/s on {truths[0].endpoint}, load phase vs server + loopback: "
                f"{Spread.of(deltas).format(3)}"
            )
    print(f"ground truth on {TIMED_ENDPOINT} (within ±10%): {'met' if result.latency_met else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
