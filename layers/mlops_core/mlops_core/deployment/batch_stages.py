"""Batch stages: an approved version becomes the model of the stage's scheduled batch transform.

A stage whose compute is ``batch`` (:mod:`mlops_core.contract.batch_transform`) has no endpoint. A
version approved for it is rolled out as a SageMaker Model, named and tagged as an endpoint's model
is (so a redelivered approval makes the same one), and the stage's EventBridge Scheduler schedule is
created or updated to start its transform jobs with that model. The stage keeps two models: the
one on the schedule and the one before it (last night's transform job may still be running it, and
it is what a rejection puts back); older ones are deleted before the schedule changes, so that a
failed deletion is retried with the whole redelivered approval. The schedule's request carries the
version's tags, so the schedule itself says which version is live: an approval of that version is
``already-deployed``, one older than it ``stale`` (events come late and out of order). Rejecting the
live version puts the newest older approved version back on the schedule (``Deployment Rolled
Back``); with none, ``Deployment Failed`` says so and the schedule stays. Batch stages deploy Model
Registry versions (an MLflow alias on a batch stage is refused, saying so).
"""

from __future__ import annotations

from typing import Any

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.batch_transform import (
    SCHEDULE_ACTIONS,
    BatchCompute,
    scheduled_transform_request,
)
from mlops_core.contract.events.deployment import DeploymentRolledBack, DeploymentStarted, SkipReason
from mlops_core.contract.naming import StageResource, versioned_resource_name
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.sagemaker_resources import ResourceConflictError
from mlops_core.deployment.context import DeployerContext, Loaded, failed, ignored, skipped
from mlops_core.deployment.registry_versions import RegistryVersion
from mlops_core.deployment.versions import (
    DeployableVersion,
    DeploymentRequest,
    VersionSource,
    version_of_config,
)


def is_batch(loaded: Loaded) -> bool:
    """Whether the stage of these settings is a batch stage."""
    return isinstance(loaded[1].compute, BatchCompute)


class BatchStages:
    """Rolls versions out to batch stages (model and schedule) and back."""

    def __init__(self, context: DeployerContext) -> None:
        self._context = context

    def deploy(self, request: DeploymentRequest, loaded: Loaded) -> Outcome:
        """Put ``request.version`` on the stage's schedule, unless it is live there or older."""
        source, version = request.source, request.version
        project, stage_settings, record = loaded
        compute = stage_settings.compute
        assert isinstance(compute, BatchCompute)
        schedules = self._context.batch_schedules
        if schedules is None:
            return failed(source, version.arn, "this deployer has no schedules for batch stages")
        if not isinstance(version, RegistryVersion):
            return failed(
                source,
                version.arn,
                f"stage {source.stage} is a batch stage, and batch stages deploy Model Registry "
                "versions: approve the version in the registry",
            )
        current = schedules.transform_request(source.name)
        live_arn = _live_version(current)
        skip = _skip_reason(live_arn, version, downgrade=request.rolled_back is not None)
        if skip is not None:
            return skipped(source, source.name, live_arn or "", version, skip)
        checked = request.versions.check(request, project, record)
        if isinstance(checked, Outcome):
            return checked
        settings = self._context.settings
        tags = {
            **tag_keys.resource_tags(
                project=source.project,
                stage=source.stage,
                managed_by=settings.stack_name,
                model_package_arn=version.arn,
                commit_id=checked.commit_id,
            ),
        }
        model_name = versioned_resource_name(
            source.name, version.version, *checked.fingerprint, settings.sagemaker_execution_role_arn
        )
        try:
            self._context.sagemaker.create_model(
                model_name,
                request=checked.model_request,
                execution_role_arn=settings.sagemaker_execution_role_arn,
                tags=tags,
            )
        except ResourceConflictError as error:
            return failed(source, version.arn, f"{error}; refusing to deploy over it")
        deleted_models = self._delete_older_models(source, {model_name, *_scheduled_model(current)})
        put = schedules.put(
            source.name,
            expression=compute.schedule_expression,
            timezone=compute.schedule_timezone,
            transform_request=scheduled_transform_request(source.name, model_name, compute, tags),
            exists=current is not None,
        )
        details = {
            "schedule_name": source.name,
            "action": SCHEDULE_ACTIONS[put],
            "model_name": model_name,
            "deleted_models": deleted_models,
        }
        if request.rolled_back is not None:
            trigger, reason = request.rolled_back.rollback_reason()
            rolled_back = DeploymentRolledBack(
                project=source.project,
                stage=source.stage,
                endpoint_name=source.name,
                trigger=trigger,
                rolled_back_model_package_arn=request.rolled_back.arn,
                model_package_arn=version.arn,
                model_package_version=version.version,
                reason=f"{reason}; the batch schedule {source.name} runs model {model_name} again",
            )
            return Outcome("rolled-back", details, [rolled_back])
        started = DeploymentStarted(
            project=source.project,
            stage=source.stage,
            endpoint_name=source.name,
            model_package_arn=version.arn,
            model_package_version=version.version,
            model_name=model_name,
            endpoint_config_name=source.name,
            action=SCHEDULE_ACTIONS[put],
        )
        return Outcome("started", details, [started])

    def _delete_older_models(self, stage: StageResource, kept: set[str]) -> list[str]:
        """Delete the stage's models (named for it by this deployer) created before the newest of
        ``kept``, except ``kept``: a model made meanwhile by a deployment in flight stays."""
        sagemaker = self._context.sagemaker
        named = [
            model
            for model in sagemaker.list_models(f"{stage.name}-v")
            if version_of_config(stage.name, model.name) is not None
        ]
        newest_kept = max((model.creation_time for model in named if model.name in kept), default=None)
        deleted: list[str] = []
        for model in sorted(named, key=lambda model: model.creation_time):
            if newest_kept is not None and model.name not in kept and model.creation_time < newest_kept:
                sagemaker.delete_model(model.name)
                deleted.append(model.name)
        return deleted

    def roll_back(
        self, stage: StageResource, undone: DeployableVersion, versions: VersionSource, loaded: Loaded
    ) -> Outcome:
        """``undone`` leaves the stage's schedule if it is live there and still rejected: the
        schedule gets the newest older approved version."""
        schedules = self._context.batch_schedules
        if schedules is None or not isinstance(undone, RegistryVersion):
            return ignored(f"{undone.arn} is not a Model Registry version on a batch schedule")
        live_arn = _live_version(schedules.transform_request(stage.name))
        if live_arn != undone.arn:
            return ignored(
                f"rejected version {undone.version} is not live on the batch schedule {stage.name} "
                f"({live_arn or 'no schedule'}); nothing to roll back"
            )
        kept = versions.why_keep(undone)
        if kept is not None:
            return ignored(kept)
        # ListModelPackages names a group of the caller's own account by name, another's by ARN.
        own_account = self._context.settings.sagemaker_execution_role_arn.split(":")[4]
        group = undone.group if undone.registry.endswith(f":{own_account}") else undone.group_arn
        older = self._context.sagemaker.newest_approved_version_before(group, undone.version)
        if older is None:
            return failed(
                stage,
                undone.arn,
                f"version {undone.version} of {undone.group} was rejected while live on the batch "
                f"schedule {stage.name}, and no older approved version exists to roll back to; the "
                "schedule still runs it (approve a version, or delete the schedule)",
            )
        previous = RegistryVersion(
            arn=f"{undone.arn.rsplit('/', 1)[0]}/{older}", group=undone.group, version=older
        )
        request = DeploymentRequest(stage, stage, previous, versions, rolled_back=undone)
        return self.deploy(request, loaded)


def _scheduled_model(transform_request: dict[str, Any] | None) -> list[str]:
    """The model a schedule's transform jobs run, if there is a schedule."""
    model = (transform_request or {}).get("ModelName")
    return [model] if isinstance(model, str) else []


def _live_version(transform_request: dict[str, Any] | None) -> str | None:
    """The version a schedule's transform jobs run: its request's version tag."""
    if transform_request is None:
        return None
    return tag_keys.from_aws(transform_request.get("Tags") or []).get(tag_keys.MODEL_PACKAGE_ARN)


def _skip_reason(live_arn: str | None, version: RegistryVersion, *, downgrade: bool) -> SkipReason | None:
    if live_arn is None:
        return None
    if live_arn == version.arn:
        return SkipReason.ALREADY_DEPLOYED
    live_version = live_arn.rsplit("/", 1)[-1]
    same_group = live_arn.rsplit("/", 1)[0] == version.arn.rsplit("/", 1)[0]
    if same_group and live_version.isdigit() and int(live_version) > version.version and not downgrade:
        return SkipReason.STALE
    return None
