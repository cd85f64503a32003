"""Integration test suites: the schema of a suite.

A suite belongs to one endpoint; it is written from a JSON or YAML file by ``python -m
mlops_core.suite_tool`` (which validates it with this schema) into the config table
(:mod:`mlops_core.adapters.suite_store`). The schema forbids unknown fields: a misspelt expectation
must fail loudly, not be ignored and let every response pass.
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
import base64
import binascii
import json
import re
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    # defer_build: a suite's validator is built when a suite is read (the tester), not in the cold
    # start of every function that imports this module for the store (the notifier).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class InvocationRequest(_Strict):
    """What is sent to InvokeEndpoint. The body is exactly one of ``json``, ``csv`` or ``base64``."""

    content_type: str | None = Field(
        default=None, description="defaults to application/json, text/csv or application/octet-stream"
    )
    accept: str | None = None
    json_body: Any = Field(default=None, alias="json")
    csv: str | None = None
    base64: str | None = None
    custom_attributes: str | None = Field(default=None, max_length=1024)
    target_variant: str | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    @model_validator(mode="after")
    def _exactly_one_body(self) -> Self:
        given = [name for name in ("json", "csv", "base64") if self._raw(name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one body: json, csv or base64 (got {given or 'none'})")
        if self.base64 is not None:
            try:
                base64.b64decode(self.base64, validate=True)
            except binascii.Error as error:
                raise ValueError(f"base64 body does not decode: {error}") from error
        return self

    def _raw(self, name: str) -> Any:
        return {"json": self.json_body, "csv": self.csv, "base64": self.base64}[name]

    @property
    def body(self) -> bytes:
        if self.csv is not None:
            return self.csv.encode()
        if self.base64 is not None:
            return base64.b64decode(self.base64)
        return json.dumps(self.json_body).encode()

    @property
    def resolved_content_type(self) -> str:
        if self.content_type:
            return self.content_type
        if self.csv is not None:
            return "text/csv"
        if self.base64 is not None:
            return "application/octet-stream"
        return "application/json"


class ValueCheck(_Strict):
    """One check of one value: ``equals``, ``approx`` (± ``tolerance``), a range, or a regex ``matches``."""

    equals: Any = None
    approx: float | None = None
    tolerance: float = Field(default=1e-6, ge=0)
    at_least: float | None = None
    at_most: float | None = None
    matches: str | None = None

    @model_validator(mode="after")
    def _one_kind_of_check(self) -> Self:
        kinds = [
            kind
            for kind, given in (
                ("equals", "equals" in self.model_fields_set),
                ("approx", self.approx is not None),
                ("range", self.at_least is not None or self.at_most is not None),
                ("matches", self.matches is not None),
            )
            if given
        ]
        if len(kinds) != 1:
            raise ValueError(f"give exactly one of equals, approx, at_least/at_most, matches (got {kinds})")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as error:
                raise ValueError(f"matches is not a regular expression: {error}") from error
        return self

    def failure(self, value: Any) -> str | None:
        """Why ``value`` fails this check, or None if it passes."""
        if "equals" in self.model_fields_set:
            if strictly_equal(value, self.equals):
                return None
            kinds = (json_kind(value), json_kind(self.equals))
            differ = f" ({kinds[0]}, expected {kinds[1]})" if kinds[0] != kinds[1] else ""
            return f"{value!r} is not {self.equals!r}{differ}"
        if self.matches is not None:
            text = value if isinstance(value, str) else json.dumps(value)
            return None if re.search(self.matches, text) else f"{text!r} does not match /{self.matches}/"
        number = _as_number(value)
        if number is None:
            return f"{value!r} is not a number"
        if self.approx is not None:
            if abs(number - self.approx) <= self.tolerance:
                return None
            return f"{number} is not {self.approx} ± {self.tolerance}"
        if self.at_least is not None and number < self.at_least:
            return f"{number} is below {self.at_least}"
        if self.at_most is not None and number > self.at_most:
            return f"{number} is above {self.at_most}"
        return None


def json_kind(value: Any) -> str:
    """The JSON type of a decoded value; integers and decimals are told apart (``1`` vs ``1.0``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "decimal"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def strictly_equal(actual: Any, expected: Any) -> bool:
    """``equals`` is exact: same JSON type and value, recursively. ``true`` is not ``1``, ``1.0`` is not
    ``1`` and ``"1"`` is not ``1`` (Python's ``==`` says yes to the first two); numbers that may come
    back as decimals are checked with ``approx``."""
    if json_kind(actual) != json_kind(expected):
        return False
    if isinstance(expected, list | tuple):
        return len(actual) == len(expected) and all(
            strictly_equal(a, e) for a, e in zip(actual, expected, strict=True)
        )
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            strictly_equal(actual[key], expected[key]) for key in expected
        )
    return bool(actual == expected)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class JsonCheck(ValueCheck):
    """A check of the value at ``path`` in a JSON response, e.g. ``$.predictions[0].score``."""

    path: str = Field(pattern=r"^\$?(\.?[A-Za-z_][\w-]*|\[\d+\])*$")


class CsvCheck(ValueCheck):
    """A check of one column of a CSV response, in one row or (``row`` unset) in every row.

    CSV cells are text, so ``equals`` takes a string (``equals: "0"``); numbers are checked with
    ``approx`` or ``at_least``/``at_most``. A response with no row fails every CSV check."""

    column: int = Field(ge=0)
    row: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _cells_are_text(self) -> Self:
        if "equals" in self.model_fields_set and not isinstance(self.equals, str):
            raise ValueError(
                f"CSV cells are text: write equals as a string (equals: {json.dumps(str(self.equals))}), "
                "or compare numbers with approx or at_least/at_most"
            )
        return self


class Expectation(_Strict):
    """What the response must be. A case expects HTTP 200 unless it names a status or an error code."""

    status: int | None = Field(default=None, ge=100, le=599)
    error_code: str | None = Field(default=None, description="e.g. ModelError, ValidationError")
    content_type: str | None = None
    json_checks: list[JsonCheck] = Field(default=[], alias="json")
    csv_checks: list[CsvCheck] = Field(default=[], alias="csv")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    @property
    def expects_error(self) -> bool:
        return self.error_code is not None or (self.status is not None and self.status >= 400)


class TestCase(_Strict):
    name: str = Field(min_length=1, max_length=80)
    request: InvocationRequest
    expect: Expectation = Expectation()
    latency_budget_ms: float | None = Field(default=None, gt=0)


MAX_LOAD_SECONDS = 600  # a load phase runs inside Lambda invocations (at most 15 minutes each)
# The most workers a suite may ask for; the stack's LoadWorkersCap (MAX_LOAD_WORKERS) may allow fewer.
MAX_LOAD_WORKERS = 100


class LoadPhase(_Strict):
    """Bounded-concurrency load: ``requests`` in total or for ``duration_seconds``, held to budgets.

    Without ``rate_per_second`` the phase is closed-loop: each of the ``concurrency`` senders sends
    its next request as soon as the previous one is answered (as fast as the endpoint goes). With it,
    the phase is open-loop: request ``i`` is due ``i / rate_per_second`` seconds after the start,
    whoever answers when, and at most ``concurrency`` requests are in flight; a request that falls due
    while they are is sent when one is answered, and timed from its due time. With ``workers`` > 1, that
    many invocations of the tester send the phase together: each sends every ``workers``-th request of
    the one schedule (or, closed loop, its share of ``requests``, or for ``duration_seconds``) with
    ``concurrency`` in flight, and their histograms are merged into one result."""

    request: InvocationRequest
    requests: int | None = Field(default=None, ge=1, le=100_000)
    duration_seconds: float | None = Field(default=None, gt=0, le=MAX_LOAD_SECONDS)
    rate_per_second: float | None = Field(
        default=None, gt=0, le=10_000, description="target requests per second (open loop); default: unpaced"
    )
    concurrency: int = Field(default=4, ge=1, le=64, description="requests in flight at most, per worker")
    workers: int = Field(
        default=1,
        ge=1,
        le=MAX_LOAD_WORKERS,
        description="invocations of the tester that send the phase together, each its share of the "
        "schedule (at most the stack's LoadWorkersCap)",
    )
    p50_budget_ms: float | None = Field(default=None, gt=0)
    p95_budget_ms: float | None = Field(default=None, gt=0)
    p99_budget_ms: float | None = Field(default=None, gt=0)
    max_error_rate: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _requests_or_duration(self) -> Self:
        if (self.requests is None) == (self.duration_seconds is None):
            raise ValueError("give exactly one of requests and duration_seconds")
        if self.rate_per_second is not None and self.requests is not None:
            scheduled_seconds = (self.requests - 1) / self.rate_per_second
            if scheduled_seconds > MAX_LOAD_SECONDS:
                raise ValueError(
                    f"{self.requests} requests at {self.rate_per_second:g}/s take {scheduled_seconds:.0f} s: "
                    f"at most {MAX_LOAD_SECONDS} s (raise rate_per_second or send fewer requests)"
                )
        return self


class TestSuite(_Strict):
    """An endpoint's integration test suite (a file in the project's repository, written by CI)."""

    __test__ = False  # not a pytest class

    version: int = Field(default=1, ge=1, le=1)
    description: str | None = None
    cases: list[TestCase] = Field(default=[], max_length=50)
    load: LoadPhase | None = None

    @model_validator(mode="after")
    def _something_to_run_and_unique_names(self) -> Self:
        if not self.cases and self.load is None:
            raise ValueError("a suite needs at least one case or a load phase")
        names = [case.name for case in self.cases]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"case names must be unique: {duplicates} repeat")
        return self


TestCase.__test__ = False  # type: ignore[attr-defined]


def run_id_for(now: datetime) -> str:
    """Run ids sort by time: ``2026-11-25T18:30:00.123456Z``."""
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
