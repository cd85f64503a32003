"""The metrics of the domain events a function publishes, for the stack's dashboard (template.yaml,
``Dashboard``; docs/monitoring.md).

Published next to the events by the handlers' plumbing (:class:`~mlops_core.handlers.event_function.
EventFunction`), so no component writes metrics of its own and a redelivered event, answered from its
idempotency record, counts once. Read from each event's detail as a mapping: this module imports no
event model. Each metric is one embedded metric format log line (no API call) in the
``MLOpsControlPlane`` namespace:

- ``DomainEvents`` (Count) by ``DetailType``: deployments started, failed, rolled back; promotions;
  test runs; reaper runs;
- ``IntegrationTests`` (Count) by ``EndpointName`` and ``Outcome``;
- ``LoadLatencyP50``, ``LoadLatencyP99`` (Milliseconds) by ``EndpointName``: the load phase's figures;
- ``EndpointsReaped`` (Count) and ``InstanceHoursSavedPerDay`` (Count): what a reaper run deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from mlops_core.contract.events.base import DomainEvent
from mlops_core.observability import METRICS_NAMESPACE

DOMAIN_EVENTS = "DomainEvents"
INTEGRATION_TESTS = "IntegrationTests"
LOAD_LATENCY = {"p50_ms": "LoadLatencyP50", "p99_ms": "LoadLatencyP99"}
ENDPOINTS_REAPED = "EndpointsReaped"
INSTANCE_HOURS_SAVED = "InstanceHoursSavedPerDay"


@dataclass(frozen=True)
class MetricPoint:
    name: str
    unit: MetricUnit
    value: float
    dimensions: tuple[tuple[str, str], ...]


def metric_points(detail_type: str, detail: Mapping[str, Any]) -> list[MetricPoint]:
    """The metrics one domain event stands for."""
    points = [MetricPoint(DOMAIN_EVENTS, MetricUnit.Count, 1, (("DetailType", detail_type),))]
    endpoint = detail.get("endpoint_name")
    if detail_type == "Integration Tests Completed" and isinstance(endpoint, str):
        outcome = str(detail.get("outcome", "unknown"))
        points.append(
            MetricPoint(
                INTEGRATION_TESTS, MetricUnit.Count, 1, (("EndpointName", endpoint), ("Outcome", outcome))
            )
        )
        load = detail.get("load")
        for key, name in LOAD_LATENCY.items():
            value = load.get(key) if isinstance(load, Mapping) else None
            if isinstance(value, int | float):
                points.append(
                    MetricPoint(name, MetricUnit.Milliseconds, float(value), (("EndpointName", endpoint),))
                )
    if detail_type == "Endpoints Reaped" and not detail.get("dry_run"):
        projects = [p for p in detail.get("projects") or [] if isinstance(p, Mapping)]
        deleted = sum(len(p.get("deleted") or []) for p in projects)
        saved = sum(float(p.get("instance_hours_per_day_saved") or 0) for p in projects)
        points.append(MetricPoint(ENDPOINTS_REAPED, MetricUnit.Count, deleted, ()))
        points.append(MetricPoint(INSTANCE_HOURS_SAVED, MetricUnit.Count, saved, ()))
    return points


def publish_event_metrics(events: Iterable[DomainEvent]) -> None:
    """Write the metrics of ``events`` (one embedded metric format line each)."""
    for event in events:
        for point in metric_points(event.DETAIL_TYPE, event.detail()):
            with single_metric(
                name=point.name,
                unit=point.unit,
                value=point.value,
                namespace=METRICS_NAMESPACE,
                default_dimensions=dict(point.dimensions),
            ):
                pass
