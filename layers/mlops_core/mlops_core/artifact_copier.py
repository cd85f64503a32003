"""The artifact copier: a merge into `prod` promotes the tested dev version, without retraining.

Trigger: ``CodeCommit Repository State Change`` on the `prod` branch, or ``Git Branch Updated`` (the
CI of a GitHub/GitLab repository puts it on the application's bus). Which version:
1. the ``{project}-dev`` version whose commit is the merged dev commit (``merged_commit_id``; for
   CodeCommit, and when CI does not know it, the new `prod` head, which is the dev commit after a
   fast-forward merge), if it is approved and passed its integration tests;
2. otherwise the newest approved dev version that passed;
3. none: ``Promotion Failed``, saying why (no tested version, tests failed, not approved).

Copy, into ``{project}-prod`` (baseline) or ``{project}-champion`` and ``{project}-challenger``
(advanced): the artifact goes to the target stage's artifact location (an S3 copy, re-encrypted
with the project's KMS key if it names one, in another account through an assumed role if it names
one), and a new version is registered with the same inference specification and all the lineage
(``ModelMetrics``, ``DriftCheckBaselines``, ``MetadataProperties``, ``CustomerMetadataProperties``)
plus the source version's ARN and its test run id, as ``PendingManualApproval`` unless the project
says otherwise. Approving the copy is what deploys it (the deployer).

Idempotent: a copy carries its source ARN (:data:`SOURCE_MODEL_PACKAGE_ARN`), and the target group
is searched for it before anything is created, so promoting the same version twice gives one copy
per group; artifact keys are derived from the source version, so a retry after a partial failure
(artifact copied, registration failed) finds the artifact there and finishes the registration.

The project's promotion settings are the optional ``promotion`` map of its record (``PROJECT#{p}``
/ ``META``): ``approval_status``, ``artifact_location`` (``s3://bucket/prefix``), ``kms_key_id``,
``target_role_arn``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlparse

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlops_core import tags as tag_keys
from mlops_core.aws_clients import ClientFactory
from mlops_core.aws_events import CodeCommitRepositoryStateChange, EventBridgeEvent, ModelApprovalStatus
from mlops_core.config_table import META, ConfigTable
from mlops_core.domain_events import (
    GitBranchUpdated,
    ModelPromoted,
    PromotedVersion,
    PromotionFailed,
    PromotionFailureReason,
    TestOutcome,
)
from mlops_core.endpoint_tester import METADATA_OUTCOME, METADATA_RUN_ID
from mlops_core.event_function import Outcome
from mlops_core.naming import stage_resource_name
from mlops_core.observability import logger
from mlops_core.settings import ArtifactCopierSettings
from mlops_core.topology import PROMOTION_SOURCE, Scenario, Stage, promotion_targets

PROMOTED_BRANCH = "prod"
# Lineage a copy carries besides everything its source carries.
SOURCE_MODEL_PACKAGE_ARN = "mlops:source-model-package-arn"
SOURCE_TEST_RUN_ID = "mlops:source-test-run-id"
# How far back in a group the copier looks (newest first): for the version to promote, and for a copy.
MAX_VERSIONS_EXAMINED = 100
PROMOTION_ATTRIBUTE = "promotion"


class GitBranchUpdatedEvent(EventBridgeEvent):
    """``Git Branch Updated`` as it arrives: the envelope around the domain event CI put on the bus."""

    source: Literal["mlops.ci"]
    detail_type: Literal["Git Branch Updated"] = Field(alias="detail-type")
    detail: GitBranchUpdated


class PromotionSettings(BaseModel):
    """The ``promotion`` map of a project record; every field optional."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    approval_status: Literal["PendingManualApproval", "Approved"] | None = None
    artifact_location: str | None = Field(
        default=None, pattern=r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$"
    )
    kms_key_id: str | None = None
    target_role_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")


@dataclass(frozen=True)
class Trigger:
    """What a merge into `prod` says, whichever event said it."""

    kind: str  # codecommit | git-branch-updated
    repository: str
    branch: str
    commit_id: str | None
    merged_commit_id: str | None = None
    project: str | None = None


# ------------------------------------------------------------------------------------------ AWS ports


@dataclass(frozen=True)
class RegisteredVersion:
    """One model version, as much of it as the copier needs (``description`` is DescribeModelPackage's)."""

    arn: str
    group: str
    version: int
    approval_status: str
    description: Mapping[str, Any] = field(default_factory=dict)

    @property
    def commit_id(self) -> str | None:
        value = (self.description.get("MetadataProperties") or {}).get("CommitId")
        return str(value) if value else None

    @property
    def metadata(self) -> Mapping[str, str]:
        return self.description.get("CustomerMetadataProperties") or {}

    @property
    def test_outcome(self) -> str | None:
        return self.metadata.get(METADATA_OUTCOME)

    @property
    def test_run_id(self) -> str | None:
        return self.metadata.get(METADATA_RUN_ID)

    @property
    def approved(self) -> bool:
        return self.approval_status == ModelApprovalStatus.APPROVED.value

    @property
    def passed(self) -> bool:
        return self.test_outcome == TestOutcome.PASSED.value


class ProjectsPort(Protocol):
    def get_project(self, project: str) -> dict[str, Any] | None: ...
    def find_by_repository(self, repository_name: str) -> dict[str, Any] | None: ...


class ProjectDirectory:
    """Project records by project name (a read of the record) or by repository name (a scan of the
    records, for repositories not named after their project; the table holds one per project)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name
        self._table = ConfigTable(client, table_name)

    def get_project(self, project: str) -> dict[str, Any] | None:
        try:
            return self._table.get_project(project)
        except ClientError as error:
            if _error_code(error) == "ValidationException":
                return None  # not a key at all (e.g. an empty name)
            raise

    def find_by_repository(self, repository_name: str) -> dict[str, Any] | None:
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "FilterExpression": "sk = :meta AND repository_name = :name",
            "ExpressionAttributeValues": {":meta": {"S": META}, ":name": {"S": repository_name}},
            "ProjectionExpression": "pk",
        }
        while True:
            page = self._client.scan(**request)
            for item in page.get("Items", []):
                project = str(item["pk"]["S"]).removeprefix("PROJECT#")
                return self.get_project(project)
            if "LastEvaluatedKey" not in page:
                return None
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class RegistryPort(Protocol):
    def versions(self, group: str) -> Iterator[RegisteredVersion]: ...
    def ensure_group(self, group: str, tags: Mapping[str, str]) -> None: ...
    def register(self, request: dict[str, Any]) -> str: ...


class ArtifactStorePort(Protocol):
    def exists(self, url: str) -> bool: ...
    def copy(self, source_url: str, target_url: str, *, kms_key_id: str | None) -> None: ...


class RegistryAdapter:
    def __init__(self, client: Any) -> None:
        self._client = client

    def versions(self, group: str) -> Iterator[RegisteredVersion]:
        """The group's versions, newest (highest version number) first, described one by one as
        they are consumed; at most :data:`MAX_VERSIONS_EXAMINED`."""
        summaries: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "MaxResults": 100,
            "SortOrder": "Descending",
        }
        try:
            while True:
                page = self._client.list_model_packages(**request)
                summaries += page.get("ModelPackageSummaryList", [])
                if not page.get("NextToken") or len(summaries) >= MAX_VERSIONS_EXAMINED:
                    break
                request["NextToken"] = page["NextToken"]
        except ClientError as error:
            if "does not exist" in str(error).lower():
                return
            raise
        summaries.sort(key=lambda summary: int(summary.get("ModelPackageVersion", 0)), reverse=True)
        for summary in summaries[:MAX_VERSIONS_EXAMINED]:
            description = self._client.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            yield RegisteredVersion(
                arn=description["ModelPackageArn"],
                group=description.get("ModelPackageGroupName", group),
                version=int(description.get("ModelPackageVersion", 0)),
                approval_status=str(description.get("ModelApprovalStatus", "")),
                description=description,
            )

    def ensure_group(self, group: str, tags: Mapping[str, str]) -> None:
        try:
            self._client.describe_model_package_group(ModelPackageGroupName=group)
            return
        except ClientError as error:
            if "does not exist" not in str(error).lower():
                raise
        try:
            self._client.create_model_package_group(
                ModelPackageGroupName=group,
                ModelPackageGroupDescription="Created by the artifact copier on the first promotion.",
                Tags=tag_keys.to_aws(tags),
            )
        except ClientError as error:
            if "already exist" not in str(error).lower():
                raise

    def register(self, request: dict[str, Any]) -> str:
        return str(self._client.create_model_package(**request)["ModelPackageArn"])


def _split_s3(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an S3 URL: {url!r}")
    return parsed.netloc, parsed.path.lstrip("/")


class S3ArtifactStore:
    def __init__(self, client: Any) -> None:
        self._client = client

    def exists(self, url: str) -> bool:
        bucket, key = _split_s3(url)
        try:
            self._client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def copy(self, source_url: str, target_url: str, *, kms_key_id: str | None) -> None:
        """A managed copy (multipart above 8 MB, so artifacts over 5 GB copy too)."""
        source_bucket, source_key = _split_s3(source_url)
        bucket, key = _split_s3(target_url)
        extra: dict[str, str] = {}
        if kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
        self._client.copy({"Bucket": source_bucket, "Key": source_key}, bucket, key, ExtraArgs=extra or None)


@dataclass(frozen=True)
class TargetAccount:
    """Where copies are registered and artifacts written: this account, or one reached by a role."""

    registry: RegistryPort
    artifacts: ArtifactStorePort


class TargetAccounts(Protocol):
    def __call__(self, role_arn: str | None) -> TargetAccount: ...


# ------------------------------------------------------------------------------------------ the copier


class PromotionError(RuntimeError):
    """A promotion could not finish (raised so Lambda retries and the retry finishes it)."""


class ArtifactCopier:
    def __init__(
        self,
        settings: ArtifactCopierSettings,
        *,
        projects: ProjectsPort,
        source_registry: RegistryPort,
        target_accounts: TargetAccounts,
    ) -> None:
        self._settings = settings
        self._projects = projects
        self._source = source_registry
        self._target_accounts = target_accounts

    @classmethod
    def build(cls, settings: ArtifactCopierSettings, clients: ClientFactory) -> ArtifactCopier:
        local = TargetAccount(RegistryAdapter(clients("sagemaker")), S3ArtifactStore(clients("s3")))

        def target_accounts(role_arn: str | None) -> TargetAccount:
            if not role_arn:
                return local
            credentials = clients("sts").assume_role(
                RoleArn=role_arn, RoleSessionName=f"{settings.stack_name}-promotion"[:64]
            )["Credentials"]
            session = boto3.session.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=clients("sagemaker").meta.region_name,
            )
            remote = ClientFactory(session)
            return TargetAccount(RegistryAdapter(remote("sagemaker")), S3ArtifactStore(remote("s3")))

        return cls(
            settings,
            projects=ProjectDirectory(clients("dynamodb"), settings.config_table_name),
            source_registry=local.registry,
            target_accounts=target_accounts,
        )

    # ---------------------------------------------------------------------------------------- routes

    def on_codecommit_change(self, event: CodeCommitRepositoryStateChange) -> Outcome:
        detail = event.detail
        if detail.event not in {"referenceUpdated", "referenceCreated"} or detail.referenceType != "branch":
            return _ignored(f"{detail.event} of a {detail.referenceType} is not a merge")
        return self.promote(
            Trigger(
                kind="codecommit",
                repository=detail.repositoryName,
                branch=detail.referenceName,
                commit_id=detail.commitId,
            )
        )

    def on_git_branch_updated(self, event: GitBranchUpdatedEvent) -> Outcome:
        detail = event.detail
        return self.promote(
            Trigger(
                kind="git-branch-updated",
                repository=detail.repository,
                branch=detail.branch,
                commit_id=detail.commit_id,
                merged_commit_id=detail.merged_commit_id,
                project=detail.project,
            )
        )

    # ---------------------------------------------------------------------------------------- promote

    def promote(self, trigger: Trigger) -> Outcome:
        if trigger.branch != PROMOTED_BRANCH:
            return _ignored(f"branch {trigger.branch} is not {PROMOTED_BRANCH}")
        project, record = self._project_of(trigger)
        if record is None:
            return _failed(
                trigger,
                project,
                PromotionFailureReason.UNKNOWN_PROJECT,
                f"no project record names repository {trigger.repository!r}; "
                "is it a project created by this control plane?",
            )
        try:
            scenario = Scenario(record.get("scenario") or Scenario.BASELINE)
            promotion = PromotionSettings.model_validate(record.get(PROMOTION_ATTRIBUTE) or {})
        except (ValueError, ValidationError) as error:
            return _failed(
                trigger,
                project,
                PromotionFailureReason.UNKNOWN_PROJECT,
                f"project record is invalid: {error}",
            )

        wanted = trigger.merged_commit_id or trigger.commit_id
        source, selected_by, failure = self._select(project, wanted)
        if source is None:
            assert failure is not None
            return _failed(trigger, project, *failure)

        target = self._target_accounts(promotion.target_role_arn)
        promoted = [
            self._copy(source, project, stage, promotion, target) for stage in promotion_targets(scenario)
        ]
        event = ModelPromoted(
            project=project,
            scenario=scenario.value,
            trigger=trigger.kind,
            commit_id=trigger.commit_id,
            source_model_package_arn=source.arn,
            source_commit_id=source.commit_id,
            test_run_id=source.test_run_id,
            selected_by=selected_by,
            promoted=promoted,
        )
        details = {"source": source.arn, "promoted": [p.model_package_arn for p in promoted]}
        return Outcome("promoted", details, [event])

    def _project_of(self, trigger: Trigger) -> tuple[str, dict[str, Any] | None]:
        """The project a repository belongs to: the one CI names, else the repository's own name
        (``owner/name`` or a URL: its last part), which is the project's unless the record says
        otherwise (then the records are searched by ``repository_name``)."""
        name = posixpath.basename(trigger.repository.rstrip("/")).removesuffix(".git")
        for candidate in dict.fromkeys(filter(None, (trigger.project, name))):
            record = self._projects.get_project(candidate)
            if record is not None:
                return candidate, record
        found = self._projects.find_by_repository(name)
        if found is not None:
            return str(found.get("project") or name), found
        return trigger.project or name, None

    def _select(
        self, project: str, wanted_commit: str | None
    ) -> tuple[RegisteredVersion | None, str, tuple[PromotionFailureReason, str] | None]:
        group = stage_resource_name(project, PROMOTION_SOURCE)
        examined: list[RegisteredVersion] = []
        merged: RegisteredVersion | None = None
        for version in self._source.versions(group):
            examined.append(version)
            if merged is None and wanted_commit and version.commit_id == wanted_commit:
                merged = version
                if version.approved and version.passed:
                    return version, "merged-commit", None
        for version in examined:
            if version.approved and version.passed:
                if merged is not None:
                    logger.info(
                        f"merged commit's version {merged.arn} is not approved and passed; "
                        f"promoting the newest that is, {version.arn}"
                    )
                return version, "newest-tested", None
        return None, "", _why_none(group, examined, merged)

    def _copy(
        self,
        source: RegisteredVersion,
        project: str,
        stage: Stage,
        promotion: PromotionSettings,
        target: TargetAccount,
    ) -> PromotedVersion:
        group = stage_resource_name(project, stage)
        tags = tag_keys.resource_tags(
            project=project, stage=stage, managed_by=self._settings.stack_name, commit_id=source.commit_id
        )
        approval = promotion.approval_status or self._settings.promotion_approval_status
        spec, artifacts = self._copied_inference_specification(source, project, stage, promotion, target)
        existing = next(
            (
                v
                for v in target.registry.versions(group)
                if v.metadata.get(SOURCE_MODEL_PACKAGE_ARN) == source.arn
            ),
            None,
        )
        if existing is not None:
            return PromotedVersion(
                stage=stage,
                model_package_group=group,
                model_package_arn=existing.arn,
                approval_status=existing.approval_status,
                artifact_urls=artifacts,
                created=False,
            )
        target.registry.ensure_group(group, tags)
        description = source.description
        metadata = {**source.metadata, SOURCE_MODEL_PACKAGE_ARN: source.arn}
        if source.test_run_id:
            metadata[SOURCE_TEST_RUN_ID] = source.test_run_id
        request: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelPackageDescription": f"Promoted from {source.group} v{source.version} ({source.arn})",
            "InferenceSpecification": spec,
            "ModelApprovalStatus": approval,
            "CustomerMetadataProperties": metadata,
            "Tags": tag_keys.to_aws(tags),
        }
        for lineage in ("ModelMetrics", "DriftCheckBaselines", "MetadataProperties"):
            if description.get(lineage):
                request[lineage] = description[lineage]
        for optional in ("Domain", "Task", "SamplePayloadUrl"):
            if description.get(optional):
                request[optional] = description[optional]
        arn = target.registry.register(request)
        return PromotedVersion(
            stage=stage,
            model_package_group=group,
            model_package_arn=arn,
            approval_status=approval,
            artifact_urls=artifacts,
            created=True,
        )

    def _copied_inference_specification(
        self,
        source: RegisteredVersion,
        project: str,
        stage: Stage,
        promotion: PromotionSettings,
        target: TargetAccount,
    ) -> tuple[dict[str, Any], list[str]]:
        """The source's inference specification, with each container's artifact copied to the
        target stage's location (the copy skipped when an earlier attempt already made it)."""
        spec = dict(source.description.get("InferenceSpecification") or {})
        if not spec.get("Containers"):
            raise PromotionError(f"{source.arn} has no inference specification to copy")
        location = promotion.artifact_location or f"s3://{self._settings.promoted_artifact_bucket}"
        containers = []
        artifacts = []
        for index, source_container in enumerate(spec["Containers"]):
            container = dict(source_container)
            source_url = container.get("ModelDataUrl")
            if source_url:
                _, source_key = _split_s3(source_url)
                name = posixpath.basename(source_key) or "model.tar.gz"
                folder = f"{source.group}-v{source.version}" + (f"-c{index}" if index else "")
                target_url = f"{location.rstrip('/')}/{project}/{stage.value}/{folder}/{name}"
                if not target.artifacts.exists(target_url):
                    target.artifacts.copy(source_url, target_url, kms_key_id=promotion.kms_key_id)
                container["ModelDataUrl"] = target_url
                artifacts.append(target_url)
            containers.append(container)
        spec["Containers"] = containers
        return spec, artifacts


def _why_none(
    group: str, examined: list[RegisteredVersion], merged: RegisteredVersion | None
) -> tuple[PromotionFailureReason, str]:
    """The reason nothing can be promoted, about the merged commit's version when there is one."""
    if merged is not None:
        if merged.test_outcome not in {TestOutcome.PASSED.value, TestOutcome.FAILED.value}:
            return PromotionFailureReason.NO_TESTED_VERSION, (
                f"{merged.arn} (the merged commit) has no passed or failed test run "
                f"({merged.test_outcome or 'never tested'}), and no other "
                f"version of {group} is approved and passed; deploy it to {group} and let the tests run"
            )
        if not merged.passed:
            return PromotionFailureReason.TESTS_FAILED, (
                f"{merged.arn} (the merged commit) has integration tests {merged.test_outcome} "
                f"(run {merged.test_run_id}); fix it, or approve a version that passed, and merge again"
            )
        return PromotionFailureReason.NOT_APPROVED, (
            f"{merged.arn} (the merged commit) passed its tests but is {merged.approval_status}; "
            "approve it and merge again"
        )
    if any(v.passed for v in examined):
        passed = next(v for v in examined if v.passed)
        return PromotionFailureReason.NOT_APPROVED, (
            f"the newest version of {group} that passed its tests, {passed.arn}, is {passed.approval_status}"
        )
    if any(v.test_outcome == TestOutcome.FAILED.value for v in examined):
        return PromotionFailureReason.TESTS_FAILED, f"no version of {group} passed its integration tests"
    return PromotionFailureReason.NO_TESTED_VERSION, (
        f"no version of {group} has been tested ({len(examined)} versions); approve one so it is deployed "
        "and tested, then merge again"
    )


def _failed(trigger: Trigger, project: str | None, reason: PromotionFailureReason, message: str) -> Outcome:
    event = PromotionFailed(
        project=project,
        repository=trigger.repository,
        trigger=trigger.kind,
        commit_id=trigger.commit_id,
        merged_commit_id=trigger.merged_commit_id,
        reason=reason,
        message=message,
    )
    return Outcome("failed", {"reason": reason.value, "message": message}, [event])


def _ignored(reason: str) -> Outcome:
    return Outcome("ignored", {"reason": reason})
