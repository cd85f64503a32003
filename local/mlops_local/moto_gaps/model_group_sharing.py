"""Model groups shared with other accounts, which moto does not know: PutModelPackageGroupPolicy and
GetModelPackageGroupPolicy (missing in moto); DescribeModelPackage, ListModelPackages (group ARN) and
CreateModel (a container's ModelPackageName) naming another account's model package or group are
answered from that account, if the group's resource policy allows the caller's account that action
(else AccessDeniedException, as AWS answers); moto looks every ARN up in the caller's account.
"""

import fnmatch
import functools
import json
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import SagemakerClientError, ValidationError
from moto.sagemaker.models import (
    ModelPackage,
    ModelPackageGroup,
    SageMakerModelBackend,
    sagemaker_backends,
)
from moto.sagemaker.responses import SageMakerResponse


class _AccessDeniedError(SagemakerClientError):
    code = "AccessDeniedException"


# The resource policy of each model group (PutModelPackageGroupPolicy), as its JSON text.
_group_policies: WeakKeyDictionary[ModelPackageGroup, str] = WeakKeyDictionary()


def _put_model_package_group_policy_response(response: SageMakerResponse) -> ActionResult:
    name = response._get_param("ModelPackageGroupName")
    group = response.sagemaker_backend.model_package_groups.get(name)
    if group is None:
        raise ValidationError(message=f"Model Package Group {name} does not exist.")
    _group_policies[group] = response._get_param("ResourcePolicy")
    return ActionResult({"ModelPackageGroupArn": group.arn})


def _get_model_package_group_policy_response(response: SageMakerResponse) -> ActionResult:
    name = response._get_param("ModelPackageGroupName")
    group = response.sagemaker_backend.model_package_groups.get(name)
    if group is None or group not in _group_policies:
        raise ValidationError(message=f"Model Package Group {name} has no resource policy.")
    return ActionResult({"ResourcePolicy": _group_policies[group]})


def _owner_backend(backend: SageMakerModelBackend, arn: str, action: str) -> SageMakerModelBackend | None:
    """The backend of the account that owns ``arn`` (a model package or group ARN of another account
    or region), once the owner's group policy allows ``action`` to the caller's account; None when
    ``arn`` is the caller's own (or not an ARN)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    account, region, resource = parts[4], parts[3], parts[5]
    if (account, region) == (backend.account_id, backend.region_name):
        return None
    group_name = resource.split("/")[1] if "/" in resource else ""
    owner = sagemaker_backends[account][region]
    group = owner.model_package_groups.get(group_name)
    policy = _group_policies.get(group) if group is not None else None
    statements = json.loads(policy).get("Statement", []) if policy is not None else []
    if isinstance(statements, dict):
        statements = [statements]
    caller = {backend.account_id, f"arn:aws:iam::{backend.account_id}:root"}

    def listed(value: Any) -> list[str]:
        return [value] if isinstance(value, str) else list(value or [])

    for statement in statements:
        principals = listed((statement.get("Principal") or {}).get("AWS"))
        if (
            statement.get("Effect") == "Allow"
            and caller & set(principals)
            and {action, "sagemaker:*"} & set(listed(statement.get("Action")))
            and any(fnmatch.fnmatchcase(arn, pattern) for pattern in listed(statement.get("Resource")))
        ):
            return owner
    raise _AccessDeniedError(
        f"User: arn:aws:iam::{backend.account_id}:root is not authorized to perform: {action} on "
        f"resource: {arn} because no resource-based policy allows the {action} action"
    )


def _describing_shared_model_packages(describe: Callable[..., ModelPackage]) -> Callable[..., ModelPackage]:
    @functools.wraps(describe)
    def describe_model_package(backend: SageMakerModelBackend, model_package_name: str) -> ModelPackage:
        owner = _owner_backend(backend, model_package_name, "sagemaker:DescribeModelPackage")
        return describe(owner or backend, model_package_name)

    return describe_model_package


def _listing_shared_model_packages(list_packages: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(list_packages)
    def list_model_packages(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
        group = kwargs.get("model_package_group_name") or ""
        owner = _owner_backend(backend, group, "sagemaker:ListModelPackages")
        return list_packages(owner or backend, **kwargs)

    return list_model_packages


def creating_models_from_shared_packages(create: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(create)
    def create_model(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
        containers = [*(kwargs.get("containers") or []), kwargs.get("primary_container") or {}]
        for container in containers:
            package_arn = container.get("ModelPackageName") or ""
            owner = _owner_backend(backend, package_arn, "sagemaker:CreateModel")
            if owner is not None:
                owner.describe_model_package(package_arn)  # it must exist
        return create(backend, **kwargs)

    return create_model


def patch() -> None:
    """Describe and list from the owner's account, and the group policy API; CreateModel's check is
    `creating_models_from_shared_packages`, which `sagemaker.patch()` wraps into its CreateModel."""
    backend = SageMakerModelBackend
    backend.describe_model_package = _describing_shared_model_packages(backend.describe_model_package)  # type: ignore[method-assign]
    backend.list_model_packages = _listing_shared_model_packages(backend.list_model_packages)  # type: ignore[method-assign]
    SageMakerResponse.put_model_package_group_policy = _put_model_package_group_policy_response  # type: ignore[attr-defined]
    SageMakerResponse.get_model_package_group_policy = _get_model_package_group_policy_response  # type: ignore[attr-defined]
