"""The project lifecycle: a SageMaker project's Create, Update and Delete (docs/service-catalog.md).

Create: repository (seed code on ``prod``, ``dev`` branched from it) → its CI access (for a provider
whose CI assumes an AWS role: :mod:`mlops_core.projects.ci_access`) → model groups of the scenario →
project record → ``Project Created``. Each step creates only what is missing, and the
record is written last, so a Create that failed half-way can simply be retried.

Update adds what a new scenario needs (baseline → advanced adds the champion and challenger
groups); it never removes anything, so going back from advanced to baseline is refused, and so is
a rename or a move of the repository (another RepositoryName or GitProvider). The checks compare
with the stored record, so the Update of a rollback (old properties sent as new) succeeds.

Delete never loses work and never blocks the stack: it acts only on a project this function
created (its physical id and the record's project id match the request), the repository and the
model groups follow their retention policies, a group that holds versions is always kept (the
reason is reported), the record is marked deleted, and the answer is SUCCESS unless the request
itself was invalid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.custom_resource_request import CustomResourceRequest
from mlops_core.contract.events.projects import ProjectCreated, ProjectDeleted
from mlops_core.contract.naming import parse_stage_resource
from mlops_core.contract.outcome import InvalidRequestError, ResourceOutcome
from mlops_core.contract.project_record import (
    GitProviderName,
    ModelGroupRetention,
    ProjectProperties,
    ProjectRecord,
    ProjectStatus,
    model_group_names,
    utc_now,
)
from mlops_core.contract.topology import Scenario
from mlops_core.projects.ci_access import CiAccess
from mlops_core.projects.ports import (
    BatchSchedulesPort,
    GitProvider,
    GitProviderError,
    ModelGroupPort,
    ProjectStorePort,
    Repository,
    SeedFile,
)
from mlops_core.projects.settings import ProjectLifecycleSettings

PHYSICAL_ID_PREFIX = "mlops-project:"


@dataclass(frozen=True)
class ProjectLifecycle:
    """Create, update and delete projects; every dependency is given, none is built here."""

    settings: ProjectLifecycleSettings
    git_providers: Mapping[GitProviderName, Callable[[], GitProvider]]
    model_groups: ModelGroupPort
    projects: ProjectStorePort
    seed_code: Callable[[], tuple[SeedFile, ...]]
    ci_access: CiAccess | None = None  # the CI role and variables of providers whose CI needs them
    batch_schedules: BatchSchedulesPort | None = None  # a batch stage's schedule goes with its project
    now: Callable[[], str] = field(default=utc_now)

    # ------------------------------------------------------------------------------------ operations

    def create(self, request: CustomResourceRequest) -> ResourceOutcome:
        """Lambda invokes a custom resource asynchronously, so the same Create can arrive again: the
        project's stack finds the project it created (same id, same stack) and gets the same answer,
        with nothing written and no second ``Project Created``."""
        properties = self._valid_properties(request.ResourceProperties)
        previous = self.projects.get(properties.project)
        outcome = self._provision(request, properties, previous=previous)
        if (
            previous is not None
            and previous.status is ProjectStatus.ACTIVE
            and previous.project_id == properties.project_id
            and previous.stack_id == request.StackId
        ):
            return ResourceOutcome(outcome.physical_id, outcome.data, events=())
        return outcome

    def update(self, request: CustomResourceRequest) -> ResourceOutcome:
        """Checked against the stored record, not ``OldResourceProperties``: the record is written
        last, so it is what the project really is, also while CloudFormation rolls back an Update
        that failed (which sends the old properties as new, and the failed ones as old)."""
        properties = self._valid_properties(request.ResourceProperties)
        project = properties.project
        physical_id = request.PhysicalResourceId or ""
        old = self._properties(request.OldResourceProperties or {})
        was = (
            physical_id.removeprefix(PHYSICAL_ID_PREFIX)
            if physical_id.startswith(PHYSICAL_ID_PREFIX)
            else None
        )
        if was is None and old is not None:
            was = old.project
        if was is not None and was != project:
            raise InvalidRequestError(f"a SageMaker project cannot be renamed ({was} → {project})")
        previous = self.projects.get(project)
        current = (
            previous
            if previous is not None
            and previous.status is ProjectStatus.ACTIVE
            and previous.project_id == properties.project_id
            else None
        )
        provider_name: GitProviderName | None = None
        if current is not None:
            if _removes_stages(current.scenario, properties.scenario):
                raise InvalidRequestError(
                    f"project {project}: changing the scenario from {current.scenario} to "
                    f"{properties.scenario} would orphan model groups and endpoints; create a new project"
                )
            provider_name = properties.git_provider or current.git_provider
            if provider_name != current.git_provider or properties.repository_name != current.repository_name:
                raise InvalidRequestError(
                    f"project {project}: its repository cannot be moved ({current.git_provider} "
                    f"{current.repository_name} → {provider_name} {properties.repository_name}); "
                    "keep GitProvider and RepositoryName, or create a new project"
                )
        outcome = self._provision(request, properties, previous=previous, provider_name=provider_name)
        return ResourceOutcome(outcome.physical_id, outcome.data, events=())

    def delete(self, request: CustomResourceRequest) -> ResourceOutcome:
        """Acts only on what this function made for this very project: the physical id must be the
        one it returns (``mlops-project:{project}``) and the record's id the request's. Anything
        else is the rollback of a Create that failed or was refused (CloudFormation then sends
        crhelper's random physical id), possibly naming another project's name or repository:
        it is answered SUCCESS and nothing is touched. So is a Delete whose properties are invalid: a
        FAILED Delete would leave the stack in DELETE_FAILED."""
        physical_id = request.PhysicalResourceId or ""
        try:
            properties = self._valid_properties(request.ResourceProperties)
        except InvalidRequestError as error:
            if physical_id.startswith(PHYSICAL_ID_PREFIX):
                # Properties this version refuses, for a project it may have made (an older version's
                # rules): never block the deletion; keep everything and say what to delete by hand.
                return _untouched(
                    physical_id,
                    f"the request's {error}, so {physical_id} is kept as it is "
                    "(its repository, model groups and record: delete them by hand if they should go)",
                )
            return _untouched(physical_id, "the request's properties are invalid, so its Create made nothing")
        project = properties.project
        if physical_id != PHYSICAL_ID_PREFIX + project:
            return _untouched(
                physical_id, f"{physical_id or 'no physical id'} is not project {project}'s (a failed Create)"
            )
        try:
            record = self.projects.get(project)
        except Exception as error:  # never block the stack's deletion: keep everything
            return _untouched(physical_id, f"the record of project {project} could not be read: {error}")
        if record is None or record.project_id != properties.project_id:
            found = "no record" if record is None else f"the record is project id {record.project_id}'s"
            return _untouched(physical_id, f"project {project} ({properties.project_id}): {found}")
        if record.status is ProjectStatus.DELETED:
            return _untouched(physical_id, f"project {project} was already deleted")
        notes: list[str] = []
        ci_access = None
        if self.ci_access is not None:
            # Before the repository is archived (read-only) or deleted; its code is never touched.
            try:
                ci_access = self.ci_access.remove(
                    self._provider(record.git_provider), project, record.repository_name
                )
            except Exception as error:  # never block the stack's deletion; the note says what is left
                notes.append(f"the CI access of project {project} is left as it was: {error}")
        schedules = self._delete_batch_schedules(record.model_groups, notes)
        try:
            repository = self._provider(record.git_provider).retire_repository(
                record.repository_name, properties.repository_retention
            )
        except Exception as error:  # never block the stack's deletion: keep the repository
            repository = f"kept ({error})"
        deleted, kept = self._retire_model_groups(record.model_groups, properties.model_group_retention)
        now = self.now()
        try:
            self.projects.put(
                record.model_copy(
                    update={"status": ProjectStatus.DELETED, "updated_at": now, "deleted_at": now}
                )
            )
        except Exception as error:  # never block the stack's deletion; the notes say what is stale
            notes.append(f"the record of project {project} is still marked active: {error}")
        event = ProjectDeleted(
            project=project,
            project_id=properties.project_id,
            repository_name=record.repository_name,
            repository=repository,
            model_groups_deleted=deleted,
            model_groups_kept=kept,
        )
        data = {"Repository": repository, "ModelGroupsDeleted": ",".join(deleted)}
        if ci_access is not None:
            data["CiAccess"] = ci_access
        if schedules:
            data["BatchSchedulesDeleted"] = ",".join(schedules)
        return ResourceOutcome(physical_id, data, events=(event,), notes=tuple(notes))

    def _delete_batch_schedules(self, stage_names: Sequence[str], notes: list[str]) -> list[str]:
        """A batch stage's schedule (named as the stage's model group) would go on starting transform jobs
        for a project that is gone: deleted; a failure is a note, never a blocked deletion."""
        deleted: list[str] = []
        if self.batch_schedules is None:
            return deleted
        for name in stage_names:
            try:
                if self.batch_schedules.delete(name):
                    deleted.append(name)
            except Exception as error:  # never block the stack's deletion; the note says what is left
                notes.append(f"the batch schedule {name} is left as it was: {error}")
        return deleted

    # --------------------------------------------------------------------------------------- helpers

    def _provision(
        self,
        request: CustomResourceRequest,
        properties: ProjectProperties,
        previous: ProjectRecord | None,
        provider_name: GitProviderName | None = None,
    ) -> ResourceOutcome:
        project = properties.project
        active = previous is not None and previous.status is ProjectStatus.ACTIVE
        if previous is not None and active and previous.project_id != properties.project_id:
            raise InvalidRequestError(
                f"project {project} already exists with id {previous.project_id}; choose another project name"
            )
        provider_name = provider_name or self._provider_name(properties)
        provider = self._provider(provider_name)
        repository = provider.ensure_repository(
            properties.repository_name,
            description=f"SageMaker project {project} ({properties.project_id})",
            files=self.seed_code(),
            tags={tag_keys.PROJECT: project, tag_keys.MANAGED_BY: self.settings.stack_name},
        )
        ci_role_arn = (
            self.ci_access.configure(provider, project, properties.repository_name)
            if self.ci_access is not None
            else None
        )
        groups = model_group_names(project, properties.scenario, properties.registry_backend)
        for group in groups:
            if not self.model_groups.model_group_exists(group):
                resource = parse_stage_resource(group)
                assert resource is not None
                self.model_groups.create_model_group(
                    group,
                    description=f"{resource.stage} model versions of project {project}",
                    tags={
                        **tag_keys.resource_tags(
                            project=project, stage=resource.stage, managed_by=self.settings.stack_name
                        ),
                        "sagemaker:project-name": project,
                        "sagemaker:project-id": properties.project_id,
                    },
                )
        now = self.now()
        record = ProjectRecord(
            project=project,
            project_id=properties.project_id,
            scenario=properties.scenario,
            registry_backend=properties.registry_backend,
            git_provider=provider_name,
            repository_name=properties.repository_name,
            repository_url=repository.url,
            repository_retention=properties.repository_retention,
            model_group_retention=properties.model_group_retention,
            # Groups of an earlier scenario stay the project's (Update never removes any); a deleted
            # project's groups are not a re-created one's.
            model_groups=tuple(
                dict.fromkeys([*(previous.model_groups if previous and active else ()), *groups])
            ),
            deployment_defaults=properties.deployment_defaults,
            slack_webhook_secret=properties.slack_webhook_secret,
            slack_approvers=properties.slack_approvers,
            reject_on_test_failure=properties.reject_on_test_failure,
            mlflow_model_name=properties.mlflow_model_name,
            mlflow_serving_image=properties.mlflow_serving_image,
            stack_id=request.StackId,
            created_at=previous.created_at if previous and active else now,
            updated_at=now,
        )
        if previous is None or record != previous.model_copy(update={"updated_at": now}):
            self.projects.put(record)  # (a record that would not change is not written again)
        event = ProjectCreated(
            project=project,
            project_id=properties.project_id,
            scenario=properties.scenario,
            registry_backend=properties.registry_backend,
            git_provider=provider_name,
            repository_url=repository.url,
            model_groups=record.model_groups,
        )
        data = _answer_data(record, repository)
        if ci_role_arn is not None:
            data["CiRoleArn"] = ci_role_arn
        return ResourceOutcome(physical_id=PHYSICAL_ID_PREFIX + project, data=data, events=(event,))

    def _retire_model_groups(
        self, groups: tuple[str, ...], retention: ModelGroupRetention
    ) -> tuple[tuple[str, ...], dict[str, str]]:
        deleted: list[str] = []
        kept: dict[str, str] = {}
        for group in groups:
            try:
                if not self.model_groups.model_group_exists(group):
                    continue
                if retention is ModelGroupRetention.RETAIN:
                    kept[group] = "the retention policy is retain"
                elif self.model_groups.model_group_has_versions(group):
                    kept[group] = "it holds model versions"
                else:
                    self.model_groups.delete_model_group(group)
                    deleted.append(group)
            except Exception as error:  # never block the stack's deletion: keep the group
                kept[group] = str(error)
        return tuple(deleted), kept

    def _provider_name(self, properties: ProjectProperties) -> GitProviderName:
        return properties.git_provider or self.settings.default_git_provider

    def _provider(self, name: GitProviderName) -> GitProvider:
        factory = self.git_providers.get(name)
        if factory is None:
            raise GitProviderError(
                f"git provider {name} is not available in this deployment (it has "
                f"{', '.join(sorted(self.git_providers))}); choose one of those as GitProvider"
            )
        return factory()

    @staticmethod
    def _valid_properties(raw: Mapping[str, Any]) -> ProjectProperties:
        try:
            return ProjectProperties.model_validate(dict(raw))
        except ValidationError as error:
            raise InvalidRequestError(_invalid_properties(error)) from None

    @classmethod
    def _properties(cls, raw: Mapping[str, Any]) -> ProjectProperties | None:
        try:
            return cls._valid_properties(raw)
        except InvalidRequestError:
            return None


def _removes_stages(old: Scenario, new: Scenario) -> bool:
    """Advanced → baseline would leave the champion and challenger groups and endpoints orphaned.
    (Baseline → advanced keeps the ``prod`` group as one of the project's groups.)"""
    return old is Scenario.ADVANCED and new is Scenario.BASELINE


def _untouched(physical_id: str, why: str) -> ResourceOutcome:
    """A Delete that must not act: SUCCESS, nothing deleted, and the note says why."""
    return ResourceOutcome(physical_id, {"Repository": "untouched"}, notes=(f"nothing deleted: {why}",))


def _invalid_properties(error: ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in problem["loc"]) or "properties"
        problems.append(f"{where}: {problem['msg'].removeprefix('Value error, ')}")
    return "invalid properties: " + "; ".join(problems)


def _answer_data(record: ProjectRecord, repository: Repository) -> dict[str, str]:
    """``Fn::GetAtt`` attributes of the custom resource (the product's outputs)."""
    return {
        "ProjectName": record.project,
        "RepositoryName": repository.name,
        "RepositoryUrl": repository.url,
        "GitProvider": repository.provider.value,
        "Scenario": record.scenario.value,
        "ModelGroups": ",".join(record.model_groups),
    }
