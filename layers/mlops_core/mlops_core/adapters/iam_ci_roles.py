"""The projects' CI roles in IAM (the project lifecycle's :class:`~mlops_core.projects.ports.CiRolePort`).

One role per project, ``{path}mlops-ci-{project}``: its trust policy admits only the OIDC tokens of
the project's repository (its ``sub`` claim) for AWS STS (its ``aud`` claim), or, for a repository built
in AWS, only CodeBuild acting for the stack's shared project (``aws:SourceArn``) in this account
(``aws:SourceAccount``); its permissions are the
stack's CI policy, attached and also set as its permissions boundary, which scopes every statement to
the project named by the role's ``mlops:project`` tag (``${aws:PrincipalTag/mlops:project}``). The
lifecycle may create roles only under the stack's path and only with that boundary (template.yaml),
and the CI role cannot change its own tags or policies.
"""

from __future__ import annotations

import contextlib
import json
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import unquote

from mlops_core.adapters import aws_errors
from mlops_core.contract import tags as tag_keys
from mlops_core.projects.ports import CiAccessError, CiServiceTrust, CiTrust

MAX_SESSION_SECONDS = 3600


def ci_role_name(project: str) -> str:
    return f"mlops-ci-{project}"


def trust_policy(trust: CiTrust | CiServiceTrust) -> dict[str, Any]:
    """Only web identity tokens from the provider, for STS, with one of the repository's subjects; or
    only the service, acting for the source resource of this account (IAM User Guide, "The confused
    deputy problem": ``aws:SourceArn`` and ``aws:SourceAccount`` in a service role's trust policy)."""
    if isinstance(trust, CiServiceTrust):
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ProjectBuilds",
                    "Effect": "Allow",
                    "Principal": {"Service": trust.service},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": trust.source_account},
                        "ArnEquals": {"aws:SourceArn": trust.source_arn},
                    },
                }
            ],
        }
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ProjectRepositoryCi",
                "Effect": "Allow",
                "Principal": {"Federated": trust.provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{trust.issuer}:aud": trust.audience},
                    "StringLike": {f"{trust.issuer}:sub": list(trust.subjects)},
                },
            }
        ],
    }


class IamCiRoles:
    def __init__(self, client: Any, *, path: str, policy_arn: str, stack_name: str) -> None:
        self._client = client
        self._path = path
        self._policy_arn = policy_arn
        self._stack_name = stack_name

    def ensure_ci_role(self, project: str, trust: CiTrust | CiServiceTrust) -> str:
        name = ci_role_name(project)
        document = trust_policy(trust)
        with self._explained(name):
            role = self._role(name)
            if role is None:
                role = self._client.create_role(
                    RoleName=name,
                    Path=self._path,
                    AssumeRolePolicyDocument=json.dumps(document),
                    PermissionsBoundary=self._policy_arn,
                    Description=f"CI of SageMaker project {project} ({_trusted(trust)})"[:1000],
                    MaxSessionDuration=MAX_SESSION_SECONDS,
                    Tags=[
                        {"Key": tag_keys.PROJECT, "Value": project},
                        {"Key": tag_keys.MANAGED_BY, "Value": self._stack_name},
                    ],
                )["Role"]
            else:
                self._check_ours(name, role)
                if _document(role.get("AssumeRolePolicyDocument")) != document:
                    self._client.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(document))
            self._client.attach_role_policy(RoleName=name, PolicyArn=self._policy_arn)  # idempotent
        return str(role["Arn"])

    def delete_ci_role(self, project: str) -> str:
        name = ci_role_name(project)
        with self._explained(name):
            role = self._role(name)
            if role is None:
                return "absent"
            self._check_ours(name, role)
            # A retried Delete finds it detached already.
            with contextlib.suppress(self._client.exceptions.NoSuchEntityException):
                self._client.detach_role_policy(RoleName=name, PolicyArn=self._policy_arn)
            self._client.delete_role(RoleName=name)
        return "deleted"

    def _role(self, name: str) -> dict[str, Any] | None:
        try:
            role: dict[str, Any] = self._client.get_role(RoleName=name)["Role"]
        except self._client.exceptions.NoSuchEntityException:
            return None
        return role

    def _check_ours(self, name: str, role: dict[str, Any]) -> None:
        boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if role.get("Path") != self._path or boundary != self._policy_arn:
            raise CiAccessError(
                f"IAM role {name} exists but is not this stack's CI role (path {role.get('Path')}, "
                f"boundary {boundary}); delete or rename it"
            )

    @staticmethod
    def _explained(name: str) -> AbstractContextManager[None]:
        return aws_errors.reraised_as(
            lambda error: CiAccessError(f"IAM role {name}: {aws_errors.describe_call(error)}")
        )


def _trusted(trust: CiTrust | CiServiceTrust) -> str:
    if isinstance(trust, CiServiceTrust):
        return f"{trust.service} for {trust.source_arn.rsplit(':', 1)[-1]} only"
    return "OIDC, its repository only"


def _document(value: Any) -> Any:
    """A role's trust policy as IAM returns it (URL-encoded JSON; boto3 usually decodes it)."""
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value
