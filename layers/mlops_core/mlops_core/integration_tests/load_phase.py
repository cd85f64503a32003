"""The load phase's engine: sends a phase's requests (all of them, or one worker's share) and tallies
what it measured in mergeable histograms; :func:`load_result` holds the tally to the phase's budgets.

Open loop (``rate_per_second``): request ``i`` is due at ``start + i / rate_per_second``, whoever
answers when; a free sender (one of ``concurrency`` threads) takes the next request, waits for its
due time and sends it. Each request
is timed twice: from its due time (what a client arriving on that schedule would have waited: the
figure the budgets hold, free of coordinated omission) and from when it was sent (the endpoint's
answer alone). A request can start after its due time for two reasons, told apart:

- every sender was busy (``concurrency`` requests in flight) when it fell due: the endpoint did not
  keep up at that concurrency. It is counted in ``waited_for_concurrency`` and its wait is in its
  latency from due; more than :data:`BEHIND_SCHEDULE_TOLERANCE` of the requests waiting fails the phase;
- a sender was free but the driver itself sent it late (its sleep overshot, the GIL, a CPU too small
  for the rate): more than :data:`SCHEDULE_TOLERANCE_MS` late is ``behind_schedule``. That is the
  tester's lateness, never the endpoint's: it does not fail the phase; more than
  :data:`BEHIND_SCHEDULE_TOLERANCE` of the requests behind it means the phase did not measure the rate
  it was asked for, and the run is ``incomplete`` (say so, and give the tester more workers or memory).

Closed loop (no rate): each sender sends its next request when the previous one is answered; both
latencies are the same.

A phase run by ``workers`` (invocations of the tester, each with ``concurrency`` senders) gives each a
share: worker ``k`` of ``n`` sends requests
``k, k + n, k + 2n, ...`` of the one schedule, so the merged tallies are the phase as one driver would
have run it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from mlops_core.contract.events.integration_tests import LoadResult
from mlops_core.integration_tests.latency_histogram import LatencyHistogram
from mlops_core.integration_tests.ports import EndpointInvoker
from mlops_core.integration_tests.suites import LoadPhase

# The driver's own lateness it tolerates: a request sent more than this after its due time by a free
# sender is behind schedule (Lambda's scheduler and Python's sleep overshoot by a millisecond or two).
SCHEDULE_TOLERANCE_MS = 10.0
# The share of a phase's requests that may wait for a free sender (the endpoint's) or be behind schedule
# (the driver's) before the phase fails, or is incomplete.
BEHIND_SCHEDULE_TOLERANCE = 0.01


@dataclass
class LoadTally:
    """What one driver measured; tallies of the workers of one phase merge into the phase's."""

    from_due: LatencyHistogram = field(default_factory=LatencyHistogram)
    from_send: LatencyHistogram = field(default_factory=LatencyHistogram)
    errors: int = 0
    behind_schedule: int = 0
    most_behind_ms: float = 0.0
    waited_for_concurrency: int = 0
    longest_wait_ms: float = 0.0
    unsent: int = 0  # due before the end of a duration_seconds phase, still waiting for a sender
    elapsed_seconds: float = 0.0
    stopped_early: bool = False
    workers: int = 1

    @property
    def requests(self) -> int:
        return self.from_send.count

    def merge(self, other: LoadTally) -> None:
        """Add another worker's tally (they ran at the same time: the elapsed time is the longest)."""
        self.from_due.merge(other.from_due)
        self.from_send.merge(other.from_send)
        self.errors += other.errors
        self.behind_schedule += other.behind_schedule
        self.most_behind_ms = max(self.most_behind_ms, other.most_behind_ms)
        self.waited_for_concurrency += other.waited_for_concurrency
        self.longest_wait_ms = max(self.longest_wait_ms, other.longest_wait_ms)
        self.unsent += other.unsent
        self.elapsed_seconds = max(self.elapsed_seconds, other.elapsed_seconds)
        self.stopped_early = self.stopped_early or other.stopped_early
        self.workers += other.workers

    def encode(self) -> dict[str, Any]:
        """Plain JSON values, which a worker returns and :meth:`decode` reads."""
        return {
            "from_due": self.from_due.encode(),
            "from_send": self.from_send.encode(),
            "errors": self.errors,
            "behind_schedule": self.behind_schedule,
            "most_behind_ms": self.most_behind_ms,
            "waited_for_concurrency": self.waited_for_concurrency,
            "longest_wait_ms": self.longest_wait_ms,
            "unsent": self.unsent,
            "elapsed_seconds": self.elapsed_seconds,
            "stopped_early": self.stopped_early,
        }

    @classmethod
    def decode(cls, values: dict[str, Any]) -> LoadTally:
        return cls(
            from_due=LatencyHistogram.decode(values["from_due"]),
            from_send=LatencyHistogram.decode(values["from_send"]),
            errors=int(values["errors"]),
            behind_schedule=int(values["behind_schedule"]),
            most_behind_ms=float(values["most_behind_ms"]),
            waited_for_concurrency=int(values["waited_for_concurrency"]),
            longest_wait_ms=float(values["longest_wait_ms"]),
            unsent=int(values["unsent"]),
            elapsed_seconds=float(values["elapsed_seconds"]),
            stopped_early=bool(values["stopped_early"]),
        )


RequestTimeout = Callable[[float], float | None]


def drive(
    invoker: EndpointInvoker,
    endpoint_name: str,
    phase: LoadPhase,
    *,
    request_timeout: RequestTimeout,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    worker: int = 0,
    workers: int = 1,
) -> LoadTally:
    """Send worker ``worker`` of ``workers``'s share of the phase with ``phase.concurrency`` senders.
    ``request_timeout(starting_in_seconds)`` is the timeout for a request that starts then, None when
    none fits in the time left (the phase then stops early)."""
    tally = LoadTally()
    lock = threading.Lock()
    interval = None if phase.rate_per_second is None else 1 / phase.rate_per_second
    started = clock()
    deadline = started + phase.duration_seconds if phase.duration_seconds is not None else math.inf
    scheduled = phase.requests
    if interval is not None and phase.duration_seconds is not None:
        scheduled = math.ceil(phase.duration_seconds * (phase.rate_per_second or 0))
    share = None if scheduled is None else len(range(worker, scheduled, workers))
    issued = 0

    def next_ticket() -> tuple[float, float, float] | None:
        """The next request's (timeout, due time, time taken), or None when the share is sent."""
        nonlocal issued
        with lock:
            if share is not None and issued >= share:
                return None
            now = clock()
            if now >= deadline:
                tally.unsent = share - issued if interval is not None and share is not None else 0
                return None
            due = now if interval is None else started + (worker + issued * workers) * interval
            timeout = request_timeout(max(0.0, due - now))
            if timeout is None:
                tally.stopped_early = True
                return None
            issued += 1
            return timeout, due, now

    def user() -> None:
        # when this sender's previous request was answered: a request that fell due before then waited
        # for a sender (the endpoint's); before its first request a sender is free from the start, so
        # a sender (or a worker's process) that starts late is the driver's lateness, not a wait
        free_since = -math.inf
        while (ticket := next_ticket()) is not None:
            timeout, due, taken = ticket
            if (wait := due - clock()) > 0:
                sleep(wait)
            sent = clock()
            response = invoker.invoke(endpoint_name, phase.request, timeout_seconds=timeout)
            could_send = max(due, min(taken, free_since))
            queued_ms = (could_send - due) * 1000  # every sender was busy when it fell due
            driver_late_ms = max(0.0, sent - could_send) * 1000
            free_since = clock()
            with lock:
                tally.from_send.record(response.latency_ms)
                tally.from_due.record(response.latency_ms + max(0.0, sent - due) * 1000)
                if response.error_code is not None or response.status_code >= 400:
                    tally.errors += 1
                if queued_ms > SCHEDULE_TOLERANCE_MS:
                    tally.waited_for_concurrency += 1
                    tally.longest_wait_ms = max(tally.longest_wait_ms, queued_ms)
                if driver_late_ms > SCHEDULE_TOLERANCE_MS:
                    tally.behind_schedule += 1
                    tally.most_behind_ms = max(tally.most_behind_ms, driver_late_ms)

    with ThreadPoolExecutor(max_workers=phase.concurrency, thread_name_prefix="load") as pool:
        for future in [pool.submit(user) for _ in range(phase.concurrency)]:
            future.result()
    tally.elapsed_seconds = clock() - started
    return tally


def load_result(phase: LoadPhase, tally: LoadTally, *, failures: list[str] | None = None) -> LoadResult:
    """The phase's result: percentiles from due (held to the budgets) and from send, the error rate,
    the requests that waited for a free sender (the endpoint's) and those behind schedule (the driver's)."""
    count = tally.requests
    figures = {  # rounded as reported, so that a failure names the figure the result shows
        name: _rounded(tally.from_due.percentile(fraction))
        for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
    }
    failures = list(failures or [])
    for name, value in figures.items():
        budget = getattr(phase, f"{name}_budget_ms")
        if budget is not None and value is not None and value > budget:
            failures.append(f"{name} {value:.1f} ms is over the budget of {budget:g} ms")
    error_rate = tally.errors / count if count else 0.0
    if error_rate > phase.max_error_rate:
        failures.append(f"error rate {error_rate:.1%} is over the maximum of {phase.max_error_rate:.1%}")
    waited = tally.waited_for_concurrency + tally.unsent
    if waited > BEHIND_SCHEDULE_TOLERANCE * (count + tally.unsent):
        how = [f"{tally.waited_for_concurrency} waited up to {tally.longest_wait_ms:.0f} ms"]
        how += [f"{tally.unsent} were still waiting at the end"] if tally.unsent else []
        failures.append(
            f"{waited} of {count + tally.unsent} requests waited for a free sender at "
            f"{phase.rate_per_second:g}/s ({', '.join(how)}): the endpoint did not keep up at "
            f"concurrency {phase.concurrency}; raise concurrency or lower rate_per_second"
        )
    if count == 0:
        failures.append("no request was sent")
    paced = phase.rate_per_second is not None
    return LoadResult(
        requests=count,
        errors=tally.errors,
        error_rate=round(error_rate, 4),
        duration_seconds=round(tally.elapsed_seconds, 3),
        requests_per_second=round(count / tally.elapsed_seconds, 1) if tally.elapsed_seconds > 0 else 0.0,
        concurrency=phase.concurrency,
        workers=tally.workers,
        target_rate_per_second=phase.rate_per_second,
        waited_for_concurrency=waited,
        behind_schedule=tally.behind_schedule,
        schedule_tolerance_ms=SCHEDULE_TOLERANCE_MS if paced else None,
        schedule_held=tally.behind_schedule <= BEHIND_SCHEDULE_TOLERANCE * count,
        p50_ms=figures["p50"],
        p95_ms=figures["p95"],
        p99_ms=figures["p99"],
        p50_from_send_ms=_rounded(tally.from_send.percentile(0.5)),
        p95_from_send_ms=_rounded(tally.from_send.percentile(0.95)),
        p99_from_send_ms=_rounded(tally.from_send.percentile(0.99)),
        p50_budget_ms=phase.p50_budget_ms,
        p95_budget_ms=phase.p95_budget_ms,
        p99_budget_ms=phase.p99_budget_ms,
        max_error_rate=phase.max_error_rate,
        passed=not failures,
        failures=failures,
        stopped_early=tally.stopped_early,
    )


def schedule_note(load: LoadResult) -> str | None:
    """Why a phase that held its budgets still did not measure what was asked: the tester fell behind
    its own schedule (None when it kept it)."""
    if load.schedule_held:
        return None
    return (
        f"the tester fell behind its own schedule of {load.target_rate_per_second:g}/s "
        f"({load.behind_schedule} of {load.requests} requests sent more than {SCHEDULE_TOLERANCE_MS:g} ms "
        "late by a free sender): the latencies were not measured at that rate; run the phase on more "
        "workers or give the tester more memory"
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
