"""EventBridge's gap in moto, filled: PutEvents hands every valid entry to `aws_events` for the local
cloud to route (moto delivers to targets itself, and would run Lambda targets in Docker), and answers
each invalid entry with the error EventBridge gives it. PutRule and DeleteRule tell `aws_events` when a
rule comes and goes, so an event is matched only against the rules that existed when it arrived.
"""

import json
from datetime import UTC, datetime
from typing import Any

from moto.events.exceptions import ValidationException as EventsValidationException
from moto.events.models import EventsBackend

from mlops_local import aws_events


def _entry_error(entry: dict[str, Any]) -> dict[str, str] | None:
    """The error EventBridge reports for a PutEvents entry, or None for a valid entry."""
    for field in ("Source", "DetailType", "Detail"):
        if not entry.get(field):
            return {
                "ErrorCode": "InvalidArgument",
                "ErrorMessage": f"Parameter {field} is not valid. Reason: {field} is a required argument.",
            }
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        detail = None
    if not isinstance(detail, dict):
        return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    return None


def _event_time(entry: dict[str, Any]) -> str | None:
    time = entry.get("Time")
    if isinstance(time, int | float):
        time = datetime.fromtimestamp(time, UTC)
    return aws_events.iso_time(time) if isinstance(time, datetime) else time


def _put_events(backend: EventsBackend, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PutEvents: EventBridge accepts each valid entry and routes it later, on its own."""
    if len(entries) > 10:
        raise EventsValidationException(
            "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy "
            "constraint: Member must have length less than or equal to 10"
        )
    results: list[dict[str, Any]] = []
    for entry in entries:
        error = _entry_error(entry)
        if error is not None:
            results.append(error)
            continue
        bus = backend.describe_event_bus(backend._normalize_event_bus_arn(entry.get("EventBusName")))
        event = aws_events.envelope(
            source=entry["Source"],
            detail_type=entry["DetailType"],
            detail=json.loads(entry["Detail"]),
            account=backend.account_id,
            region=backend.region_name,
            resources=entry.get("Resources") or [],
            time=_event_time(entry),
        )
        aws_events.put_entry(bus.name, event)
        results.append({"EventId": event["id"]})
    return results


def _recording_rule_creation(put_rule: Any) -> Any:
    def put_rule_recorded(backend: EventsBackend, name: str, *args: Any, **kwargs: Any) -> Any:
        rule = put_rule(backend, name, *args, **kwargs)
        aws_events.rule_created(rule.arn)  # (an update keeps the first moment)
        return rule

    return put_rule_recorded


def _recording_rule_deletion(delete_rule: Any) -> Any:
    def delete_rule_recorded(backend: EventsBackend, name: str, event_bus_arn: str | None) -> None:
        bus = backend._normalize_event_bus_arn(event_bus_arn)
        rule = backend.event_buses[bus].rules.get(name) if bus in backend.event_buses else None
        delete_rule(backend, name, event_bus_arn)
        if rule is not None:
            aws_events.rule_deleted(rule.arn)

    return delete_rule_recorded


def patch() -> None:
    EventsBackend.put_events = _put_events  # type: ignore[method-assign,assignment]
    EventsBackend.put_rule = _recording_rule_creation(EventsBackend.put_rule)  # type: ignore[method-assign]
    EventsBackend.delete_rule = _recording_rule_deletion(EventsBackend.delete_rule)  # type: ignore[method-assign]
