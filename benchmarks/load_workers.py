"""The load phase on N workers vs one, and a paced phase at 80% of one worker's capacity, on the local
cloud: what EndpointTesterFunction reports, run after run.

    .venv/bin/python benchmarks/load_workers.py [--workers 2 --seconds 5 --rounds 3 --concurrency 4]

One LocalCloud (LoadWorkersCap = --workers) serves the good demo model on endpoint `bench-dev`; each run
is an `Integration Tests Requested` event whose suite is only a load phase, and its figures are the
run's `load` result (the merged histograms of every worker). Per round:
- capacity: closed loop for `--seconds` with `--concurrency` per worker, on 1 worker and on N workers
  (which goes first alternates by round). Target: N workers reach at least 0.8 x N times one worker's
  requests per second (the ratio is taken per round; its median is reported). The coordinator runs in
  the local cloud's process, beside the inference server; every other worker runs in a process of its
  own (as Lambda runs each invocation in a sandbox of its own);
- schedule: one worker paced at 80% of its closed-loop rate of that round, for `--seconds`, with
  `--paced-concurrency` in flight at most (room for the endpoint's slow answers, so that what is
  measured is the driver's lateness). Target: no request behind schedule (sent by a free sender more
  than the 10 ms tolerance after its due time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass, field
from typing import Any

from benchstats import Spread
from mlops_core.suite_tool import write_suite
from mlops_local import LocalCloud
from mlops_local.demo_model import GOOD_MODEL, register_demo_version

ENDPOINT = "bench-dev"
REQUEST = {"json": {"instances": [[12, 50.0, 1]]}}
SCALING_TARGET = 0.8
PACED_SHARE = 0.8


@dataclass
class WorkersComparison:
    workers: int
    seconds: float
    concurrency: int
    paced_concurrency: int
    one: list[dict[str, Any]] = field(default_factory=list)  # the load result of each round
    many: list[dict[str, Any]] = field(default_factory=list)
    paced: list[dict[str, Any]] = field(default_factory=list)

    def scaling(self) -> list[float]:
        """Per round, (N workers' req/s) / (N x one worker's req/s)."""
        return [
            many["requests_per_second"] / (self.workers * one["requests_per_second"])
            for one, many in zip(self.one, self.many, strict=True)
        ]

    @property
    def scaling_met(self) -> bool:
        return statistics.median(self.scaling()) >= SCALING_TARGET

    @property
    def schedule_met(self) -> bool:
        return all(run["behind_schedule"] == 0 for run in self.paced)


def serve(workers: int) -> LocalCloud:
    cloud = LocalCloud(parameters={"LoadWorkersCap": str(workers)}).open()
    arn = register_demo_version(cloud.session, ENDPOINT, GOOD_MODEL)
    cloud.settle()
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    cloud.settle()
    return cloud


def run_phase(cloud: LocalCloud, load: dict[str, Any]) -> dict[str, Any]:
    """The load result of one requested run whose suite is only this load phase."""
    write_suite(
        cloud.session.client("dynamodb"),
        cloud.outputs["ConfigTableName"],
        ENDPOINT,
        {"load": {"request": REQUEST, "max_error_rate": 1.0, **load}},
        source="benchmarks/load_workers.py",
    )
    trace = cloud.send(
        {
            "source": "mlops.operator",
            "detail-type": "Integration Tests Requested",
            "detail": {"endpoint_name": ENDPOINT, "requested_by": "benchmark"},
        },
        bus=cloud.outputs["EventBusName"],
    )
    [completed] = trace.events(detail_type="Integration Tests Completed")
    result: dict[str, Any] = completed["detail"]["load"]
    return result


def measure(
    workers: int = 2, seconds: float = 5, rounds: int = 3, concurrency: int = 4, paced_concurrency: int = 16
) -> WorkersComparison:
    result = WorkersComparison(workers, seconds, concurrency, paced_concurrency)
    cloud = serve(workers)
    try:
        closed = {"duration_seconds": seconds, "concurrency": concurrency}
        run_phase(cloud, {"requests": 10})  # the model loaded, the tester warm
        for round_ in range(rounds):
            runs = {
                1: lambda: run_phase(cloud, closed),
                workers: lambda: run_phase(cloud, closed | {"workers": workers}),
            }
            order = [1, workers] if round_ % 2 == 0 else [workers, 1]
            done = {count: runs[count]() for count in order}
            result.one.append(done[1])
            result.many.append(done[workers])
            rate = round(PACED_SHARE * done[1]["requests_per_second"], 1)
            paced = {"duration_seconds": seconds, "concurrency": paced_concurrency, "rate_per_second": rate}
            result.paced.append(run_phase(cloud, paced))
    finally:
        cloud.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--paced-concurrency", type=int, default=16)
    arguments = parser.parse_args()
    result = measure(
        arguments.workers,
        arguments.seconds,
        arguments.rounds,
        arguments.concurrency,
        arguments.paced_concurrency,
    )
    print(f"endpoint {ENDPOINT}, concurrency {result.concurrency} per worker, {result.seconds:g} s per run")
    print(f"{'':44}{'requests':>9}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'behind':>7}{'waited':>7}")
    for round_, (one, many, paced) in enumerate(zip(result.one, result.many, result.paced, strict=True), 1):
        for title, run in (
            ("1 worker, closed loop", one),
            (f"{result.workers} workers, closed loop", many),
            (f"1 worker at {paced['target_rate_per_second']:g} req/s", paced),
        ):
            print(
                f"{f'round {round_}, {title}':44}{run['requests']:>9}{run['requests_per_second']:>9.1f}"
                f"{run['p50_ms']:>8.2f}{run['p99_ms']:>8.2f}{run['behind_schedule']:>7}"
                f"{run['waited_for_concurrency']:>7}"
            )
    scaling = Spread.of(result.scaling()).format(2, "x")
    print(
        f"{result.workers} workers / ({result.workers} x 1 worker), req/s: {scaling}"
        f" (target ≥ {SCALING_TARGET:g}: {'met' if result.scaling_met else 'not met'})"
    )
    behind = [run["behind_schedule"] for run in result.paced]
    print(
        f"behind schedule at {PACED_SHARE:.0%} of one worker's rate "
        f"(concurrency {result.paced_concurrency}): "
        f"{behind} (target 0: {'met' if result.schedule_met else 'not met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
