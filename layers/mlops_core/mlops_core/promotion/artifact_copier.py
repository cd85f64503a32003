"""The artifact copier: a merge into `prod` promotes the tested dev version, without retraining.

Trigger: ``CodeCommit Repository State Change`` on the `prod` branch, or ``Git Branch Updated`` (the
CI of a GitHub/GitLab repository puts it on the application bus).

Which project: the one CI names, else the project named after the repository (``PROJECT#{name}``,
a direct read, accepted only if the record's ``repository_name`` is that repository), else, for
CodeCommit, the ``mlops:project`` tag the project lifecycle put on the repository (one
``ListTagsForResource``; only a repository tagged with this stack's ``mlops:managed-by`` counts).
A CodeCommit repository that is no project's is ignored with a log line (the rule matches every
repository of the account); a CI event for an unknown project is ``Promotion Failed``.

Which version (``ListModelPackages`` of ``{project}-dev``, approved only, newest first, described one
by one and stopped as soon as the answer is known):
1. the version whose commit is the merged dev commit (``merged_commit_id``; for CodeCommit, and when
   CI does not know it, the new `prod` head, which is the dev commit after a fast-forward merge), if
   it passed its integration tests;
2. otherwise the newest approved version that passed;
3. none: ``Promotion Failed``, saying why (no tested version, tests failed, not approved), unless the
   dev group has no version at all: then the push is a new project's seed commits (or a merge before
   anything was trained), which is logged and ignored.

Copy, into ``{project}-prod`` (baseline) or ``{project}-champion`` and ``{project}-challenger``
(advanced): every artifact of the inference specification (``ModelDataUrl``, ``ModelDataSource``
objects and prefixes, and those of ``AdditionalInferenceSpecifications``) goes to the target stage's
artifact location, under a folder unique to the source version (its ARN and creation time), so a
re-created project whose version numbers restart never reuses an old artifact; an S3 copy,
re-encrypted with the project's KMS key if it names one, in another account through an assumed role
if it names one. A new version is registered with the same inference specification and the lineage
(``ModelMetrics``, ``DriftCheckBaselines``, ``MetadataProperties``, ``CustomerMetadataProperties``),
plus the source's ARN and its test outcome under ``mlops:source-*`` keys: the copy's own
``mlops:integration-tests`` keys are left for the tests of the stage it is deployed to. Approval is
``PendingManualApproval`` unless the project says otherwise.

Ownership: a version has no tags of its own (CreateModelPackage refuses ``Tags`` with a group) and
uses its group's, which is also what IAM checks when a copy is registered. So before any artifact is
copied, the target group must carry this stack's ``mlops:managed-by``: a missing group is created
with the contract tags (project, stage, stack), an existing group of another owner is a ``Promotion
Failed`` (``copy-failed``). The commit travels in the copy's ``MetadataProperties.CommitId``.

Idempotent, also under concurrency: a ``PROMOTION#{source arn}`` item in the config table records the
copies made (group → ARN) and is claimed with a conditional write before anything is created. A
second promotion of the same source finds the copies there directly (no search of the target group);
one that runs at the same time finds the claim and stops (``in-progress``, no event). Registration
carries a ``ClientToken`` derived from the source and the target group, so a retry after a crash
between registering and recording gets the same version back from SageMaker. A retry of the same
event takes its own claim back; a claim older than :data:`CLAIM_STALE_AFTER` (longer than the Lambda
timeout) is taken over.

Errors: throttling and AWS-side (5xx) errors raise, so Lambda retries and the retry finishes the
promotion; an error a retry cannot fix (access denied, validation, a missing bucket) is a
``Promotion Failed`` (``copy-failed``) that says what to fix, and is not raised.

The project's promotion settings are the optional ``promotion`` map of its record (``PROJECT#{p}``
/ ``META``): ``approval_status``, ``artifact_location`` (``s3://bucket/prefix``), ``kms_key_id``,
``target_role_arn``.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import EventBridgeEvent
from mlops_core.contract.codecommit_events import CodeCommitRepositoryStateChange
from mlops_core.contract.events.ci import GitBranchUpdated
from mlops_core.contract.events.integration_tests import TestOutcome
from mlops_core.contract.events.promotion import (
    ModelPromoted,
    PromotedVersion,
    PromotionFailed,
    PromotionFailureReason,
)
from mlops_core.contract.naming import stage_resource_name
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.tags import (
    METADATA_OUTCOME,
    METADATA_RUN_ID,
    METADATA_TIME,
    SOURCE_MODEL_PACKAGE_ARN,
    SOURCE_TEST_OUTCOME,
    SOURCE_TEST_RUN_ID,
)
from mlops_core.contract.topology import PROMOTION_SOURCE, Scenario, Stage, promotion_targets
from mlops_core.observability import logger
from mlops_core.promotion.ports import (
    ArtifactStorePort,
    ProjectsPort,
    PromotionLedgerPort,
    PromotionServiceError,
    RegisteredVersion,
    RegistryPort,
    RepositoryTagsPort,
    split_s3_url,
)
from mlops_core.promotion.settings import ArtifactCopierSettings

PROMOTED_BRANCH = "prod"
# The source's own test outcome keys: recorded on the copy under the SOURCE_* keys only, so a prod
# version never looks tested in prod before it has been.
TEST_OUTCOME_KEYS = frozenset({METADATA_OUTCOME, METADATA_RUN_ID, METADATA_TIME})
# How far back in the dev group the copier looks, newest first, for the version to promote.
MAX_VERSIONS_EXAMINED = 100
# Once a version that passed is found, how many older approved versions are still examined for the
# merged commit's own version (a merge of an older dev commit) before the newest that passed wins.
MERGED_COMMIT_LOOKAHEAD = 10
# Versions examined to explain why nothing can be promoted.
VERSIONS_EXPLAINED = 25
PROMOTION_ATTRIBUTE = "promotion"
PROMOTION_KEY_PREFIX = "PROMOTION#"


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
    event_id: str = "unknown"
    repository_arn: str | None = None

    @property
    def from_codecommit(self) -> bool:
        return self.kind == "codecommit"


# ------------------------------------------------------------------------------------------ targets


@dataclass(frozen=True)
class TargetAccount:
    """Where copies are registered and artifacts written: this account, or one reached by a role."""

    registry: RegistryPort
    artifacts: ArtifactStorePort
    account: str = "self"


class TargetAccounts(Protocol):
    def __call__(self, role_arn: str | None) -> TargetAccount: ...


def promotion_key(source: RegisteredVersion, target_account: str) -> dict[str, str]:
    """``PROMOTION#{source arn}`` / ``{account}#{source identity}``: read directly, never searched for."""
    return {"pk": PROMOTION_KEY_PREFIX + source.arn, "sk": f"{target_account}#{source.identity[:32]}"}


def client_token(source: RegisteredVersion, target_account: str, group: str) -> str:
    """CreateModelPackage's idempotency token (at most 36 of ``[a-zA-Z0-9-]``) for one copy."""
    return hashlib.sha256(f"{source.identity}|{target_account}|{group}".encode()).hexdigest()[:36]


# ------------------------------------------------------------------------------------------ the copier


class UnsupportedModelError(ValueError):
    """The source version has something the copier cannot carry into production faithfully."""


class TargetGroupNotManagedError(ValueError):
    """The model group a copy would be registered in exists, and another stack (or a person) owns it."""


class ArtifactCopier:
    def __init__(
        self,
        settings: ArtifactCopierSettings,
        *,
        projects: ProjectsPort,
        source_registry: RegistryPort,
        target_accounts: TargetAccounts,
        ledger: PromotionLedgerPort,
        repository_tags: RepositoryTagsPort | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._projects = projects
        self._source = source_registry
        self._target_accounts = target_accounts
        self._ledger = ledger
        self._repository_tags = repository_tags
        self._now = now

    # ---------------------------------------------------------------------------------------- routes

    def on_codecommit_change(self, event: CodeCommitRepositoryStateChange) -> Outcome:
        detail = event.detail
        if detail.event not in {"referenceUpdated", "referenceCreated"} or detail.referenceType != "branch":
            return _ignored(f"{detail.event} of a {detail.referenceType} is not a merge")
        repository_arn = next((r for r in event.resources if ":codecommit:" in r), None)
        return self.promote(
            Trigger(
                kind="codecommit",
                repository=detail.repositoryName,
                branch=detail.referenceName,
                commit_id=detail.commitId,
                event_id=event.id,
                repository_arn=repository_arn
                or f"arn:aws:codecommit:{event.region}:{event.account}:{detail.repositoryName}",
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
                event_id=event.id,
            )
        )

    # ---------------------------------------------------------------------------------------- promote

    def promote(self, trigger: Trigger) -> Outcome:
        if trigger.branch != PROMOTED_BRANCH:
            return _ignored(f"branch {trigger.branch} is not {PROMOTED_BRANCH}")
        try:
            return self._promote_merge(trigger)
        except PromotionServiceError as error:
            if error.retryable:
                raise  # Lambda's retry finishes it
            detail = str(error)
            logger.error(f"Promotion failed for a push to {trigger.repository}: {detail}")
            return _failed(
                trigger,
                trigger.project,
                PromotionFailureReason.COPY_FAILED,
                f"the promotion of the push to {trigger.repository} ({trigger.commit_id}) failed, and a "
                f"retry would fail the same way: {detail}. Check the copier's permissions (and the "
                "project's promotion settings: target role, artifact location, KMS key), then merge again "
                "or replay the event",
            )

    def _promote_merge(self, trigger: Trigger) -> Outcome:
        project, record = self._project_of(trigger)
        if record is None:
            if trigger.from_codecommit:
                # The rule sees every repository of the account: most are not projects'.
                logger.info(f"repository {trigger.repository} is no project's: its push to prod is ignored")
                return _ignored(f"repository {trigger.repository} is not a project's repository")
            return _failed(
                trigger,
                project,
                PromotionFailureReason.UNKNOWN_PROJECT,
                f"no project {project!r} and no project named after repository {trigger.repository!r}; "
                "set the project in the CI's event (MLOPS_PROJECT) to the SageMaker project's name",
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
        source, selected_by = self._select(project, wanted)
        if source is None:
            failure = self._why_none(project, wanted)
            if failure is None:
                group = stage_resource_name(project, PROMOTION_SOURCE)
                logger.info(
                    f"{group} has no model version at all: this push to prod (a new project's seed "
                    "commits, or a merge before anything was trained) has nothing to promote"
                )
                return _ignored(f"{group} has no model version yet")
            return _failed(trigger, project, *failure)
        target = self._target_accounts(promotion.target_role_arn)
        return self._promote(
            trigger=trigger,
            project=project,
            scenario=scenario,
            promotion=promotion,
            source=source,
            selected_by=selected_by,
            target=target,
        )

    def _promote(
        self,
        *,
        trigger: Trigger,
        project: str,
        scenario: Scenario,
        promotion: PromotionSettings,
        source: RegisteredVersion,
        selected_by: str,
        target: TargetAccount,
    ) -> Outcome:
        stages = promotion_targets(scenario)
        groups = {stage: stage_resource_name(project, stage) for stage in stages}
        key = promotion_key(source, target.account)
        existing = self._existing_copies(key, groups, target)
        if len(existing) < len(groups):
            if not self._ledger.claim(key, owner=trigger.event_id, now=self._now(), source_arn=source.arn):
                existing = self._existing_copies(key, groups, target)
                if len(existing) < len(groups):
                    logger.info(f"another invocation is promoting {source.arn} now; this one stops")
                    return Outcome("in-progress", {"source": source.arn})
            try:
                for stage in stages:
                    if stage not in existing:
                        existing[stage] = self._copy(
                            source=source,
                            project=project,
                            stage=stage,
                            promotion=promotion,
                            target=target,
                            key=key,
                        )
            except (UnsupportedModelError, TargetGroupNotManagedError) as error:
                self._ledger.release(key, owner=trigger.event_id)
                return _failed(trigger, project, PromotionFailureReason.COPY_FAILED, str(error))
            except PromotionServiceError as error:
                if not error.retryable:
                    self._ledger.release(key, owner=trigger.event_id)
                raise  # a retryable error keeps the claim: the retry of this event takes it back
            except Exception:
                self._ledger.release(key, owner=trigger.event_id)
                raise
            self._ledger.release(key, owner=trigger.event_id)
        promoted = [existing[stage] for stage in stages]
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

    def _existing_copies(
        self, key: Mapping[str, str], groups: Mapping[Stage, str], target: TargetAccount
    ) -> dict[Stage, PromotedVersion]:
        """The copies the ledger records that still exist (one DescribeModelPackage each)."""
        entry = self._ledger.read(key)
        found: dict[Stage, PromotedVersion] = {}
        for stage, group in groups.items():
            arn = entry.copies.get(group) if entry else None
            copy_ = target.registry.describe_version(arn) if arn else None
            if copy_ is not None:
                found[stage] = PromotedVersion(
                    stage=stage,
                    model_package_group=group,
                    model_package_arn=copy_.arn,
                    approval_status=copy_.approval_status,
                    artifact_urls=_artifact_urls(copy_.description),
                    created=False,
                )
        return found

    def _project_of(self, trigger: Trigger) -> tuple[str, dict[str, Any] | None]:
        """The project a repository belongs to, by direct reads: the one CI names; else the project
        named after the repository (``owner/name`` or a URL: its last part) if its record says that is
        its repository; else (CodeCommit) the ``mlops:project`` tag of a repository of this stack."""
        name = posixpath.basename(trigger.repository.rstrip("/")).removesuffix(".git")
        if trigger.project:
            return trigger.project, self._projects.get_project(trigger.project)
        record = self._projects.get_project(name)
        if record is not None and str(record.get("repository_name") or name) == name:
            return name, record
        if trigger.from_codecommit and trigger.repository_arn and self._repository_tags is not None:
            tags = self._repository_tags.tags(trigger.repository_arn) or {}
            tagged = tags.get(tag_keys.PROJECT)
            if tagged and tags.get(tag_keys.MANAGED_BY) == self._settings.stack_name:
                return tagged, self._projects.get_project(tagged)
        return name, None

    def _select(self, project: str, wanted_commit: str | None) -> tuple[RegisteredVersion | None, str]:
        """The approved dev version to promote, newest first: the merged commit's if it passed, else
        the newest that passed. Stops as soon as that is settled."""
        group = stage_resource_name(project, PROMOTION_SOURCE)
        newest_passed: RegisteredVersion | None = None
        merged_seen = False
        looked_past = 0
        for examined, version in enumerate(self._source.approved_versions(group), start=1):
            if wanted_commit and not merged_seen and version.commit_id == wanted_commit:
                if version.passed:
                    return version, "merged-commit"
                merged_seen = True  # it did not pass: the newest that did, if any
            if newest_passed is None and version.passed:
                newest_passed = version
            if newest_passed is not None:
                if not wanted_commit or merged_seen:
                    break
                looked_past += 1
            if looked_past > MERGED_COMMIT_LOOKAHEAD or examined >= MAX_VERSIONS_EXAMINED:
                break
        if newest_passed is not None:
            logger.info(
                f"the merged commit {wanted_commit} has no approved version that passed; "
                f"promoting the newest that did, {newest_passed.arn}"
            )
            return newest_passed, "newest-tested"
        return None, ""

    def _why_none(self, project: str, wanted_commit: str | None) -> tuple[PromotionFailureReason, str] | None:
        """Why nothing can be promoted (about the merged commit's version when there is one), or None
        when the dev group has no version at all."""
        group = stage_resource_name(project, PROMOTION_SOURCE)
        examined: list[RegisteredVersion] = []
        for version in self._source.recent_versions(group):
            examined.append(version)
            if len(examined) >= VERSIONS_EXPLAINED:
                break
        if not examined:
            return None
        merged = next((v for v in examined if wanted_commit and v.commit_id == wanted_commit), None)
        return _why_none(group, examined, merged)

    def _copy(
        self,
        *,
        source: RegisteredVersion,
        project: str,
        stage: Stage,
        promotion: PromotionSettings,
        target: TargetAccount,
        key: Mapping[str, str],
    ) -> PromotedVersion:
        group = stage_resource_name(project, stage)
        self._ensure_target_group(target, group, project, stage)
        approval = promotion.approval_status or self._settings.promotion_approval_status
        location = promotion.artifact_location or f"s3://{self._settings.promoted_artifact_bucket}"
        # Unique to the source version: a re-created project's v1 is not the old v1.
        folder = (
            f"{location.rstrip('/')}/{project}/{stage.value}/"
            f"{source.group}-v{source.version}-{source.identity[:12]}"
        )
        copier = _SpecificationCopier(source, folder, target.artifacts, promotion.kms_key_id)
        description = source.description
        request: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelPackageDescription": f"Promoted from {source.group} v{source.version} ({source.arn})",
            "InferenceSpecification": copier.specification(description.get("InferenceSpecification"), ""),
            "ModelApprovalStatus": approval,
            "CustomerMetadataProperties": _lineage_metadata(source),
            "ClientToken": client_token(source, target.account, group),
        }
        additional = description.get("AdditionalInferenceSpecifications") or []
        if additional:
            request["AdditionalInferenceSpecifications"] = [
                copier.specification(spec, f"a{index}") for index, spec in enumerate(additional)
            ]
        for lineage in ("ModelMetrics", "DriftCheckBaselines", "MetadataProperties"):
            if description.get(lineage):
                request[lineage] = description[lineage]
        for optional in ("Domain", "Task", "SamplePayloadUrl"):
            if description.get(optional):
                request[optional] = description[optional]
        arn = target.registry.register_version(request)
        self._ledger.record(key, group, arn)
        return PromotedVersion(
            stage=stage,
            model_package_group=group,
            model_package_arn=arn,
            approval_status=approval,
            artifact_urls=copier.copied,
            created=True,
        )

    def _ensure_target_group(self, target: TargetAccount, group: str, project: str, stage: Stage) -> None:
        """The group the copy goes to exists and is this stack's, before any artifact is copied.

        A version uses the tags of its group (CreateModelPackage takes no ``Tags`` with a group, and
        IAM scopes the registration by the group's ``mlops:managed-by``): a missing group is created
        with the contract tags, an existing one of another owner is refused."""
        stack = self._settings.stack_name
        found = target.registry.group_tags(group)
        if found is None:
            tags = tag_keys.resource_tags(project=project, stage=stage, managed_by=stack)
            if target.registry.create_group(group, tags):
                return
            found = target.registry.group_tags(group) or {}  # created since we looked: whose is it?
        owner = found.get(tag_keys.MANAGED_BY)
        if owner != stack:
            raise TargetGroupNotManagedError(
                f"model group {group} exists but is not managed by stack {stack} "
                f"({tag_keys.MANAGED_BY}: {owner or 'not set'}); its versions would carry its tags, not "
                f"this stack's. Delete it (the next promotion creates it) or re-create it tagged "
                f"{tag_keys.MANAGED_BY}={stack}, then merge again"
            )


def _lineage_metadata(source: RegisteredVersion) -> dict[str, str]:
    """The source's metadata, with its test outcome moved under the ``mlops:source-*`` keys."""
    metadata = {k: v for k, v in source.metadata.items() if k not in TEST_OUTCOME_KEYS}
    metadata[SOURCE_MODEL_PACKAGE_ARN] = source.arn
    if source.test_outcome:
        metadata[SOURCE_TEST_OUTCOME] = source.test_outcome
    if source.test_run_id:
        metadata[SOURCE_TEST_RUN_ID] = source.test_run_id
    return metadata


def _artifact_urls(description: Mapping[str, Any]) -> list[str]:
    specs = [
        description.get("InferenceSpecification") or {},
        *(description.get("AdditionalInferenceSpecifications") or []),
    ]
    urls: list[str] = []
    for spec in specs:
        for container in spec.get("Containers") or []:
            if container.get("ModelDataUrl"):
                urls.append(container["ModelDataUrl"])
            s3 = (container.get("ModelDataSource") or {}).get("S3DataSource") or {}
            if s3.get("S3Uri"):
                urls.append(s3["S3Uri"])
    return urls


class _SpecificationCopier:
    """Copies the artifacts of inference specifications into one folder per source version; an
    artifact already there with the source's size (an earlier, interrupted attempt) is not copied
    again."""

    def __init__(
        self, source: RegisteredVersion, folder: str, artifacts: ArtifactStorePort, kms_key_id: str | None
    ) -> None:
        self._source = source
        self._folder = folder
        self._artifacts = artifacts
        self._kms_key_id = kms_key_id
        self.copied: list[str] = []

    def specification(self, spec: Mapping[str, Any] | None, label: str) -> dict[str, Any]:
        what = f"additional inference specification {label}" if label else "inference specification"
        if not spec or not spec.get("Containers"):
            raise UnsupportedModelError(f"{self._source.arn} has no {what} with containers to copy")
        copied = dict(spec)
        copied["Containers"] = [
            self._container(container, "-".join(filter(None, (label, f"c{index}" if index else ""))))
            for index, container in enumerate(spec["Containers"])
        ]
        return copied

    def _container(self, source_container: Mapping[str, Any], label: str) -> dict[str, Any]:
        container = dict(source_container)
        subfolder = f"{self._folder}/{label}" if label else self._folder
        url = container.get("ModelDataUrl")
        if url:
            container["ModelDataUrl"] = self._copy_object(url, subfolder)
        data_source = container.get("ModelDataSource")
        if data_source:
            container["ModelDataSource"] = self._data_source(data_source, subfolder)
        return container

    def _data_source(self, data_source: Mapping[str, Any], subfolder: str) -> dict[str, Any]:
        s3 = data_source.get("S3DataSource")
        unsupported = sorted(set(data_source) - {"S3DataSource"})
        if not s3 or unsupported:
            raise UnsupportedModelError(
                f"{self._source.arn} has a ModelDataSource the copier cannot copy "
                f"({unsupported or 'no S3'}); register the dev version with an S3 artifact, "
                "or promote it by hand"
            )
        if s3.get("ManifestS3Uri"):
            raise UnsupportedModelError(
                f"{self._source.arn} names its artifact files in a manifest ({s3['ManifestS3Uri']}), "
                "which the copier does not rewrite; register the dev version with an S3 prefix "
                "or object instead"
            )
        copied_s3 = dict(s3)
        if s3.get("S3DataType") == "S3Prefix":
            copied_s3["S3Uri"] = self._copy_prefix(str(s3["S3Uri"]), subfolder)
        else:
            copied_s3["S3Uri"] = self._copy_object(str(s3["S3Uri"]), subfolder)
        copied_s3.pop("ETag", None)  # the source object's; the copy has its own
        return {**data_source, "S3DataSource": copied_s3}

    def _copy_object(self, source_url: str, subfolder: str) -> str:
        _, source_key = split_s3_url(source_url)
        name = posixpath.basename(source_key) or "model.tar.gz"
        target_url = f"{subfolder}/{name}"
        self._ensure_copied(source_url, target_url, self._artifacts.size(source_url))
        self.copied.append(target_url)
        return target_url

    def _copy_prefix(self, source_url: str, subfolder: str) -> str:
        prefix = source_url if source_url.endswith("/") else source_url + "/"
        objects = self._artifacts.list_prefix(prefix)
        if not objects:
            raise UnsupportedModelError(f"{self._source.arn}'s model data prefix {prefix} holds no object")
        target_prefix = f"{subfolder}/model/"
        for relative, size in objects:
            self._ensure_copied(prefix + relative, target_prefix + relative, size)
        self.copied.append(target_prefix)
        return target_prefix

    def _ensure_copied(self, source_url: str, target_url: str, source_size: int | None) -> None:
        existing = self._artifacts.size(target_url)
        if existing is not None and existing == source_size:
            return
        if existing is not None:
            logger.warning(
                f"{target_url} differs from {source_url} ({existing} vs {source_size} bytes): copied again"
            )
        self._artifacts.copy(source_url, target_url, kms_key_id=self._kms_key_id)


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
