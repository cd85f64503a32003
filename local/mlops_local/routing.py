"""EventBridge's routing: which rules of a bus match an event, and what each of their targets receives.

Rules and targets are read from the embedded EventBridge (so they are the deployed ones) and matched
with moto's implementation of EventBridge patterns (prefix, suffix, anything-but, numeric, exists,
$or, ...), among the rules that existed when the event arrived. A target receives the event, or its
`Input`, its `InputPath`, or what its `InputTransformer` makes of it.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from moto.events.models import EventPattern

if TYPE_CHECKING:
    from moto.events.utils import EventMessageType

from mlops_local import aws_events
from mlops_local.errors import LocalCloudError


@dataclass(frozen=True)
class RuleTarget:
    rule: str
    arn: str
    payload: Any  # what the target receives: the event, or what Input/InputPath/InputTransformer make of it
    role_arn: str | None = None  # the role EventBridge uses for the target (a CodeBuild project's)


def matching_targets(
    events_client: Any, bus: str, event: dict[str, Any], arrived_at: int | None = None
) -> Iterator[RuleTarget]:
    """The targets of every enabled rule on `bus` whose pattern matches `event`, rule by rule; with
    `arrived_at` (an `aws_events.now()` moment), only of the rules that existed then."""
    for page in events_client.get_paginator("list_rules").paginate(EventBusName=bus):
        for rule in page["Rules"]:
            if not _is_enabled(rule) or "EventPattern" not in rule:
                continue  # scheduled rules have no pattern: no event matches them
            if arrived_at is not None and not aws_events.rule_existed(rule["Arn"], arrived_at):
                continue
            if not EventPattern.load(rule["EventPattern"]).matches_event(cast("EventMessageType", event)):
                continue
            targets = events_client.get_paginator("list_targets_by_rule").paginate(
                Rule=rule["Name"], EventBusName=bus
            )
            for target_page in targets:
                for target in target_page["Targets"]:
                    yield RuleTarget(
                        rule["Name"],
                        target["Arn"],
                        _payload(rule["Name"], target, event),
                        target.get("RoleArn"),
                    )


def _is_enabled(rule: dict[str, Any]) -> bool:
    # ENABLED, or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
    return str(rule.get("State", "ENABLED")).startswith("ENABLED")


def _payload(rule: str, target: dict[str, Any], event: dict[str, Any]) -> Any:
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        return _json_path(event, target["InputPath"])
    if "InputTransformer" in target:
        return transform(rule, target["InputTransformer"], event)
    return event


def _json_path(event: dict[str, Any], path: str) -> Any:
    """The value at a simple JSONPath such as `$.detail.ModelPackageArn` (what InputPath allows); None
    where the event has nothing."""
    value: Any = event
    for key in filter(None, path.removeprefix("$").split(".")):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")


def transform(rule: str, transformer: dict[str, Any], event: dict[str, Any]) -> Any:
    """What an InputTransformer makes of `event` (EventBridge User Guide, "Amazon EventBridge input
    transformation"; the API text of InputTransformer): each placeholder `<name>` of the template is the
    value of `name`'s path in `InputPathsMap`, or one of the predefined `<aws.events.*>`. Inside a JSON
    string the value's text goes in (a string without its quotes, escaped); elsewhere its JSON. A
    template that is JSON once filled is delivered as JSON, any other as a string."""
    values = {key: _json_path(event, path) for key, path in transformer.get("InputPathsMap", {}).items()}
    values.update(
        {
            "aws.events.rule-name": rule,
            "aws.events.event.ingestion-time": event.get("time"),
            "aws.events.event": event,
            "aws.events.event.json": event,
        }
    )
    template = str(transformer["InputTemplate"])
    filled: list[str] = []
    in_string = False
    position = 0
    while position < len(template):
        character = template[position]
        match = _PLACEHOLDER.match(template, position) if character == "<" else None
        if match is not None and match[1] in values:
            value = values[match[1]]
            if in_string:
                text = value if isinstance(value, str) else json.dumps(value)
                filled.append(json.dumps(text)[1:-1])
            else:
                filled.append(json.dumps(value))
            position = match.end()
            continue
        if character == '"' and (position == 0 or template[position - 1] != "\\"):
            in_string = not in_string
        filled.append(character)
        position += 1
    text = "".join(filled)
    try:
        return json.loads(text)
    except ValueError:
        if template.lstrip().startswith("{"):
            raise LocalCloudError(f"rule {rule}: its InputTemplate is not JSON once filled: {text}") from None
        return text
