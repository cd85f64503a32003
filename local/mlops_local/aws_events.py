"""Events on EventBridge buses: their envelope, the SageMaker events AWS emits, and the hook to the cloud.

Two kinds of events reach a bus: entries that code puts there with PutEvents, and the events AWS
services emit on their own, such as SageMaker's model package and endpoint state changes. moto delivers
the first kind to targets itself (Lambda through Docker) and never emits the second, so the patches in
`moto_gaps` hand both to this module, and the open `LocalCloud` listens and routes them like EventBridge.

The shapes follow AWS's samples (tests/fixtures/aws-events/): the endpoint event carries its `time` and
its timestamps as epoch milliseconds, the model package event as ISO-8601, the endpoint deployment
event its `time` as ISO-8601 and its timestamps as epoch milliseconds.
"""

import copy
import itertools
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from moto.sagemaker.models import FakeEndpoint, ModelPackage

DEFAULT_BUS = "default"

EventListener = Callable[[str, dict[str, Any], bool], None]
"""Receives (bus name, event, emitted by an AWS service rather than put with PutEvents)."""

_listener: EventListener | None = None


def listen(listener: EventListener) -> None:
    """Route every event put on a bus from now on to `listener`; one listener (one cloud) at a time."""
    global _listener  # noqa: PLW0603 - the embedded AWS is one per process, and so is its listener
    if _listener is not None:
        raise RuntimeError("another LocalCloud is open in this process; close it first")
    _listener = listener
    _forget_rules()  # a new embedded AWS: rules of an earlier one (same names, same ARNs) are gone


def stop_listening() -> None:
    global _listener  # noqa: PLW0603
    _listener = None
    _forget_rules()


def put_entry(bus: str, event: dict[str, Any]) -> None:
    """An entry that code put on `bus` with PutEvents."""
    if _listener is not None:
        _listener(bus, event, False)


def emit(event: dict[str, Any], bus: str = DEFAULT_BUS) -> None:
    """An event that an AWS service emits by itself (they all go to the account's default bus)."""
    if _listener is not None:
        _listener(bus, event, True)


# EventBridge matches an event against the rules that exist when it arrives; the local cloud routes an
# event later (on `settle()`), so each event and each rule created by the API carries the moment it
# came, and a rule never matches an event that arrived before the rule was created. Rules the local cloud
# did not see created (none so far) match every event.
_moments = itertools.count()
_rules_lock = threading.Lock()
_rule_created_at: dict[str, int] = {}


def now() -> int:
    """A moment: later calls return greater ones."""
    return next(_moments)


def rule_created(rule_arn: str) -> None:
    """A rule was created now (PutRule of a rule that did not exist)."""
    with _rules_lock:
        _rule_created_at.setdefault(rule_arn, now())


def rule_deleted(rule_arn: str) -> None:
    with _rules_lock:
        _rule_created_at.pop(rule_arn, None)


def _forget_rules() -> None:
    with _rules_lock:
        _rule_created_at.clear()


def rule_existed(rule_arn: str, moment: int) -> bool:
    """Whether the rule existed at ``moment`` (when an event arrived)."""
    with _rules_lock:
        return _rule_created_at.get(rule_arn, -1) < moment


SNS_DELIVERY_PREFIX = "sns:"
"""An SNS message for a function waits in the inbox as if on the bus `sns:{function ARN}`."""


def deliver_sns(function_arn: str, event: dict[str, Any]) -> None:
    """SNS delivers `event` (its `Records`) to the function: asynchronously, like EventBridge."""
    if _listener is not None:
        _listener(SNS_DELIVERY_PREFIX + function_arn, event, True)


def iso_time(moment: datetime) -> str:
    """EventBridge's `time` format, `2021-02-24T17:00:14Z`; naive datetimes (moto's) are UTC."""
    return _as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_millis(moment: datetime) -> int:
    return int(_as_utc(moment).timestamp() * 1000)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def envelope(
    *,
    source: str,
    detail_type: str,
    detail: dict[str, Any],
    account: str,
    region: str,
    resources: Iterable[str] = (),
    time: str | None = None,
) -> dict[str, Any]:
    """An event as EventBridge delivers it, with a fresh id and (unless given) the current time."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": time or iso_time(datetime.now(UTC)),
        "region": region,
        "resources": list(resources),
        "detail": copy.deepcopy(detail),  # a snapshot: moto keeps changing its objects
    }


def with_envelope(event: dict[str, Any], *, account: str, region: str) -> dict[str, Any]:
    """`event` with the envelope fields it lacks filled in the way EventBridge fills them."""
    if "source" not in event or "detail-type" not in event:
        raise ValueError("an EventBridge event needs at least 'source' and 'detail-type'")
    filled = envelope(
        source=event["source"],
        detail_type=event["detail-type"],
        detail=event.get("detail", {}),
        account=account,
        region=region,
    )
    return copy.deepcopy({**filled, **event})


# Fields of DescribeModelPackage that the state change event does not carry.
_NOT_IN_MODEL_PACKAGE_EVENT = ("CreatedBy", "LastModifiedBy")


def model_package_state_change(package: ModelPackage, *, account: str, region: str) -> dict[str, Any]:
    """`SageMaker Model Package State Change`: the detail is the package as DescribeModelPackage shows it."""
    detail = {
        key: value
        for key, value in package.gen_response_object().items()
        if key not in _NOT_IN_MODEL_PACKAGE_EVENT
    }
    detail["ModelPackageName"] = package.model_package_name
    detail["CreationTime"] = iso_time(package.creation_time)
    detail["LastModifiedTime"] = iso_time(package.last_modified_time or package.creation_time)
    return envelope(
        source="aws.sagemaker",
        detail_type="SageMaker Model Package State Change",
        detail=detail,
        account=account,
        region=region,
        resources=[package.arn],
    )


def endpoint_state_change(endpoint: FakeEndpoint, *, account: str, region: str) -> dict[str, Any]:
    """`SageMaker Endpoint State Change`, with the status in UPPER_SNAKE and the tags as a map."""
    detail: dict[str, Any] = {
        "EndpointName": endpoint.endpoint_name,
        "EndpointArn": endpoint.arn,
        "EndpointConfigName": endpoint.endpoint_config_name,
        "ProductionVariants": endpoint.production_variants,
        "EndpointStatus": upper_snake(endpoint.endpoint_status),
        "CreationTime": epoch_millis(endpoint.creation_time),
        "LastModifiedTime": epoch_millis(endpoint.last_modified_time),
        "Tags": {tag["Key"]: tag["Value"] for tag in endpoint.tags},
    }
    if endpoint.failure_reason:
        detail["FailureReason"] = endpoint.failure_reason
    return envelope(
        source="aws.sagemaker",
        detail_type="SageMaker Endpoint State Change",
        detail=detail,
        account=account,
        region=region,
        resources=[endpoint.arn],
        time=str(epoch_millis(endpoint.last_modified_time)),
    )


def endpoint_deployment_state_change(
    endpoint: FakeEndpoint, pending_deployment_summary: dict[str, Any] | None, *, account: str, region: str
) -> dict[str, Any]:
    """`SageMaker Endpoint Deployment State Change`: the endpoint event's detail (status in UPPER_SNAKE,
    tags as a map) plus the update's `PendingDeploymentSummary`, as AWS's blue/green canary sample
    ("Events that SageMaker sends to EventBridge") has it: `time` ISO-8601, timestamps epoch ms."""
    detail = endpoint_state_change(endpoint, account=account, region=region)["detail"]
    detail.pop("FailureReason", None)
    if pending_deployment_summary:
        detail["PendingDeploymentSummary"] = _with_epoch_millis(pending_deployment_summary)
    return envelope(
        source="aws.sagemaker",
        detail_type="SageMaker Endpoint Deployment State Change",
        detail=detail,
        account=account,
        region=region,
        resources=[endpoint.arn],
        time=iso_time(endpoint.last_modified_time),
    )


def _with_epoch_millis(value: Any) -> Any:
    """`value` with every datetime in it as epoch milliseconds (how SageMaker's events carry times)."""
    if isinstance(value, datetime):
        return epoch_millis(value)
    if isinstance(value, dict):
        return {key: _with_epoch_millis(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_epoch_millis(item) for item in value]
    return value


def upper_snake(status: str) -> str:
    """`InService` -> `IN_SERVICE`: DescribeEndpoint's spelling -> the endpoint event's."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", status).upper()
