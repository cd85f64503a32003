"""The push triggers of the stack's shared CodeBuild project (the project lifecycle's
:class:`~mlops_core.projects.ports.CiBuildTriggerPort`), for repositories built in AWS (CodeCommit).

A ``CodeCommit Repository State Change`` event carries no tags, so one static rule could not tell whose
repository was pushed nor which role to build it with. Each project gets its own rule on the default
bus, ``mlops-ci-{project}`` (the name of its CI role too), matching branch creations and updates of its
repository's ``feature-*``, ``dev`` and ``prod`` branches. Its one target is the shared project, started
by EventBridge as the stack's trigger role with StartBuild parameters an InputTransformer makes from the
event: the pushed commit (``sourceVersion``), the repository's clone URL, the repository's
``buildspec.yml``, the project's CI role (``serviceRoleOverride``) and the CI variables plus ``BRANCH``
(``environmentVariablesOverride``).

A rule is tagged with the project and the managing stack when it is created, and one of that name
without this stack's tag is refused (rule names are per account and region, like role names).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from mlops_core.adapters import aws_errors
from mlops_core.adapters.git_providers import CI_BRANCH_PATTERNS
from mlops_core.contract import tags as tag_keys
from mlops_core.projects.ports import BuildSource, CiAccessError, CiServiceTrust

TARGET_ID = "shared-codebuild-project"
CODEBUILD_SERVICE = "codebuild.amazonaws.com"
# The branches whose CI the other providers' roles trust (CI_BRANCH_PATTERNS), as an event pattern: a
# prefix match for feature-*, the others exactly.
BRANCH_PATTERN: list[Any] = [
    {"prefix": branch.removesuffix("*")} if branch.endswith("*") else branch for branch in CI_BRANCH_PATTERNS
]
# The buildspec at the repository's root (the seed code's), whatever the shared project says.
BUILDSPEC = "buildspec.yml"


def trigger_name(project: str) -> str:
    return f"mlops-ci-{project}"


def event_pattern(repository_arn: str) -> dict[str, Any]:
    """A branch of the repository created or moved (CodeCommit User Guide, "CodeCommit Repository
    State Change" events: ``referenceCreated``, ``referenceUpdated``; a deleted branch is
    ``referenceDeleted`` and starts nothing)."""
    return {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": [repository_arn],
        "detail": {
            "event": ["referenceCreated", "referenceUpdated"],
            "referenceType": ["branch"],
            "referenceName": BRANCH_PATTERN,
        },
    }


def input_transformer(source: BuildSource, role_arn: str, variables: Mapping[str, str]) -> dict[str, Any]:
    """StartBuild's parameters from the event (EventBridge User Guide, "Transforming target input":
    a placeholder inside a JSON string is replaced by the value's text)."""
    environment = [{"name": "BRANCH", "value": "<branch>", "type": "PLAINTEXT"}] + [
        {"name": name, "value": _template_text(value), "type": "PLAINTEXT"}
        for name, value in variables.items()
    ]
    template = {
        "sourceTypeOverride": "CODECOMMIT",
        "sourceLocationOverride": _template_text(source.clone_url),
        "sourceVersion": "<commit>",
        "buildspecOverride": BUILDSPEC,
        "serviceRoleOverride": _template_text(role_arn),
        "environmentVariablesOverride": environment,
    }
    return {
        "InputPathsMap": {"commit": "$.detail.commitId", "branch": "$.detail.referenceName"},
        "InputTemplate": json.dumps(template),
    }


def _template_text(value: str) -> str:
    """A fixed value in the template: angle brackets would read as placeholders."""
    if "<" in value or ">" in value:
        raise CiAccessError(f"{value!r} cannot be written into an EventBridge input template")
    return value


class EventBridgeCiBuildTriggers:
    def __init__(
        self,
        client: Any,
        *,
        build_project_arn: str,
        trigger_role_arn: str,
        stack_name: str,
        account_id: str,
    ) -> None:
        self._client = client
        self._project_arn = build_project_arn
        self._role_arn = trigger_role_arn
        self._stack_name = stack_name
        self._account_id = account_id

    @property
    def trust(self) -> CiServiceTrust:
        return CiServiceTrust(CODEBUILD_SERVICE, self._project_arn, self._account_id)

    def ensure_trigger(
        self, project: str, source: BuildSource, role_arn: str, variables: Mapping[str, str]
    ) -> str:
        name = trigger_name(project)
        with _explained(name):
            rule = self._rule(name)
            if rule is not None:
                self._check_ours(name, str(rule["Arn"]))
            # PutRule and PutTargets are idempotent: a repeated Create changes nothing.
            # (PutRule ignores Tags when the rule exists.)
            self._client.put_rule(
                Name=name,
                EventPattern=json.dumps(event_pattern(source.repository_arn)),
                State="ENABLED",
                Description=f"A push to a CI branch of project {project}'s repository builds it"[:512],
                Tags=[
                    {"Key": tag_keys.PROJECT, "Value": project},
                    {"Key": tag_keys.MANAGED_BY, "Value": self._stack_name},
                ],
            )
            answer = self._client.put_targets(
                Rule=name,
                Targets=[
                    {
                        "Id": TARGET_ID,
                        "Arn": self._project_arn,
                        "RoleArn": self._role_arn,
                        "InputTransformer": input_transformer(source, role_arn, variables),
                    }
                ],
            )
        if answer.get("FailedEntryCount"):
            raise CiAccessError(f"EventBridge rule {name}: its target was refused ({_failures(answer)})")
        return name

    def remove_trigger(self, project: str) -> str:
        name = trigger_name(project)
        with _explained(name):
            rule = self._rule(name)
            if rule is None:
                return "absent"
            self._check_ours(name, str(rule["Arn"]))
            # A rule with targets cannot be deleted (DeleteRule); a retried Delete finds them gone.
            ids = [
                target["Id"]
                for page in self._client.get_paginator("list_targets_by_rule").paginate(Rule=name)
                for target in page["Targets"]
            ]
            if ids:
                # RemoveTargets "can partially fail" (API reference): then the rule keeps a target and
                # DeleteRule would refuse it; say which.
                removed = self._client.remove_targets(Rule=name, Ids=ids)
                if removed.get("FailedEntryCount"):
                    raise CiAccessError(f"EventBridge rule {name}: {_failures(removed)}; its targets stay")
            self._client.delete_rule(Name=name)
        return "deleted"

    def _rule(self, name: str) -> dict[str, Any] | None:
        try:
            rule: dict[str, Any] = self._client.describe_rule(Name=name)
        except self._client.exceptions.ResourceNotFoundException:
            return None
        return rule

    def _check_ours(self, name: str, arn: str) -> None:
        tags = {
            tag["Key"]: tag["Value"] for tag in self._client.list_tags_for_resource(ResourceARN=arn)["Tags"]
        }
        if tags.get(tag_keys.MANAGED_BY) != self._stack_name:
            raise CiAccessError(
                f"EventBridge rule {name} exists but is not this stack's CI trigger (its "
                f"{tag_keys.MANAGED_BY} tag is {tags.get(tag_keys.MANAGED_BY)!r}); delete or rename it"
            )


def _failures(answer: Mapping[str, Any]) -> str:
    return "; ".join(
        f"{entry.get('TargetId')}: {entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
        for entry in answer.get("FailedEntries") or []
    )


def _explained(name: str) -> AbstractContextManager[None]:
    """The block's AWS errors, as the port's error naming the rule."""
    return aws_errors.reraised_as(
        lambda error: CiAccessError(f"EventBridge rule {name}: {aws_errors.describe_call(error)}")
    )
