"""The Slack message of a CloudWatch alarm's state change (``CloudWatch Alarm State Change``): an
endpoint's health or rollback alarm (in the project's channel) or one of the control plane's own
alarms (in the platform team's channel, the stack's default).

What: the alarm and its description (which names the version the endpoint serves), the state it went
to and from, the value against the threshold (from the state's ``reasonData``, when CloudWatch gives
it), the endpoint (``endpoint_name``, ``project``, ``stage``: the notifier adds them, see
:func:`alarm_context`), and a link to the alarm in the CloudWatch console. ``OK`` after ``ALARM`` is
announced as a recovery. Every text from AWS arrives escaped for Slack (``slack_messages.render``
escapes a detail before any renderer reads it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from mlops_core.contract.endpoint_alarms import endpoint_of_alarm
from mlops_core.contract.naming import parse_stage_resource

Detail = Mapping[str, Any]
Rendered = tuple[str, str, list[tuple[str, str]], str]


def console_url(region: str, alarm_name: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#alarmsV2:alarm/{quote(alarm_name, safe='')}"
    )


def alarm_context(detail: Detail, *, stack_name: str, region: str) -> dict[str, Any]:
    """The alarm event's detail with what the message and the channel need: the endpoint, project and
    stage of one of the stack's endpoint alarms, and the alarm's console URL."""
    enriched = dict(detail)
    name = str(detail.get("alarmName", ""))
    endpoint = endpoint_of_alarm(stack_name, name)
    target = parse_stage_resource(endpoint) if endpoint else None
    if endpoint:
        enriched["endpoint_name"] = endpoint
    if target is not None:
        enriched["project"] = target.project
        enriched["stage"] = target.stage.value
    if region and name:
        enriched["console_url"] = console_url(region, name)
    return enriched


def is_news(detail: Detail) -> bool:
    """Whether a state change is worth a message: into ``ALARM``, or out of it (a recovery). A new
    alarm goes from ``INSUFFICIENT_DATA`` to ``OK`` (and an alarm without data back) unnoticed:
    every endpoint's deployment would otherwise announce each of its alarms."""
    return "ALARM" in (_state(detail, "state").get("value"), _state(detail, "previousState").get("value"))


def _state(detail: Detail, key: str) -> Mapping[str, Any]:
    state = detail.get(key)
    return state if isinstance(state, Mapping) else {}


def _value_against_threshold(state: Mapping[str, Any], detail: Detail) -> str | None:
    """``Value: 99.5 (threshold 50)`` from the state's reasonData (a JSON string; the EventBridge event
    has it, an SNS notification only its reason's text), or the threshold alone, or None."""
    try:
        data = json.loads(str(state.get("reasonData") or ""))
    except ValueError:
        data = None
    points = data.get("recentDatapoints") if isinstance(data, Mapping) else None
    threshold = data.get("threshold") if isinstance(data, Mapping) else None
    if threshold is None:
        configuration = detail.get("configuration")
        threshold = configuration.get("threshold") if isinstance(configuration, Mapping) else None
    limit = f"threshold {threshold:g}" if isinstance(threshold, int | float) else ""
    if not points:
        return f"*Threshold:* {threshold:g}" if limit else None
    shown = ", ".join(f"{point:g}" if isinstance(point, int | float) else str(point) for point in points)
    return f"*Value:* {shown}" + (f" ({limit})" if limit else "")


def alarm_state_changed(_: str, d: Detail) -> Rendered:
    name = str(d.get("alarmName", "?"))
    state, previous = _state(d, "state"), _state(d, "previousState")
    value, was = str(state.get("value", "?")), str(previous.get("value", "?"))
    configuration = d.get("configuration") if isinstance(d.get("configuration"), Mapping) else {}
    assert isinstance(configuration, Mapping)
    description = str(configuration.get("description") or "")
    endpoint = d.get("endpoint_name")
    subject = f"{endpoint}" if endpoint else name
    if value == "ALARM":
        title = f":rotating_light: Alarm on {subject}"
    elif value == "OK":
        title = f":white_check_mark: Recovered: {subject}" if was == "ALARM" else f":ok: {subject} is OK"
    else:
        title = f":grey_question: {subject}: {value}"
    lines = []
    if description:
        lines.append(description)
    lines.append(f"*{was}* → *{value}*")
    if state.get("reason"):
        lines.append(f"*Why:* {state['reason']}")
    measured = _value_against_threshold(state, d)
    if measured:
        lines.append(measured)
    fields: list[tuple[str, str]] = [("Alarm", f"`{name}`")]
    for label, key in (("Project", "project"), ("Stage", "stage"), ("Endpoint", "endpoint_name")):
        if d.get(key):
            fields.append((label, f"`{d[key]}`"))
    if d.get("console_url"):
        fields.append(("Console", f"<{d['console_url']}|open the alarm>"))
    if value == "ALARM":
        next_step = (
            "Look at the endpoint's metrics and logs (link above); roll back by rejecting the version "
            "if the new version is the cause."
            if endpoint
            else "Look at the control plane's function logs and the failed-events queue (docs/monitoring.md)."
        )
    else:
        next_step = "Nothing to do." if value == "OK" else ""
    return title, "\n".join(lines), fields, next_step
