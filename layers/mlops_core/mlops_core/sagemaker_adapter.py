"""The SageMaker calls the control plane makes, behind one small adapter.

Domain logic talks to :class:`SageMakerPort`; :class:`SageMakerAdapter` implements it with a
boto3 client, and the unit tests implement it with a dictionary. The adapter is where AWS's
quirks are absorbed: "already exists" on a create is success (an earlier, interrupted attempt
made it, and names are deterministic), a missing resource is ``None``, not an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from mlops_core import tags as tag_keys
from mlops_core.aws_events import EndpointStatus, ModelApprovalStatus


@dataclass(frozen=True)
class ModelPackage:
    arn: str
    group: str
    version: int
    approval_status: ModelApprovalStatus
    commit_id: str | None = None


@dataclass(frozen=True)
class ProductionVariant:
    """One variant of an endpoint config. The name stays ``AllTraffic`` across updates: blue/green
    deployments require the new config to keep the variant names of the old one."""

    model_name: str
    instance_type: str
    instance_count: int
    name: str = "AllTraffic"

    def to_aws(self) -> dict[str, Any]:
        return {
            "VariantName": self.name,
            "ModelName": self.model_name,
            "InstanceType": self.instance_type,
            "InitialInstanceCount": self.instance_count,
            "InitialVariantWeight": 1.0,
        }


@dataclass(frozen=True)
class Endpoint:
    name: str
    arn: str
    status: EndpointStatus
    config_name: str
    tags: Mapping[str, str] = field(default_factory=dict)
    model_package_arn: str | None = None
    failure_reason: str | None = None


class SageMakerPort(Protocol):
    def describe_model_package(self, arn: str) -> ModelPackage | None: ...
    def describe_endpoint(self, name: str) -> Endpoint | None: ...
    def create_model(
        self, name: str, *, model_package_arn: str, execution_role_arn: str, tags: Mapping[str, str]
    ) -> None: ...
    def create_endpoint_config(
        self, name: str, *, variants: list[ProductionVariant], tags: Mapping[str, str]
    ) -> None: ...
    def create_endpoint(self, name: str, *, config_name: str, tags: Mapping[str, str]) -> None: ...
    def update_endpoint(self, name: str, *, config_name: str) -> None: ...
    def tag(self, arn: str, tags: Mapping[str, str]) -> None: ...


def _is_already_exists(error: ClientError) -> bool:
    message = error.response.get("Error", {}).get("Message", "")
    return "already exist" in message.lower()


def _is_not_found(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    return code in {"ResourceNotFound", "ValidationException"} and any(
        phrase in message.lower() for phrase in ("could not find", "does not exist", "not found")
    )


class SageMakerAdapter:
    def __init__(self, client: Any) -> None:
        self._client = client

    def describe_model_package(self, arn: str) -> ModelPackage | None:
        try:
            package = self._client.describe_model_package(ModelPackageName=arn)
        except ClientError as error:
            if _is_not_found(error):
                return None
            raise
        return ModelPackage(
            arn=package["ModelPackageArn"],
            group=package["ModelPackageGroupName"],
            version=int(package["ModelPackageVersion"]),
            approval_status=ModelApprovalStatus(package["ModelApprovalStatus"]),
            commit_id=(package.get("MetadataProperties") or {}).get("CommitId"),
        )

    def describe_endpoint(self, name: str) -> Endpoint | None:
        try:
            endpoint = self._client.describe_endpoint(EndpointName=name)
        except ClientError as error:
            if _is_not_found(error):
                return None
            raise
        tags = tag_keys.from_aws(self._client.list_tags(ResourceArn=endpoint["EndpointArn"]).get("Tags", []))
        return Endpoint(
            name=name,
            arn=endpoint["EndpointArn"],
            status=EndpointStatus(endpoint["EndpointStatus"]),
            config_name=endpoint["EndpointConfigName"],
            tags=tags,
            model_package_arn=self._serving_model_package(endpoint["EndpointConfigName"])
            or tags.get(tag_keys.MODEL_PACKAGE_ARN),
            failure_reason=endpoint.get("FailureReason"),
        )

    def _serving_model_package(self, config_name: str) -> str | None:
        """The model package behind the first variant of an endpoint config, if it has one."""
        try:
            config = self._client.describe_endpoint_config(EndpointConfigName=config_name)
            variants = config.get("ProductionVariants", [])
            if not variants:
                return None
            model = self._client.describe_model(ModelName=variants[0]["ModelName"])
        except ClientError as error:
            if _is_not_found(error):
                return None
            raise
        containers = model.get("Containers") or [model.get("PrimaryContainer") or {}]
        package_arn = containers[0].get("ModelPackageName") if containers else None
        return str(package_arn) if package_arn else None

    def create_model(
        self, name: str, *, model_package_arn: str, execution_role_arn: str, tags: Mapping[str, str]
    ) -> None:
        self._create(
            self._client.create_model,
            ModelName=name,
            ExecutionRoleArn=execution_role_arn,
            Containers=[{"ModelPackageName": model_package_arn}],
            Tags=tag_keys.to_aws(tags),
        )

    def create_endpoint_config(
        self, name: str, *, variants: list[ProductionVariant], tags: Mapping[str, str]
    ) -> None:
        self._create(
            self._client.create_endpoint_config,
            EndpointConfigName=name,
            ProductionVariants=[variant.to_aws() for variant in variants],
            Tags=tag_keys.to_aws(tags),
        )

    def create_endpoint(self, name: str, *, config_name: str, tags: Mapping[str, str]) -> None:
        self._create(
            self._client.create_endpoint,
            EndpointName=name,
            EndpointConfigName=config_name,
            Tags=tag_keys.to_aws(tags),
        )

    def update_endpoint(self, name: str, *, config_name: str) -> None:
        self._client.update_endpoint(EndpointName=name, EndpointConfigName=config_name)

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        self._client.add_tags(ResourceArn=arn, Tags=tag_keys.to_aws(tags))

    @staticmethod
    def _create(create: Any, **request: Any) -> None:
        try:
            create(**request)
        except ClientError as error:
            if not _is_already_exists(error):
                raise
