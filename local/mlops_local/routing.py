"""EventBridge's routing: which rules of a bus match an event, and what each of their targets receives.

Rules and targets are read from the embedded EventBridge (so they are the deployed ones) and matched
with moto's implementation of EventBridge patterns (prefix, suffix, anything-but, numeric, exists,
$or, ...).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from moto.events.models import EventPattern

if TYPE_CHECKING:
    from moto.events.utils import EventMessageType

from mlops_local.errors import LocalCloudError


@dataclass(frozen=True)
class RuleTarget:
    rule: str
    arn: str
    payload: Any  # what the target receives: the event, or what Input/InputPath make of it


def matching_targets(events_client: Any, bus: str, event: dict[str, Any]) -> Iterator[RuleTarget]:
    """The targets of every enabled rule on `bus` whose pattern matches `event`, rule by rule."""
    for page in events_client.get_paginator("list_rules").paginate(EventBusName=bus):
        for rule in page["Rules"]:
            if not _is_enabled(rule) or "EventPattern" not in rule:
                continue  # scheduled rules have no pattern: no event matches them
            if not EventPattern.load(rule["EventPattern"]).matches_event(cast("EventMessageType", event)):
                continue
            targets = events_client.get_paginator("list_targets_by_rule").paginate(
                Rule=rule["Name"], EventBusName=bus
            )
            for target_page in targets:
                for target in target_page["Targets"]:
                    yield RuleTarget(rule["Name"], target["Arn"], _payload(rule["Name"], target, event))


def _is_enabled(rule: dict[str, Any]) -> bool:
    # ENABLED, or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
    return str(rule.get("State", "ENABLED")).startswith("ENABLED")


def _payload(rule: str, target: dict[str, Any], event: dict[str, Any]) -> Any:
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        return _json_path(event, target["InputPath"])
    if "InputTransformer" in target:
        raise LocalCloudError(f"rule {rule}: the local cloud does not apply InputTransformer yet")
    return event


def _json_path(event: dict[str, Any], path: str) -> Any:
    """The value at a simple JSONPath such as `$.detail.ModelPackageArn` (what InputPath allows)."""
    value: Any = event
    for key in filter(None, path.removeprefix("$").split(".")):
        value = value[key]
    return value
