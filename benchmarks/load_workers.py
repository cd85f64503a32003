"""The load phase on N workers vs one, and a paced phase at 80% of one worker's capacity, on the local
cloud: what EndpointTesterFunction reports, run after run.

    .venv/bin/python benchmarks/load_workers.py [--workers 2 --seconds 5 --rounds 3 --concurrency 4]

One LocalCloud (LoadWorkersCap = --workers) serves the good demo model on two endpoints: `bench-dev`
answers in well under a millisecond, `bench-timed-dev` in MODEL_MS (20 ms), as an endpoint on AWS does in
tens of milliseconds. Each run is an `Integration Tests Requested` event whose suite is only a load phase,
and its figures are the run's `load` result (the merged histograms of every worker). Per round:
- capacity: closed loop for `--seconds` with `--concurrency` per worker, on 1 worker and on N workers
  (which goes first alternates by round), against `bench-timed-dev`. Target: N workers reach at least
  0.8 x N times one worker's requests per second (the ratio is taken per round; its median is
  reported). The coordinator runs in the local cloud's process, beside the inference server; every
  other worker runs in a process of its own (as Lambda runs each invocation in a sandbox of its own).
  Why the timed endpoint: on AWS the endpoint has instances of its own, and what the target measures is
  the fan-out (workers started together, their histograms merged). Against `bench-dev` on this
  machine's cores the server answers every worker's requests on the cores the workers run on, so one
  worker already takes most of what the server can answer; that run is still made and shown (the same
  ratio, against `bench-dev`), to show where the server, not the fan-out, is the limit;
- schedule: one driver, the load phase (`SuiteRunner.run_load`, what each worker runs) in a process of
  its own, with `--paced-concurrency` senders: its capacity (closed loop for `--seconds`), then paced at
  80% of that rate for `--seconds`. Target, against `bench-timed-dev`: no request behind schedule (sent
  by a free sender more than the 10 ms tolerance after its due time) in the median round, as every
  figure here is the median of its rounds; each round's count is shown. A process of its own, as the
  tester has on Lambda: the local cloud runs a run's first worker in its own process, beside the
  inference server and moto's state, whose threads and garbage collections stall the driver now and
  then (lateness of the embedded cloud, not the driver's). The same against `bench-dev` is shown too:
  there the closed loop is as fast as the two cores allow the server and the driver together, and at
  80% of it both compete for the cores, so a late request there measures the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass, field
from typing import Any

from benchstats import Spread
from endpoint_load import ENDPOINT, TIMED_ENDPOINT, run_load_phase_child, serve
from mlops_core.suite_tool import write_suite
from mlops_local import LocalCloud

ENDPOINTS = (TIMED_ENDPOINT, ENDPOINT)  # the target's, then the diagnostic's
REQUEST = {"json": {"instances": [[12, 50.0, 1]]}}
SCALING_TARGET = 0.8
PACED_SHARE = 0.8


@dataclass
class WorkersComparison:
    workers: int
    seconds: float
    concurrency: int
    paced_concurrency: int
    # Per endpoint, per round, the load results: closed loop on 1 worker and on N workers; one driver's
    # closed loop with the paced concurrency, then the same driver at 80% of its rate.
    one: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    many: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    capacity: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    paced: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def scaling(self, endpoint: str = TIMED_ENDPOINT) -> list[float]:
        """Per round, (N workers' req/s) / (N x one worker's req/s) on ``endpoint``."""
        return [
            many["requests_per_second"] / (self.workers * one["requests_per_second"])
            for one, many in zip(self.one[endpoint], self.many[endpoint], strict=True)
        ]

    @property
    def scaling_met(self) -> bool:
        return statistics.median(self.scaling()) >= SCALING_TARGET

    @property
    def schedule_met(self) -> bool:
        return statistics.median(self.behind_schedule()) == 0

    def behind_schedule(self, endpoint: str = TIMED_ENDPOINT) -> list[int]:
        """Per round, the requests behind schedule at 80% of one driver's closed-loop rate on ``endpoint``."""
        return [run["behind_schedule"] for run in self.paced[endpoint]]


def run_phase(cloud: LocalCloud, load: dict[str, Any], endpoint: str = ENDPOINT) -> dict[str, Any]:
    """The load result of one requested run on ``endpoint`` whose suite is only this load phase."""
    write_suite(
        cloud.session.client("dynamodb"),
        cloud.outputs["ConfigTableName"],
        endpoint,
        {"load": {"request": REQUEST, "max_error_rate": 1.0, **load}},
        source="benchmarks/load_workers.py",
    )
    trace = cloud.send(
        {
            "source": "mlops.operator",
            "detail-type": "Integration Tests Requested",
            "detail": {"endpoint_name": endpoint, "requested_by": "benchmark"},
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
    cloud, environment = serve({"LoadWorkersCap": str(workers)})
    try:
        closed = {"duration_seconds": seconds, "concurrency": concurrency}
        for endpoint in (ENDPOINT, TIMED_ENDPOINT):
            run_phase(cloud, {"requests": 10}, endpoint)  # the model loaded, the tester warm
        for round_ in range(rounds):
            order = [1, workers] if round_ % 2 == 0 else [workers, 1]
            for endpoint in ENDPOINTS:
                done = {
                    count: run_phase(cloud, closed | ({"workers": count} if count > 1 else {}), endpoint)
                    for count in order
                }
                result.one.setdefault(endpoint, []).append(done[1])
                result.many.setdefault(endpoint, []).append(done[workers])
            for endpoint in ENDPOINTS:
                capacity = run_load_phase_child(environment, paced_concurrency, seconds, None, endpoint)
                rate = round(PACED_SHARE * capacity["result"]["requests_per_second"], 1)
                paced = run_load_phase_child(environment, paced_concurrency, seconds, rate, endpoint)
                result.capacity.setdefault(endpoint, []).append(capacity["result"])
                result.paced.setdefault(endpoint, []).append(paced["result"])
    finally:
        cloud.close()
    return result


def titled_runs(result: WorkersComparison) -> list[tuple[str, dict[str, Any]]]:
    """Every run's load result, titled by its round, endpoint and workers, in the order they ran."""
    titled = []
    for round_ in range(len(result.one[TIMED_ENDPOINT])):
        for endpoint in ENDPOINTS:
            titled += [
                (f"round {round_ + 1}, {endpoint}, 1 worker, closed loop", result.one[endpoint][round_]),
                (
                    f"round {round_ + 1}, {endpoint}, {result.workers} workers, closed loop",
                    result.many[endpoint][round_],
                ),
            ]
        for endpoint in ENDPOINTS:
            paced = result.paced[endpoint][round_]
            titled += [
                (
                    f"round {round_ + 1}, {endpoint}, one driver, closed loop",
                    result.capacity[endpoint][round_],
                ),
                (
                    f"round {round_ + 1}, {endpoint}, one driver at {paced['target_rate_per_second']:g}/s",
                    paced,
                ),
            ]
    return titled


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
    print(f"concurrency {result.concurrency} per worker, {result.seconds:g} s per run")
    print(f"{'':60}{'requests':>9}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'behind':>7}{'waited':>7}")
    for title, run in titled_runs(result):
        print(
            f"{title:60}{run['requests']:>9}{run['requests_per_second']:>9.1f}"
            f"{run['p50_ms']:>8.2f}{run['p99_ms']:>8.2f}{run['behind_schedule']:>7}"
            f"{run['waited_for_concurrency']:>7}"
        )
    scaling = Spread.of(result.scaling()).format(2, "x")
    print(
        f"{result.workers} workers / ({result.workers} x 1 worker), req/s, {TIMED_ENDPOINT}: {scaling}"
        f" (target ≥ {SCALING_TARGET:g}: {'met' if result.scaling_met else 'not met'})"
    )
    print(f"the same on {ENDPOINT}: {Spread.of(result.scaling(ENDPOINT)).format(2, 'x')}")
    for endpoint in ENDPOINTS:
        behind = result.behind_schedule(endpoint)
        print(
            f"behind schedule at {PACED_SHARE:.0%} of one driver's closed-loop rate on {endpoint} "
            f"(concurrency {result.paced_concurrency}): {behind}"
            + (
                f" (target 0: {'met' if result.schedule_met else 'not met'})"
                if endpoint == TIMED_ENDPOINT
                else ""
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
