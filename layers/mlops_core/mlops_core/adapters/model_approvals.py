"""A model version's approval in the SageMaker Model Registry (the Slack approvals'
:class:`~mlops_core.notifications.ports.ApprovalRegistry`): DescribeModelPackage and UpdateModelPackage.

The client is the Slack approvals function's own, with short timeouts and few retries: Slack waits
three seconds for the answer. A missing version is None; any other error is raised as it is."""

from __future__ import annotations

from typing import Any

from mlops_core.adapters import aws_errors
from mlops_core.notifications.ports import VersionApproval


class ModelApprovals:
    def __init__(self, client: Any) -> None:
        self._client = client

    def approval(self, model_package_arn: str) -> VersionApproval | None:
        try:
            described = self._client.describe_model_package(ModelPackageName=model_package_arn)
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.is_not_found(error):
                return None
            raise
        return VersionApproval(
            status=str(described.get("ModelApprovalStatus", "")),
            description=described.get("ApprovalDescription"),
        )

    def set_approval(self, model_package_arn: str, status: str, description: str) -> None:
        self._client.update_model_package(
            ModelPackageArn=model_package_arn, ModelApprovalStatus=status, ApprovalDescription=description
        )
