"""Roll out: a version becomes what an endpoint serves.

Checked before any change: the stage's deployment settings, the endpoint (managed by this stack,
not out of service; a busy or failed one defers the deployment, see
:mod:`mlops_core.deployment.pending`; already serving the version, or serving a newer one: skipped),
what serverless inference excludes, and the version itself (its source says whether it is
deployable now). Then the model and the endpoint config are created (names derived from what is
deployed, so a redelivered event makes the same ones) and the endpoint is created or updated with
the stage's strategy, its rollback alarms and data capture; a challenger in ``shadow`` mode becomes
a shadow variant of the champion endpoint. A rollback is a roll out too, of the version to go back
to (:mod:`mlops_core.deployment.roll_back` decides which).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mlops_core.contract import async_inference
from mlops_core.contract import tags as tag_keys
from mlops_core.contract.async_inference import AsyncCompute
from mlops_core.contract.aws_events import EndpointStatus
from mlops_core.contract.batch_transform import BatchCompute
from mlops_core.contract.deployment_settings import (
    InstanceCompute,
    ProjectDeploymentSettings,
    ServerlessCompute,
    StageDeploymentSettings,
    Strategy,
)
from mlops_core.contract.events.deployment import DeploymentRolledBack, DeploymentStarted, SkipReason
from mlops_core.contract.naming import (
    ModelPackageRef,
    StageResource,
    parse_model_package_arn,
    versioned_resource_name,
)
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.sagemaker_resources import (
    Endpoint,
    EndpointBusyError,
    EndpointConfig,
    ResourceConflictError,
)
from mlops_core.contract.topology import Stage
from mlops_core.deployment import endpoint_configs
from mlops_core.deployment.batch_stages import BatchStages, is_batch
from mlops_core.deployment.context import (
    DONE_NOTHING,
    PREVIOUS_ENDPOINT_CONFIG_TAG,
    UPDATABLE,
    DeployerContext,
    EndpointNotGoneError,
    failed,
    skipped,
)
from mlops_core.deployment.in_service_checks import schedule_check
from mlops_core.deployment.pending import PendingDeployments
from mlops_core.deployment.versions import (
    CheckedVersion,
    DeployableVersion,
    DeploymentRequest,
    Known,
    VersionSource,
)


class RollOut:
    """Deploys a version onto its stage's endpoint (or as the champion's shadow)."""

    def __init__(self, context: DeployerContext, pending: PendingDeployments) -> None:
        self._context = context
        self._pending = pending
        self._batch = BatchStages(context)

    def deploy(
        self,
        source: StageResource,
        version: DeployableVersion,
        versions: VersionSource,
        *,
        pending_version: int | None = None,
        known: Known | None = None,
    ) -> Outcome:
        """Deploy a version for ``source``'s stage (to its endpoint, or as the champion's shadow).
        ``pending_version``: this is the endpoint's PENDING deployment being applied."""
        loaded = self._context.load_settings(source, version.arn)
        if isinstance(loaded, Outcome):
            return loaded
        if is_batch(loaded):
            return self._batch.deploy(DeploymentRequest(source, source, version, versions), loaded)
        stage_settings = loaded[1]
        target = source
        shadow_mode = source.stage is Stage.CHALLENGER and stage_settings.strategy is Strategy.SHADOW
        if shadow_mode and version.shadows:
            target = StageResource(source.project, Stage.CHAMPION)
        request = DeploymentRequest(
            source, target, version, versions, pending_version=pending_version, known=known or {}
        )
        return self.carry_out(request, *loaded)

    def carry_out(
        self,
        request: DeploymentRequest,
        project: ProjectDeploymentSettings,
        stage_settings: StageDeploymentSettings,
        record: Mapping[str, Any] | None,
    ) -> Outcome:
        """Check settings, endpoint and version, then roll out; a refusal changes nothing."""
        source, version = request.source, request.version
        try:
            resolved = stage_settings.resolved(
                self._context.settings.default_instance_type, self._context.settings.default_instance_count
            )
        except ValueError as error:
            return failed(source, version.arn, f"deployment settings of {source.stage} refused: {error}")
        if request.shadow and not isinstance(resolved.compute, InstanceCompute):
            return failed(source, version.arn, "a shadow variant needs real-time instances")
        # When the last deferral wins, only a current version may be stored as pending: check first.
        early = None if version.newest_wins else self._check_version(request, project, record)
        if isinstance(early, Outcome):
            return early
        found = self._check_endpoint(request)
        if isinstance(found, Outcome):
            return found
        endpoint, current_config = found
        checked = early or self._check_version(request, project, record)
        if isinstance(checked, Outcome):
            return checked
        if endpoint is not None and endpoint.status is EndpointStatus.FAILED:
            # A Failed endpoint cannot be updated, and DeleteEndpoint is asynchronous: delete it
            # and keep the deployment pending until the endpoint is gone.
            return self._pending.defer(request, EndpointStatus.FAILED)
        if (
            endpoint is not None
            and current_config is None
            and isinstance(resolved.compute, ServerlessCompute | AsyncCompute)
        ):
            current_config = self._context.sagemaker.describe_endpoint_config(endpoint.config_name)
        refusal = _serverless_refusal(request, resolved, endpoint, current_config) or _async_refusal(
            request, resolved, endpoint, current_config, self._context.settings.async_inference_bucket
        )
        if refusal is not None:
            return failed(source, version.arn, refusal)
        try:
            return self._roll_out(request, resolved, checked, endpoint, current_config)
        except ResourceConflictError as error:
            return failed(source, version.arn, f"{error}; refusing to deploy over it")

    def _check_version(
        self, request: DeploymentRequest, project: ProjectDeploymentSettings, record: Mapping[str, Any] | None
    ) -> CheckedVersion | Outcome:
        """Is the version deployable now? Its source says (read again: a pending deployment is
        checked again when applied); a version no longer current ends a pending deployment of it."""
        checked = request.versions.check(request, project, record)
        if isinstance(checked, Outcome) and checked.status in DONE_NOTHING:
            self._pending.forget(request)
        return checked

    def _check_endpoint(
        self, request: DeploymentRequest
    ) -> tuple[Endpoint | None, EndpointConfig | None] | Outcome:
        """The endpoint to change and its config (when the new config keeps parts of it), or why not."""
        source, version, endpoint_name = request.source, request.version, request.target.name
        endpoint = self._context.endpoint(request, endpoint_name)
        if endpoint is None:
            if request.shadow:
                return failed(
                    source,
                    version.arn,
                    f"champion endpoint {endpoint_name} does not exist; a challenger in shadow mode is "
                    "deployed as a shadow variant of the champion, so deploy the champion first",
                )
            return None, None
        if not self._context.manages(endpoint):
            return failed(source, version.arn, self._context.not_managed(endpoint_name))
        current_config = None
        if request.shadow or source.stage is Stage.CHAMPION:
            current_config = self._context.sagemaker.describe_endpoint_config(endpoint.config_name)
        live_arn = request.versions.live_identity(request, endpoint, current_config)
        skip = _skip_reason(live_arn, version, endpoint, downgrade=request.rolled_back is not None)
        if skip is not None:
            self._pending.forget(request)
            return skipped(source, endpoint_name, live_arn or "", version, skip)
        if request.shadow and endpoint.status not in UPDATABLE and not endpoint.status.is_busy:
            return failed(
                source,
                version.arn,
                f"champion endpoint {endpoint_name} is {endpoint.status}; "
                "deploy a champion before its shadow",
            )
        if endpoint.status is EndpointStatus.DELETING and request.shadow:
            return failed(
                source,
                version.arn,
                f"champion endpoint {endpoint_name} is being deleted; deploy a champion first",
            )
        if endpoint.status.is_busy:
            return self._pending.defer(request, endpoint.status)
        if endpoint.status is EndpointStatus.OUT_OF_SERVICE:
            return failed(
                source,
                version.arn,
                f"endpoint {endpoint_name} is OutOfService (SageMaker cannot serve it); the deployer "
                "does not update or delete it: find out why, then delete it and approve again",
            )
        if request.shadow and current_config is None:
            return failed(source, version.arn, f"champion endpoint config {endpoint.config_name} is gone")
        return endpoint, current_config

    def _roll_out(
        self,
        request: DeploymentRequest,
        resolved: StageDeploymentSettings,
        checked: CheckedVersion,
        endpoint: Endpoint | None,
        current_config: EndpointConfig | None,
    ) -> Outcome:
        """Create the model and endpoint config, then create or update the endpoint."""
        source, target, version = request.source, request.target, request.version
        endpoint_name = target.name
        settings, sagemaker, alarms = self._context.settings, self._context.sagemaker, self._context.alarms
        tags = {
            **tag_keys.resource_tags(
                project=source.project, stage=source.stage, managed_by=settings.stack_name
            ),
            version.identity_tag: version.arn,
            **({tag_keys.COMMIT_ID: checked.commit_id} if checked.commit_id else {}),
        }
        model_name = versioned_resource_name(
            source.name, version.version, *checked.fingerprint, settings.sagemaker_execution_role_arn
        )
        compute = resolved.compute
        assert compute is not None  # resolved() always names the compute
        assert not isinstance(compute, BatchCompute)  # deploy() hands batch stages to BatchStages
        if request.shadow:
            assert endpoint is not None and current_config is not None
            assert isinstance(compute, InstanceCompute)  # checked by carry_out
            config_request = endpoint_configs.endpoint_config_request(
                current_config.production_variants,
                shadows=[
                    endpoint_configs.shadow_variant(model_name, compute, resolved.shadow_sampling_percentage)
                ],
                data_capture=current_config.data_capture,
            )
            live = parse_model_package_arn(endpoint.model_package_arn) if endpoint.model_package_arn else None
            config_version = live.version if live else version.version
            config_tags = {**tags, tag_keys.STAGE: target.stage.value}
        else:
            config_request = endpoint_configs.endpoint_config_request(
                [endpoint_configs.production_variant(model_name, compute)],
                shadows=current_config.shadow_variants if current_config else None,
                data_capture=endpoint_configs.data_capture_config(resolved.data_capture),
                async_inference=async_inference.async_inference_config(
                    compute, endpoint_name, settings.async_inference_bucket
                )
                if isinstance(compute, AsyncCompute)
                else None,
            )
            config_version = version.version
            config_tags = dict(tags)
        if endpoint is not None:
            config_tags[PREVIOUS_ENDPOINT_CONFIG_TAG] = endpoint.config_name
        config_name = versioned_resource_name(
            endpoint_name, config_version, json.dumps(config_request, sort_keys=True)
        )
        sagemaker.create_model(
            model_name,
            request=checked.model_request,
            execution_role_arn=settings.sagemaker_execution_role_arn,
            tags=tags,
        )
        sagemaker.create_endpoint_config(config_name, request=config_request, tags=config_tags)
        strategy = Strategy.SHADOW if request.shadow else resolved.strategy
        if endpoint is None:
            if not sagemaker.create_endpoint(endpoint_name, config_name=config_name, tags=tags):
                # The name is in use: our view was behind, or an earlier attempt of this very
                # deployment got that far. Look at what is there and decide again.
                existing = sagemaker.describe_endpoint(endpoint_name)
                if existing is None:
                    raise EndpointNotGoneError(f"endpoint {endpoint_name} is being deleted; retrying")
                if not (self._context.manages(existing) and existing.config_name == config_name):
                    return self._redeploy(replace(request, known={**request.known, endpoint_name: existing}))
            action = "create"
            if strategy.shifts_traffic:  # a new endpoint has no traffic to shift: it starts all at once
                strategy = Strategy.ALL_AT_ONCE
        else:
            deployment_config = None
            if strategy.shifts_traffic and alarms is not None:
                alarm_tags = {k: v for k, v in tags.items() if k != version.identity_tag}
                definitions = endpoint_configs.alarm_definitions(
                    settings.stack_name, endpoint_name, resolved.alarms
                )
                for definition in definitions:
                    alarms.put_alarm(definition, tags=alarm_tags)
                deployment_config = endpoint_configs.deployment_config(
                    resolved, [definition["AlarmName"] for definition in definitions]
                )
            try:
                sagemaker.update_endpoint(
                    endpoint_name, config_name=config_name, deployment_config=deployment_config
                )
            except EndpointBusyError:
                # Our view of the endpoint was behind (Search lags): it is busy after all.
                return self._pending.defer_on_current_state(request)
            action = "update"
        self._endpoint_changed(request, config_name)
        details = {"endpoint_name": endpoint_name, "action": action, "strategy": strategy.value}
        if request.rolled_back is not None:
            return Outcome("rolled-back", details, [_rolled_back_event(request, config_name)])
        started = DeploymentStarted(
            project=source.project,
            stage=source.stage,
            endpoint_name=endpoint_name,
            model_package_arn=version.arn,
            model_package_version=version.version,
            model_name=model_name,
            endpoint_config_name=config_name,
            action=action,
            strategy=strategy.value,
        )
        return Outcome("started", details, [started])

    def _endpoint_changed(self, request: DeploymentRequest, config_name: str) -> None:
        """The endpoint now changes to ``config_name``: checked later; nothing is pending any more."""
        schedule_check(self._context, request.target, config_name)
        self._pending.forget(request)

    def _redeploy(self, request: DeploymentRequest) -> Outcome:
        loaded = self._context.load_settings(request.source, request.version.arn)
        if isinstance(loaded, Outcome):
            return loaded
        return self.carry_out(request, *loaded)


def _rolled_back_event(request: DeploymentRequest, config_name: str) -> DeploymentRolledBack:
    assert request.rolled_back is not None
    trigger, reason = request.rolled_back.rollback_reason()
    return DeploymentRolledBack(
        project=request.source.project,
        stage=request.source.stage,
        endpoint_name=request.target.name,
        trigger=trigger,
        rolled_back_model_package_arn=request.rolled_back.arn,
        model_package_arn=request.version.arn,
        model_package_version=request.version.version,
        endpoint_config_name=config_name,
        reason=reason,
    )


def _serverless_refusal(
    request: DeploymentRequest,
    resolved: StageDeploymentSettings,
    endpoint: Endpoint | None,
    current_config: EndpointConfig | None,
) -> str | None:
    """What SageMaker would refuse halfway through this rollout: a shadow variant on a serverless
    endpoint (serverless inference excludes "multiple production variants"), and an instance-based
    endpoint updated to serverless ("You cannot convert your instance-based, real-time endpoint to a
    serverless endpoint"); None if neither."""
    if endpoint is None or current_config is None:
        return None
    serverless_now = any(variant.get("ServerlessConfig") for variant in current_config.production_variants)
    if request.shadow:
        if serverless_now:
            return (
                f"champion endpoint {endpoint.name} is serverless, and a serverless endpoint has no shadow "
                "variant: deploy the champion on real-time instances to test a challenger in shadow mode"
            )
        return None
    if isinstance(resolved.compute, ServerlessCompute) and not serverless_now:
        return (
            f"endpoint {endpoint.name} runs on instances and SageMaker cannot update an instance-based "
            "endpoint to serverless: delete the endpoint, then approve the version again (the deployer "
            "creates it serverless), or keep the stage on instances"
        )
    return None


def _async_refusal(
    request: DeploymentRequest,
    resolved: StageDeploymentSettings,
    endpoint: Endpoint | None,
    current_config: EndpointConfig | None,
    bucket: str,
) -> str | None:
    """What asynchronous inference excludes in this rollout: a shadow variant beside an async
    champion, or an async version beside the champion's shadow (AWS, "Create a shadow test": an
    endpoint that uses asynchronous inference cannot use shadow tests), and an async stage in a stack
    with no bucket for its requests; None if none of them."""
    is_async = isinstance(resolved.compute, AsyncCompute)
    if is_async and not request.shadow and not bucket:
        return "an async stage needs the stack's AsyncInferenceBucket (ASYNC_INFERENCE_BUCKET is empty)"
    if endpoint is None or current_config is None:
        return None
    if request.shadow and current_config.async_inference:
        return (
            f"champion endpoint {endpoint.name} is asynchronous, and an async endpoint has no shadow "
            "variant: deploy the champion on real-time instances to test a challenger in shadow mode"
        )
    if is_async and not request.shadow and current_config.shadow_variants:
        return (
            f"endpoint {endpoint.name} has a shadow variant, and an async endpoint has none: remove the "
            "challenger's shadow (reject it) before making the stage async"
        )
    return None


def _skip_reason(
    live_arn: str | None, version: DeployableVersion, endpoint: Endpoint, *, downgrade: bool
) -> SkipReason | None:
    if live_arn is None or endpoint.status is EndpointStatus.FAILED:
        return None
    if not version.newest_wins or not isinstance(version, ModelPackageRef):
        # Only the backend says what is current, not the number.
        return SkipReason.ALREADY_DEPLOYED if live_arn == version.arn else None
    try:
        live = parse_model_package_arn(live_arn)
    except ValueError:
        return None
    if live.group != version.group:
        return None
    if live.version == version.version:
        return SkipReason.ALREADY_DEPLOYED
    if live.version > version.version and not downgrade:
        return SkipReason.STALE
    return None
