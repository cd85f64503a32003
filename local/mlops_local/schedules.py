"""EventBridge Scheduler's schedules, run by the local cloud when a test says their time has come.

No schedule fires by itself here. `run_schedule(group, name)` is one schedule's time coming: its target
is called as the schedule's role, so IAM decides, as it does for Scheduler:
- a universal target (`arn:aws:scheduler:::aws-sdk:{service}:{operation}`): that operation, with the
  `Input` as its request and the context attributes (`<aws.scheduler.schedule-arn>` ...) filled in;
- the templated EventBridge target (an event bus's ARN): PutEvents of one entry on that bus, its `Source`
  and `DetailType` from `EventBridgeParameters` and its `Detail` the `Input` (Scheduler User Guide,
  "Using templated targets"); an entry the bus refuses fails the run, as a failed invocation would be
  retried and then dropped by Scheduler.
A one-time schedule (`at(...)`) whose `ActionAfterCompletion` is `DELETE` is deleted once it has run, as
Scheduler deletes it after its last invocation. `due_schedules(until)` lists the one-time schedules of
every group whose time is at or before `until`: what would have run had the clock moved on.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from moto.core.utils import utcnow
from moto.scheduler.models import Schedule, scheduler_backends

UNIVERSAL_TARGET_PREFIX = "arn:aws:scheduler:::aws-sdk:"
EVENT_BUS_ARN = re.compile(r"^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/.+$")
AT_EXPRESSION = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


@dataclass(frozen=True)
class ScheduleRef:
    group: str
    name: str


def run_schedule(
    session_for_role: Callable[[str], boto3.Session],
    *,
    account: str,
    region: str,
    group: str,
    name: str,
    scheduled_time: datetime | None = None,
) -> dict[str, Any]:
    """Invoke schedule `name`'s target once, as Scheduler does at its time; the target's answer."""
    backend = scheduler_backends[account][region]
    schedule = backend.get_schedule(group, name)
    target = schedule.target
    arn = str(target["Arn"])
    session = session_for_role(str(target["RoleArn"]))
    if arn.startswith(UNIVERSAL_TARGET_PREFIX):
        answer = _call_universal_target(session, schedule, scheduled_time)
    elif EVENT_BUS_ARN.match(arn):
        answer = _put_event(session, schedule)
    else:
        raise ValueError(
            f"schedule {name} targets {arn}; the local cloud runs universal and EventBridge targets only"
        )
    if schedule_time(schedule) is not None and schedule.action_after_completion == "DELETE":
        backend.delete_schedule(group, name)
    return answer


def due_schedules(account: str, region: str, until: datetime) -> list[ScheduleRef]:
    """The one-time schedules, in every group, whose time is at or before `until` (earliest first)."""
    due = []
    for group in scheduler_backends[account][region].schedule_groups.values():
        for schedule in group.schedules.values():
            at = schedule_time(schedule)
            if at is not None and at <= until and schedule.state == "ENABLED":
                due.append((at, ScheduleRef(group.name, schedule.name)))
    return [ref for _, ref in sorted(due, key=lambda item: item[0])]


def schedule_time(schedule: Schedule) -> datetime | None:
    """A one-time schedule's time (in its `ScheduleExpressionTimezone`); None for rate and cron."""
    matched = AT_EXPRESSION.match(schedule.schedule_expression)
    if matched is None:
        return None
    zone = ZoneInfo(schedule.schedule_expression_timezone or "UTC")
    return datetime.fromisoformat(matched.group(1)).replace(tzinfo=zone).astimezone(UTC)


def _call_universal_target(
    session: boto3.Session, schedule: Schedule, scheduled_time: datetime | None
) -> dict[str, Any]:
    target = schedule.target
    service, _, operation = str(target["Arn"]).removeprefix(UNIVERSAL_TARGET_PREFIX).partition(":")
    moment = (scheduled_time or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = (
        str(target.get("Input") or "{}")
        .replace("<aws.scheduler.schedule-arn>", schedule.arn)
        .replace("<aws.scheduler.scheduled-time>", moment)
        .replace("<aws.scheduler.execution-id>", secrets.token_hex(8))
        .replace("<aws.scheduler.attempt-number>", "1")
    )
    method = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
    answer: dict[str, Any] = getattr(session.client(service), method)(**json.loads(text))
    return answer


def _put_event(session: boto3.Session, schedule: Schedule) -> dict[str, Any]:
    target = schedule.target
    parameters = target.get("EventBridgeParameters") or {}
    entry = {
        "EventBusName": str(target["Arn"]),
        "Source": parameters.get("Source"),
        "DetailType": parameters.get("DetailType"),
        "Detail": str(target.get("Input") or "{}"),
    }
    answer: dict[str, Any] = session.client("events").put_events(Entries=[entry])
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"schedule {schedule.name}: the bus refused its event: {answer['Entries']}")
    return answer
