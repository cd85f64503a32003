"""The suite schema, the checks, and the runner (cases, load phase, deadline), with a fake endpoint."""

from __future__ import annotations

import io
import json
import math
import threading
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from mlops_core.adapters.lambda_load_workers import LambdaLoadWorkers
from mlops_core.adapters.sagemaker_runtime import SageMakerRuntimeInvoker
from mlops_core.contract.aws_events import EndpointStatus
from mlops_core.contract.events.integration_tests import TestOutcome as RunOutcome
from mlops_core.contract.sagemaker_resources import Endpoint
from mlops_core.integration_tests.latency_histogram import LatencyHistogram
from mlops_core.integration_tests.load_phase import LoadTally, drive, load_result, schedule_note
from mlops_core.integration_tests.load_workers import LoadShare
from mlops_core.integration_tests.ports import CONNECT_TIMEOUT_SECONDS, InvocationResponse, LoadWorkerError
from mlops_core.integration_tests.settings import TesterSettings as Settings
from mlops_core.integration_tests.suites import LoadPhase, TestCase, TestSuite
from mlops_core.integration_tests.tester import (
    CLAIM_LEASE_GRACE_SECONDS,
    EndpointTester,
    SuiteRun,
    SuiteRunner,
    check_response,
    json_path_value,
    percentile,
    summarise,
)
from pydantic import ValidationError


def case(expect: dict | None = None, **extra) -> TestCase:
    return TestCase.model_validate(
        {"name": "c", "request": {"json": {"x": 1}}, "expect": expect or {}, **extra}
    )


def ok(
    body: object = None, *, latency_ms: float = 5.0, content_type: str = "application/json"
) -> InvocationResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InvocationResponse(200, latency_ms, raw, content_type)


class FakeEndpoint:
    """Answers from a function of the request body; counts calls and records timeouts (thread-safe)."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.calls = 0
        self.timeouts: list[float] = []
        self._lock = threading.Lock()

    def invoke(self, endpoint_name, request, *, timeout_seconds):
        with self._lock:
            self.calls += 1
            self.timeouts.append(timeout_seconds)
            number = self.calls
        return self.answer(number, request)


# ----------------------------------------------------------------------------------------- schema


def test_a_request_needs_exactly_one_body_and_knows_its_content_type():
    with pytest.raises(ValidationError, match="exactly one body"):
        TestCase.model_validate({"name": "c", "request": {"json": {}, "csv": "1,2"}})
    csv = TestCase.model_validate({"name": "c", "request": {"csv": "1,2\n"}}).request
    raw = TestCase.model_validate({"name": "c", "request": {"base64": "AAE="}}).request
    assert (csv.body, csv.resolved_content_type) == (b"1,2\n", "text/csv")
    assert (raw.body, raw.resolved_content_type) == (b"\x00\x01", "application/octet-stream")


def test_a_suite_refuses_unknown_fields_duplicate_names_and_ambiguous_load_phases():
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        TestSuite.model_validate({"cases": [{"name": "c", "request": {"json": 1}, "expect": {"jsn": []}}]})
    with pytest.raises(ValidationError, match="repeat"):
        TestSuite.model_validate({"cases": [{"name": "c", "request": {"json": 1}}] * 2})
    with pytest.raises(ValidationError, match="exactly one of requests and duration_seconds"):
        TestSuite.model_validate({"load": {"request": {"json": 1}, "requests": 5, "duration_seconds": 1}})
    with pytest.raises(ValidationError, match="at least one case or a load phase"):
        TestSuite.model_validate({})


# ----------------------------------------------------------------------------------------- checks


def test_json_paths_walk_fields_and_items_and_name_the_missing_step():
    document = {"predictions": [{"score": 0.7}]}
    assert json_path_value(document, "$.predictions[0].score") == 0.7
    with pytest.raises(KeyError, match=r"\$.predictions has no item \[3\]"):
        json_path_value(document, "$.predictions[3].score")


@pytest.mark.parametrize(
    ("check", "value", "failure"),
    [
        ({"equals": 1}, 1, None),
        ({"equals": 1}, 2, "2 is not 1"),
        # equals is strict about JSON types: Python's == would pass all four
        ({"equals": 1}, True, "True is not 1 (boolean, expected integer)"),
        ({"equals": 1}, 1.0, "1.0 is not 1 (decimal, expected integer)"),
        ({"equals": True}, 1, "1 is not True (integer, expected boolean)"),
        ({"equals": 0}, False, "False is not 0 (boolean, expected integer)"),
        ({"equals": "1"}, 1, "1 is not '1' (integer, expected string)"),
        ({"equals": None}, None, None),
        ({"equals": None}, 0, "0 is not None (integer, expected null)"),
        ({"equals": [1, {"a": True}]}, [1, {"a": True}], None),
        ({"equals": [1, {"a": True}]}, [1, {"a": 1}], "[1, {'a': 1}] is not [1, {'a': True}]"),
        ({"approx": 1, "tolerance": 0}, 1.0, None),  # numbers that may be decimals: approx
        ({"approx": 0.5, "tolerance": 0.01}, 0.505, None),
        ({"approx": 0.5, "tolerance": 0.01}, 0.6, "0.6 is not 0.5 ± 0.01"),
        ({"at_least": 0.5}, 0.2, "0.2 is below 0.5"),
        ({"at_most": 0.5}, "0.9", "0.9 is above 0.5"),
        ({"matches": "^ok"}, "ok then", None),
        ({"at_least": 0}, "n/a", "'n/a' is not a number"),
    ],
)
def test_value_checks(check, value, failure):
    expectation = case({"json": [{"path": "$.v", **check}]})
    response = ok({"v": value})
    assert check_response(expectation, response) == ([f"$.v: {failure}"] if failure else [])


def test_csv_checks_look_at_one_row_or_every_row():
    every_row = case({"csv": [{"column": 1, "equals": "0"}]})
    failures = check_response(every_row, ok(b"0.1,0\n0.9,1\n", content_type="text/csv"))
    assert failures == ["row 1 column 1: '1' is not '0'"]


@pytest.mark.parametrize("body", [b"", b"\n", b"  \n\n"])
@pytest.mark.parametrize("row", [None, 0])
def test_an_empty_csv_response_fails_every_csv_check(body, row):
    check = {"column": 0, "equals": "0"} | ({"row": row} if row is not None else {})

    failures = check_response(case({"csv": [check]}), ok(body, content_type="text/csv"))

    assert failures == [f"response has no CSV rows to check ({len(body)} bytes)"]


def test_csv_equals_takes_text_because_cells_are_text():
    with pytest.raises(
        ValidationError, match=r'CSV cells are text: write equals as a string \(equals: "0"\)'
    ):
        case({"csv": [{"column": 0, "equals": 0}]})


def test_status_error_code_content_type_and_latency_are_all_checked():
    assert check_response(case({"error_code": "ModelError"}), ok({})) == [
        "expected error ModelError, got success"
    ]
    refused = InvocationResponse(400, 3.0, error_code="ModelError", error_message="bad row")
    assert check_response(case({"error_code": "ModelError"}), refused) == []
    assert check_response(case(), refused) == ["ModelError (400): bad row"]
    assert check_response(case({"content_type": "text/csv"}), ok({})) == [
        "expected content type text/csv, got application/json"
    ]
    slow = case(latency_budget_ms=100)
    assert check_response(slow, ok({}, latency_ms=250)) == ["latency 250 ms is over the budget of 100 ms"]


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50.0, 95.0, 99.0)
    assert percentile([], 0.5) is None


# ----------------------------------------------------------------------------------------- runner


def suite(**load) -> TestSuite:
    return TestSuite.model_validate(
        {
            "cases": [
                {
                    "name": "first",
                    "request": {"json": 1},
                    "expect": {"json": [{"path": "$.ok", "equals": True}]},
                },
                {
                    "name": "second",
                    "request": {"json": 2},
                    "expect": {"json": [{"path": "$.ok", "equals": True}]},
                },
            ],
            **({"load": {"request": {"json": 3}, **load}} if load else {}),
        }
    )


def test_the_runner_runs_every_case_then_the_load_phase_and_names_what_failed():
    def answer(number, request):
        if request.json_body == 2:
            return ok({"ok": False})
        return ok({"ok": True}, latency_ms=float(number))

    endpoint = FakeEndpoint(answer)
    run = SuiteRunner(endpoint, remaining_ms=lambda: 60_000).run(
        "x-dev", suite(requests=100, concurrency=4, p50_budget_ms=1000, p99_budget_ms=50)
    )

    assert [(c.name, c.passed) for c in run.cases] == [("first", True), ("second", False)]
    assert run.cases[1].failures == ["$.ok: False is not True"]
    assert endpoint.calls == 2 + 100
    assert run.load is not None and run.load.requests == 100 and run.load.concurrency == 4
    assert run.load.p99_ms is not None and run.load.p99_ms > 50
    assert run.load.failures == [f"p99 {run.load.p99_ms:.1f} ms is over the budget of 50 ms"]
    assert run.outcome is RunOutcome.FAILED
    assert summarise(run).startswith("1 of 2 cases failed: second; load phase failed: p99")


def test_the_load_phase_counts_errors_against_the_maximum_error_rate():
    def answer(number, request):
        if number % 10 == 0:
            return InvocationResponse(500, 1.0, error_code="InternalFailure")
        return ok({"ok": True})

    run = SuiteRunner(FakeEndpoint(answer), remaining_ms=lambda: 60_000).run(
        "x-dev", suite(requests=50, concurrency=2, max_error_rate=0.01)
    )

    assert run.load is not None and run.load.errors == 5
    assert run.load.failures == ["error rate 10.0% is over the maximum of 1.0%"]


def test_the_runner_stops_before_the_lambda_times_out_and_says_where():
    remaining = iter([60_000, 4_000] + [0] * 10)
    endpoint = FakeEndpoint(lambda number, request: ok({"ok": True}))

    run = SuiteRunner(endpoint, remaining_ms=lambda: next(remaining), safety_margin_ms=5_000).run(
        "x-dev", suite(requests=10)
    )

    assert [c.name for c in run.cases] == ["first"]
    assert endpoint.calls == 1
    assert run.load is None
    assert run.stopped_early is not None and "after 1 of 2 cases" in run.stopped_early
    assert run.outcome is RunOutcome.INCOMPLETE


def test_a_load_phase_cut_short_by_the_deadline_reports_the_requests_it_sent():
    budget = {"left": 10}

    def remaining() -> int:
        budget["left"] -= 1
        return 60_000 if budget["left"] > 0 else 0

    run = SuiteRunner(FakeEndpoint(lambda n, r: ok({"ok": True})), remaining_ms=remaining).run(
        "x-dev", suite(requests=1000, concurrency=1)
    )

    assert run.load is not None and run.load.stopped_early
    assert 0 < run.load.requests < 1000
    assert run.stopped_early is not None and f"after {run.load.requests} requests" in run.stopped_early


def test_each_request_gets_a_timeout_that_ends_before_the_safety_margin():
    left = {"ms": 120_000}

    def answer(number, request):
        left["ms"] -= 30_000  # each answer uses 30 s of the function's time
        return ok({"ok": True})

    endpoint = FakeEndpoint(answer)
    runner = SuiteRunner(endpoint, remaining_ms=lambda: left["ms"], safety_margin_ms=10_000)

    run = runner.run("x-dev", suite(requests=10, concurrency=1))

    # 120 s left: 60 s fits (2 s to connect, 10 s kept); 90 s: 60; 60 s: 30; 30 s: 15; 0 s: nothing
    assert endpoint.timeouts == [60.0, 60.0, 30.0, 15.0]
    assert all(
        timeout + CONNECT_TIMEOUT_SECONDS <= (remaining - 10_000) / 1000
        for timeout, remaining in zip(endpoint.timeouts, [120_000, 90_000, 60_000, 30_000], strict=True)
    )
    assert run.load is not None and run.load.stopped_early and run.load.requests == 2
    assert run.outcome is RunOutcome.INCOMPLETE
    assert (
        SuiteRunner(endpoint, remaining_ms=lambda: 12_999, safety_margin_ms=10_000).request_timeout() is None
    )
    assert (
        SuiteRunner(endpoint, remaining_ms=lambda: 13_000, safety_margin_ms=10_000).request_timeout() == 1.0
    )


# ----------------------------------------------------------------------------- paced load phase


class FakeTime:
    """A clock that only moves when the runner sleeps or a fake request takes time (no real sleep)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class TimedEndpoint:
    """Records when (on the fake clock) each request started; each takes ``latency(n)`` seconds."""

    def __init__(self, fake: FakeTime, latency) -> None:
        self.fake = fake
        self.latency = latency
        self.starts: list[float] = []
        self.timeouts: list[float] = []

    def invoke(self, endpoint_name, request, *, timeout_seconds):
        self.starts.append(self.fake.clock())
        self.timeouts.append(timeout_seconds)
        seconds = self.latency(len(self.starts))
        self.fake.advance(seconds)
        return ok({"ok": True}, latency_ms=seconds * 1000)


def paced(fake: FakeTime, endpoint, remaining_ms=lambda: 600_000, **load) -> SuiteRunner:
    runner = SuiteRunner(endpoint, remaining_ms=remaining_ms, clock=fake.clock, sleep=fake.sleep)
    return runner.run_load("x-dev", LoadPhase.model_validate({"request": {"json": 3}, **load}))


def test_a_paced_load_phase_starts_each_request_at_its_time_not_as_fast_as_it_can():
    fake = FakeTime()
    endpoint = TimedEndpoint(fake, lambda n: 0.02)

    load = paced(fake, endpoint, requests=5, rate_per_second=10, concurrency=1)

    assert endpoint.starts == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert fake.sleeps == pytest.approx([0.08] * 4)  # the rest of each 100 ms after a 20 ms answer
    assert load.requests == 5 and load.target_rate_per_second == 10 and load.behind_schedule == 0
    assert load.requests_per_second == pytest.approx(5 / 0.42, abs=0.1)
    assert load.passed and load.failures == []
    # unpaced, the same phase sends back to back and never sleeps
    unpaced_time = FakeTime()
    unpaced = TimedEndpoint(unpaced_time, lambda n: 0.02)
    assert paced(unpaced_time, unpaced, requests=5, concurrency=1).target_rate_per_second is None
    assert unpaced.starts == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08]) and unpaced_time.sleeps == []


def test_requests_that_fall_due_while_every_worker_is_busy_wait_and_are_timed_from_their_due_time():
    fake = FakeTime()
    endpoint = TimedEndpoint(fake, lambda n: 0.25)  # slower than the 100 ms between requests

    load = paced(fake, endpoint, requests=5, rate_per_second=10, concurrency=1)

    assert endpoint.starts == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0]) and fake.sleeps == []
    # 0, 150, 300, 450 and 600 ms of waiting for the worker: in the latency from due, not from send
    assert load.requests == 5 and load.waited_for_concurrency == 4 and load.behind_schedule == 0
    assert load.p50_from_send_ms == pytest.approx(250, rel=0.01)
    assert load.p99_ms == pytest.approx(250 + 600, rel=0.01) and load.p50_ms == pytest.approx(550, rel=0.01)
    assert load.schedule_held and load.failures == [
        "4 of 5 requests waited for a free sender at 10/s (4 waited up to 600 ms): the endpoint did "
        "not keep up at concurrency 1; raise concurrency or lower rate_per_second"
    ]
    # the same endpoint keeps up at 4/s: every request on time
    fake = FakeTime()
    assert paced(
        fake, TimedEndpoint(fake, lambda n: 0.25), requests=5, rate_per_second=4, concurrency=1
    ).passed


def test_the_drivers_own_lateness_is_behind_schedule_never_a_failure_of_the_endpoint():
    fake = FakeTime()

    def oversleeping(seconds: float) -> None:  # a starved driver: every sleep ends 30 ms late
        fake.sleep(seconds + 0.03)

    endpoint = TimedEndpoint(fake, lambda n: 0.01)
    runner = SuiteRunner(endpoint, remaining_ms=lambda: 600_000, clock=fake.clock, sleep=oversleeping)
    phase = LoadPhase.model_validate(
        {
            "request": {"json": 3},
            "requests": 10,
            "rate_per_second": 10,
            "concurrency": 2,
            "p99_budget_ms": 100,
        }
    )

    load = runner.run_load("x-dev", phase)

    # requests 1..9 are sent 30 ms after their due time by a free worker: the driver's lateness
    assert load.behind_schedule == 9 and load.waited_for_concurrency == 0 and load.schedule_tolerance_ms == 10
    assert load.passed and not load.schedule_held  # the endpoint (10 ms) is fine: nothing failed
    assert load.p99_from_send_ms == pytest.approx(10, rel=0.01) and load.p99_ms == pytest.approx(40, rel=0.01)
    note = schedule_note(load)
    assert note is not None and "the tester fell behind its own schedule of 10/s (9 of 10 requests" in note
    # in a suite, the run is incomplete (the rate was not measured), not failed
    run = SuiteRun([], load, note)
    assert run.outcome is RunOutcome.INCOMPLETE


def test_a_sender_that_starts_late_is_the_drivers_lateness_not_a_wait_for_the_endpoint():
    fake = FakeTime()
    started_late: list[str] = []

    def clock() -> float:  # the sender's thread first runs 50 ms after the phase started (a starved driver)
        sender = threading.current_thread().name
        if sender.startswith("load") and sender not in started_late:
            started_late.append(sender)
            fake.advance(0.05)
        return fake.clock()

    endpoint = TimedEndpoint(fake, lambda n: 0.01)
    runner = SuiteRunner(endpoint, remaining_ms=lambda: 600_000, clock=clock, sleep=fake.sleep)
    phase = LoadPhase.model_validate(
        {"request": {"json": 3}, "requests": 3, "rate_per_second": 10, "concurrency": 1}
    )

    load = runner.run_load("x-dev", phase)

    # the first request was due at 0 and sent at 50 ms by a sender that had nothing else to do
    assert endpoint.starts == pytest.approx([0.05, 0.1, 0.2])
    assert load.waited_for_concurrency == 0 and load.behind_schedule == 1
    assert load.passed and load.failures == []


def test_a_little_lateness_is_within_the_tolerance():
    fake = FakeTime()

    def a_little_late(seconds: float) -> None:
        fake.sleep(seconds + 0.004)

    endpoint = TimedEndpoint(fake, lambda n: 0.01)
    runner = SuiteRunner(endpoint, remaining_ms=lambda: 600_000, clock=fake.clock, sleep=a_little_late)
    phase = LoadPhase.model_validate({"request": {"json": 3}, "requests": 20, "rate_per_second": 10})

    load = runner.run_load("x-dev", phase)

    assert load.behind_schedule == 0 and load.schedule_held and load.passed


def test_a_paced_duration_phase_counts_the_requests_still_waiting_for_a_worker_at_the_end():
    fake = FakeTime()
    assert (
        paced(fake, TimedEndpoint(fake, lambda n: 0.01), duration_seconds=1, rate_per_second=10).requests
        == 10
    )
    fake = FakeTime()
    endpoint = TimedEndpoint(fake, lambda n: 0.25)

    load = paced(fake, endpoint, duration_seconds=1, rate_per_second=10, concurrency=1)

    # 10 requests due within the second; the worker sends 4 (3 of them after waiting) and 6 never get one
    assert endpoint.starts == pytest.approx([0.0, 0.25, 0.5, 0.75])
    assert load.requests == 4 and load.waited_for_concurrency == 3 + 6 and not load.stopped_early
    assert "9 of 10 requests waited for a free sender" in load.failures[0]
    assert "6 were still waiting at the end" in load.failures[0]


def test_workers_share_one_schedule_and_their_tallies_merge_into_the_phase():
    phase = LoadPhase.model_validate({"request": {"json": 3}, "requests": 10, "rate_per_second": 10})
    tallies, starts = [], []
    for worker in range(3):
        fake = FakeTime()
        endpoint = TimedEndpoint(fake, lambda n: 0.01 * n)
        tally = drive(
            endpoint,
            "x-dev",
            phase,
            request_timeout=lambda starting_in: 60.0,
            clock=fake.clock,
            sleep=fake.sleep,
            worker=worker,
            workers=3,
        )
        starts.append(endpoint.starts)
        tallies.append(LoadTally.decode(tally.encode()))  # as a worker returns it

    # worker k sends requests k, k + 3, k + 6, ... of the one schedule (100 ms apart)
    assert starts == [
        pytest.approx([0.0, 0.3, 0.6, 0.9]),
        pytest.approx([0.1, 0.4, 0.7]),
        pytest.approx([0.2, 0.5, 0.8]),
    ]
    merged = tallies[0]
    for other in tallies[1:]:
        merged.merge(other)
    load = load_result(phase, merged)
    assert load.requests == 10 and load.workers == 3 and load.passed
    assert load.p99_from_send_ms == pytest.approx(40, rel=0.01)  # the slowest answer: the 4th of worker 0


def test_latency_histograms_keep_percentiles_within_one_percent_and_merge_exactly():
    values = [0.5 + (i % 997) * 0.37 for i in range(20_000)]
    whole, first, second = LatencyHistogram(), LatencyHistogram(), LatencyHistogram()
    for i, value in enumerate(values):
        whole.record(value)
        (first if i % 2 else second).record(value)
    first.merge(LatencyHistogram.decode(second.encode()))

    ordered = sorted(values)
    for fraction in (0.5, 0.95, 0.99):
        exact = ordered[math.ceil(fraction * len(ordered)) - 1]
        assert whole.percentile(fraction) == pytest.approx(exact, rel=0.011)
    assert first.buckets() == whole.buckets() and first.count == 20_000
    assert len(whole.buckets()) < 1_000  # bounded: logarithmic buckets, not one entry per request
    assert LatencyHistogram().percentile(0.5) is None
    with pytest.raises(ValueError, match="cannot be merged"):
        LatencyHistogram.decode('{"v":1,"accuracy":0.02,"buckets":{}}')


def test_a_paced_phase_does_not_wait_into_the_time_kept_for_recording_the_outcome():
    fake = FakeTime()
    endpoint = TimedEndpoint(fake, lambda n: 0.0)
    # 30 s left at the start, 10 s kept, 2 s to connect, 1 s shortest timeout: the request due at 18 s
    # is not waited for
    remaining = lambda: int(30_000 - fake.clock() * 1000)  # noqa: E731

    load = paced(fake, endpoint, remaining, requests=20, rate_per_second=0.5, concurrency=1)

    assert endpoint.starts == pytest.approx([0.0, 2, 4, 6, 8, 10, 12, 14, 16])
    assert load.stopped_early and load.requests == 9 and fake.now == pytest.approx(16)
    # each timeout ends before the margin: 0 + 15 + 2 <= 20 at the first, 16 + 2 + 2 <= 20 at the last
    assert endpoint.timeouts[0] == 15.0 and endpoint.timeouts[-1] == 2.0


def test_a_paced_phase_still_keeps_to_its_concurrency():
    fake = FakeTime()
    together = threading.Barrier(4, timeout=10)  # each round of requests needs all four workers
    in_flight = {"now": 0, "most": 0}
    lock = threading.Lock()

    class Endpoint:
        def invoke(self, endpoint_name, request, *, timeout_seconds):
            with lock:
                in_flight["now"] += 1
                in_flight["most"] = max(in_flight["most"], in_flight["now"])
            together.wait()
            with lock:
                in_flight["now"] -= 1
            return ok({"ok": True})

    load = paced(fake, Endpoint(), requests=40, rate_per_second=1000, concurrency=4)

    assert load.requests == 40 and in_flight["most"] == 4


def test_a_target_rate_must_be_positive_and_fit_the_longest_phase():
    base = {"request": {"json": 1}}
    with pytest.raises(ValidationError, match="greater than 0"):
        LoadPhase.model_validate({**base, "requests": 5, "rate_per_second": 0})
    with pytest.raises(ValidationError, match="exactly one of requests and duration_seconds"):
        LoadPhase.model_validate({**base, "rate_per_second": 5})
    with pytest.raises(ValidationError, match="take 1000 s: at most 600 s"):
        LoadPhase.model_validate({**base, "requests": 1001, "rate_per_second": 1})
    assert LoadPhase.model_validate({**base, "requests": 601, "rate_per_second": 1}).rate_per_second == 1
    assert LoadPhase.model_validate({**base, "duration_seconds": 30, "rate_per_second": 50}).requests is None


class _TimingOutClient:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds

    def invoke_endpoint(self, **arguments):
        raise ReadTimeoutError(endpoint_url=f"https://runtime/endpoints/{arguments['EndpointName']}")


def test_a_request_that_times_out_is_a_failed_case_named_by_its_error_not_a_crash():
    made: list[float] = []

    def client_for(timeout_seconds):
        made.append(timeout_seconds)
        return _TimingOutClient(timeout_seconds)

    invoker = SageMakerRuntimeInvoker(client_for)
    request = case().request

    first = invoker.invoke("x-dev", request, timeout_seconds=4.0)
    invoker.invoke("x-dev", request, timeout_seconds=4.0)
    invoker.invoke("x-dev", request, timeout_seconds=1.0)

    assert made == [4.0, 1.0]  # one client per timeout, reused
    assert (first.status_code, first.error_code) == (0, "ReadTimeoutError")
    assert first.error_message is not None and first.error_message.startswith("no answer within 4 s")
    assert check_response(case(), first)[0].startswith("ReadTimeoutError (0): no answer within 4 s")


class _NoSuiteStore:
    def __init__(self) -> None:
        self.runs: list[dict] = []
        self.claims: list[str] = []

    def get_suite(self, endpoint_name):
        return None

    def put_run(self, endpoint_name, run_id, *, outcome, result, expires_at):
        self.runs.append({"outcome": outcome, **result})

    def project_record(self, project):
        return {"reject_on_test_failure": True}


class _Registry:
    def __init__(self) -> None:
        self.metadata: dict[str, str] = {}
        self.rejected: list[str] = []

    def merge_model_package_metadata(self, arn, values):
        self.metadata.update(values)

    def reject_model_package(self, arn, reason):
        self.rejected.append(arn)


class _SageMaker:
    def describe_endpoint(self, name):
        return Endpoint(
            name=name,
            arn=f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}",
            status=EndpointStatus.IN_SERVICE,
            config_name=f"{name}-v3-abc123",
            tags={"mlops:managed-by": "mlops"},
            model_package_arn="arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/3",
        )


def no_suite_tester(store, registry, endpoint, **extra) -> EndpointTester:
    return EndpointTester(
        Settings.model_validate(
            {
                "STACK_NAME": "mlops",
                "EVENT_BUS_NAME": "bus",
                "CONFIG_TABLE_NAME": "config",
                "IDEMPOTENCY_TABLE_NAME": "idem",
                "DEPLOYED_STAGES": "feature,dev",
                "TEST_RUN_RETENTION_DAYS": 7,
            }
        ),
        sagemaker=_SageMaker(),  # type: ignore[arg-type]
        registry=registry,  # type: ignore[arg-type]
        store=store,  # type: ignore[arg-type]
        invoker=endpoint,
        remaining_ms=lambda: 300_000,
        **extra,
    )


def test_an_endpoint_without_a_suite_is_reported_as_no_tests_configured_never_as_a_pass():
    store, registry = _NoSuiteStore(), _Registry()
    endpoint = FakeEndpoint(lambda n, r: ok({}))
    tester = no_suite_tester(store, registry, endpoint)

    outcome = tester.run("churn-dev", trigger="requested")

    [event] = outcome.events
    assert outcome.status == "no-tests-configured" != RunOutcome.PASSED.value
    assert event.outcome == RunOutcome.NO_TESTS_CONFIGURED and event.cases == [] and event.load is None
    assert event.summary == summarise(None)
    assert "python -m mlops_core.suite_tool" in event.summary  # tells the reader how to add one
    assert endpoint.calls == 0
    # recorded as what it is, on the version and in the run, and never a reason to reject the version
    assert registry.metadata["mlops:integration-tests"] == "no-tests-configured"
    assert [run["outcome"] for run in store.runs] == ["no-tests-configured"]
    assert registry.rejected == []


def test_a_deployment_is_claimed_for_the_functions_remaining_time_plus_a_grace_then_marked_tested():
    class ClaimingStore(_NoSuiteStore):
        def claim_deployment(self, endpoint_name, config, *, now, lease_until):
            self.claims.append(("claim", config, now, lease_until))
            return True

        def finish_deployment(self, endpoint_name, config, *, run_id, expires_at):
            self.claims.append(("tested", config, run_id, expires_at))

    store = ClaimingStore()
    now = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    tester = no_suite_tester(store, _Registry(), FakeEndpoint(lambda n, r: ok({})), now=lambda: now)

    outcome = tester.run("churn-dev", trigger="endpoint-in-service", once_per_deployment=True)

    start = int(now.timestamp())
    assert store.claims == [
        ("claim", "churn-dev-v3-abc123", start, start + 300 + CLAIM_LEASE_GRACE_SECONDS),
        ("tested", "churn-dev-v3-abc123", outcome.details["run_id"], start + 7 * 86_400),
    ]


# ------------------------------------------------------------------------- load phase on N workers


class InProcessWorkers:
    """Runs each share as a worker invocation would (its own runner, clock and endpoint), or fails."""

    def __init__(self, failing: set[int] = frozenset()) -> None:
        self.shares: list[dict] = []
        self.starts: dict[int, list[float]] = {}
        self.failing = failing
        self._lock = threading.Lock()

    def run_share(self, share):
        share = LoadShare.model_validate(json.loads(json.dumps(share)))  # as the worker's handler reads it
        with self._lock:
            self.shares.append(share)
        if share.worker in self.failing:
            raise LoadWorkerError("Sandbox.Timedout: the task timed out")
        fake = FakeTime()
        endpoint = TimedEndpoint(fake, lambda n: 0.02)
        runner = SuiteRunner(
            endpoint,
            remaining_ms=lambda: 600_000,
            clock=fake.clock,
            sleep=fake.sleep,
            wall_clock=lambda: 1000.0,
        )
        tally = runner.run_share(share)
        self.starts[share.worker] = endpoint.starts
        return tally.encode()


def fan_out(port: InProcessWorkers, cap: int = 10, **load):
    fake = FakeTime()
    endpoint = TimedEndpoint(fake, lambda n: 0.02)
    runner = SuiteRunner(
        endpoint,
        remaining_ms=lambda: 120_000,
        clock=fake.clock,
        sleep=fake.sleep,
        wall_clock=lambda: 1000.0,
        workers=port,
        max_load_workers=cap,
    )
    phase = LoadPhase.model_validate({"request": {"json": 3}, **load})
    return runner.run_load("x-dev", phase), endpoint, fake


def test_a_phase_on_n_workers_sends_each_its_share_of_one_schedule_and_merges_their_histograms():
    workers = InProcessWorkers()

    load, own, fake = fan_out(workers, requests=40, rate_per_second=100, workers=4, concurrency=2)

    # every share starts at the same wall-clock time, 2 s after the workers were asked
    assert {share.starts_at for share in workers.shares} == {1002.0} and fake.sleeps[0] == 2.0
    assert sorted(share.worker for share in workers.shares) == [1, 2, 3]
    assert all(share.workers == 4 and share.endpoint_name == "x-dev" for share in workers.shares)
    # the coordinator's time (120 s, 10 s kept) bounds the workers': they stop 3 s before it
    assert {share.deadline for share in workers.shares} == {1110.0}
    assert len(own.starts) == 10 and all(len(starts) == 10 for starts in workers.starts.values())
    # worker 1 sends requests 1, 5, 9...: due 10 ms, 50 ms... after the common start (2 s on its clock)
    assert workers.starts[1][:2] == pytest.approx([2.01, 2.05])
    assert load.requests == 40 and load.workers == 4 and load.passed
    assert load.p50_from_send_ms == pytest.approx(20, rel=0.01)


def test_a_worker_that_does_not_report_fails_the_phase_by_name_and_the_cap_holds():
    load, _, _ = fan_out(InProcessWorkers(failing={2}), requests=30, rate_per_second=100, workers=3)

    assert load.requests == 20 and load.workers == 2 and not load.passed
    assert load.failures == ["worker 2 of 3 did not report: Sandbox.Timedout: the task timed out"]

    workers = InProcessWorkers()
    capped, endpoint, _ = fan_out(workers, cap=2, requests=30, workers=3)
    assert workers.shares == [] and endpoint.starts == [] and not capped.passed
    assert capped.failures[0] == (
        "the load phase asks for 3 workers; this stack allows at most 2 (its LoadWorkersCap parameter)"
    )


def test_a_worker_stops_sending_before_the_coordinators_time_runs_out():
    fake = FakeTime()
    endpoint = TimedEndpoint(fake, lambda n: 0.0)
    wall = {"now": 1000.0}

    def wall_clock() -> float:
        return wall["now"] + fake.clock()

    runner = SuiteRunner(
        endpoint, remaining_ms=lambda: 600_000, clock=fake.clock, sleep=fake.sleep, wall_clock=wall_clock
    )
    phase = LoadPhase.model_validate({"request": {"json": 3}, "duration_seconds": 60, "rate_per_second": 1})
    share = LoadShare(
        endpoint_name="x-dev", phase=phase, worker=1, workers=2, starts_at=1000.0, deadline=1030.0
    )

    tally = runner.run_share(share)

    # requests 1, 3, 5, ... are due every 2 s; the coordinator's time for the phase ends at 30 s (its own
    # margin already kept), the worker keeps 3 s to return its tally, and the shortest timeout (1 s) and
    # the connection (2 s) must fit: the last request starts at 23 s
    assert (
        endpoint.starts == pytest.approx([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23]) and tally.stopped_early
    )


class _LambdaAnswering:
    """A Lambda client that answers Invoke with ``payload`` (and FunctionError when ``error``)."""

    def __init__(self, payload: object, *, error: bool = False, raises: Exception | None = None) -> None:
        self.payload, self.error, self.raises = payload, error, raises
        self.calls: list[dict] = []

    def invoke(self, **arguments):
        self.calls.append(arguments)
        if self.raises is not None:
            raise self.raises
        answer = {"Payload": io.BytesIO(json.dumps(self.payload).encode()), "StatusCode": 200}
        return answer | ({"FunctionError": "Unhandled"} if self.error else {})


def test_a_worker_is_a_synchronous_invoke_of_the_tester_itself_and_its_failures_are_named():
    client = _LambdaAnswering({"status": "measured", "worker": 1, "tally": {"errors": 0}})
    workers = LambdaLoadWorkers(lambda: client, "mlops-EndpointTesterFunction-abc")

    assert workers.run_share({"worker": 1}) == {"errors": 0}
    [call] = client.calls
    event = json.loads(call["Payload"])
    assert call["FunctionName"] == "mlops-EndpointTesterFunction-abc"
    assert call["InvocationType"] == "RequestResponse"
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "mlops.endpoint-tester",
        "Load Share Requested",
        {"worker": 1},
    )
    failing = {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 300.00 seconds"}
    with pytest.raises(LoadWorkerError, match=r"the invocation failed: Sandbox\.Timedout: Task timed out"):
        LambdaLoadWorkers(lambda: _LambdaAnswering(failing, error=True), "f").run_share({})
    with pytest.raises(LoadWorkerError, match="answered without a tally"):
        LambdaLoadWorkers(lambda: _LambdaAnswering({"status": "invalid"}), "f").run_share({})
    throttled = ClientError(
        {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}, "Invoke"
    )
    with pytest.raises(LoadWorkerError, match="TooManyRequestsException"):
        LambdaLoadWorkers(lambda: _LambdaAnswering(None, raises=throttled), "f").run_share({})
    with pytest.raises(LoadWorkerError, match="AWS_LAMBDA_FUNCTION_NAME"):
        LambdaLoadWorkers(lambda: client, None).run_share({})
