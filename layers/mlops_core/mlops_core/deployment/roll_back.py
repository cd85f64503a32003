"""Roll back: a live version that must go, and SageMaker's own rollbacks.

- A version undone while live (a registry version rejected, an MLflow alias removed from it): the
  endpoint goes back to the version its source names (the newest older approved version; the
  version of the config the endpoint ran before), which is rolled out like any deployment and
  reported as ``Deployment Rolled Back``. With nothing to go back to, ``Deployment Failed`` says so
  and the endpoint stays; a rejected shadow with no older challenger version is removed from the
  champion. Everything is decided on the current state, so a rollback deferred while the endpoint
  was busy is checked again when applied (the version may no longer be live, or be current again).
- SageMaker rolling a blue/green rollout back on an alarm is reported as a rollback, once per rollback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.deployment_settings import Strategy
from mlops_core.contract.events.deployment import DeploymentRolledBack
from mlops_core.contract.naming import StageResource, parse_model_package_arn, versioned_resource_name
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.sagemaker_events import EndpointDeploymentStateChange, PendingDeployment
from mlops_core.contract.sagemaker_resources import (
    Endpoint,
    EndpointBusyError,
    EndpointConfig,
    ResourceConflictError,
)
from mlops_core.deployment import endpoint_configs
from mlops_core.deployment.context import (
    PREVIOUS_ENDPOINT_CONFIG_TAG,
    UPDATABLE,
    DeployerContext,
    failed,
    ignored,
)
from mlops_core.deployment.in_service_checks import schedule_check
from mlops_core.deployment.pending import PendingDeployments
from mlops_core.deployment.roll_out import RollOut
from mlops_core.deployment.versions import (
    DeployableVersion,
    DeploymentRequest,
    Known,
    VersionSource,
    version_of_config,
)

ROLLBACK_ANNOUNCEMENT_KEPT = timedelta(days=30)
"""How long an announced rollback is remembered (the item's TTL): far beyond EventBridge's retries
(24 hours) and SageMaker's repeated notices."""


class RollBack:
    """Takes a live version off its endpoint, and reports SageMaker's alarm rollbacks."""

    def __init__(
        self,
        context: DeployerContext,
        roll_out: RollOut,
        pending: PendingDeployments,
        sources: Sequence[VersionSource],
    ) -> None:
        self._context = context
        self._roll_out = roll_out
        self._pending = pending
        self._sources = sources

    def roll_back(
        self,
        stage: StageResource,
        undone: DeployableVersion,
        versions: VersionSource,
        *,
        pending_version: int | None = None,
        known: Known | None = None,
    ) -> Outcome:
        """``undone`` goes, if it is live (on the stage's endpoint, or as the champion's shadow) and
        still to be undone: the endpoint gets the version its source names to go back to. Nothing
        to go back to: the endpoint is left and ``Deployment Failed`` says so; a shadow is removed."""
        request = DeploymentRequest(
            stage, stage, undone, versions, pending_version=pending_version, known=known or {}
        )
        live = versions.find_live(request)
        if isinstance(live, str):
            self._pending.forget(request)
            return ignored(live)
        if not self._context.manages(live.endpoint):
            return failed(stage, undone.arn, self._context.not_managed(live.endpoint.name))
        kept = versions.why_keep(undone)
        if kept is not None:
            self._pending.forget(request)
            return ignored(kept)
        previous = versions.rollback_target(request, live)
        if isinstance(previous, str):
            if live.target != stage:
                assert live.config is not None
                return self._remove_shadow(
                    replace(request, target=live.target, rolled_back=undone), live.endpoint, live.config
                )
            self._pending.forget(request)
            return failed(stage, undone.arn, previous)
        loaded = self._context.load_settings(stage, previous.arn)
        if isinstance(loaded, Outcome):
            return loaded
        rollback = replace(
            request, target=live.target, version=previous, rolled_back=undone, seen=live.endpoint
        )
        return self._roll_out.carry_out(rollback, *loaded)

    def _remove_shadow(
        self, request: DeploymentRequest, champion: Endpoint, config: EndpointConfig
    ) -> Outcome:
        """The champion's shadow was rejected and no older approved challenger version exists: the
        champion keeps its production variants and data capture, without a shadow."""
        rejected, sagemaker = request.version, self._context.sagemaker
        if champion.status.is_busy:
            return self._pending.defer(request, champion.status)
        if champion.status not in UPDATABLE:
            return failed(
                request.source, rejected.arn, f"champion endpoint {champion.name} is {champion.status}"
            )
        config_request = endpoint_configs.endpoint_config_request(
            config.production_variants, data_capture=config.data_capture
        )
        live = parse_model_package_arn(champion.model_package_arn) if champion.model_package_arn else None
        config_name = versioned_resource_name(
            champion.name, live.version if live else 0, json.dumps(config_request, sort_keys=True)
        )
        config_tags = tag_keys.resource_tags(
            project=request.target.project,
            stage=request.target.stage,
            managed_by=self._context.settings.stack_name,
            model_package_arn=champion.model_package_arn,
        )
        config_tags[PREVIOUS_ENDPOINT_CONFIG_TAG] = champion.config_name
        try:
            sagemaker.create_endpoint_config(config_name, request=config_request, tags=config_tags)
        except ResourceConflictError as error:
            return failed(request.source, rejected.arn, f"{error}; refusing to deploy over it")
        try:
            sagemaker.update_endpoint(champion.name, config_name=config_name)
        except EndpointBusyError:
            return self._pending.defer_on_current_state(request)
        schedule_check(self._context, request.target, config_name)
        self._pending.forget(request)
        reason = (
            f"challenger version {rejected.version} was rejected while live as the shadow of "
            f"{champion.name}, and no older approved challenger version exists: the shadow is removed"
        )
        event = DeploymentRolledBack(
            project=request.source.project,
            stage=request.source.stage,
            endpoint_name=champion.name,
            trigger="rejection",
            rolled_back_model_package_arn=rejected.arn,
            endpoint_config_name=config_name,
            reason=reason,
        )
        details = {
            "endpoint_name": champion.name,
            "action": "remove-shadow",
            "strategy": Strategy.SHADOW.value,
        }
        return Outcome("rolled-back", details, [event])

    def announce_alarm_rollback(self, target: StageResource, event: EndpointDeploymentStateChange) -> Outcome:
        """SageMaker rolls a blue/green rollout of ``target``'s endpoint back on an alarm: reported
        once per rollback. The notice may come again with new event ids, so the rollback's identity
        (endpoint, the config it undoes, the update's start) is claimed with a conditional write first."""
        detail = event.detail
        summary = detail.PendingDeploymentSummary
        pending_config = summary.EndpointConfigName if summary else None
        started = (summary.StartTime if summary else None) or detail.LastModifiedTime or event.time
        undone = pending_config or detail.EndpointConfigName or "unknown"
        table = self._context.config_table
        if table is not None and not table.claim_rollback_announcement(
            detail.EndpointName,
            undone,
            started=int(started.timestamp() * 1000),
            event_id=event.id,
            expires_at=int((datetime.now(UTC) + ROLLBACK_ANNOUNCEMENT_KEPT).timestamp()),
        ):
            return ignored(
                f"SageMaker's rollback of {undone} on {detail.EndpointName} (update started "
                f"{started.isoformat()}) was announced already"
            )
        back_to = version_of_config(detail.EndpointName, detail.EndpointConfigName)
        taken_off = version_of_config(detail.EndpointName, pending_config)
        reason = "SageMaker rolled the deployment back: an alarm of its AutoRollbackConfiguration fired"
        said = _status_message(summary)
        if said:
            reason += f" (SageMaker: {said})"
        rolled_back = DeploymentRolledBack(
            project=target.project,
            stage=target.stage,
            endpoint_name=detail.EndpointName,
            trigger="alarm",
            rolled_back_model_package_arn=self._identity_in(detail.Tags, target.name, taken_off),
            model_package_arn=self._identity_in(detail.Tags, target.name, back_to),
            model_package_version=back_to,
            endpoint_config_name=detail.EndpointConfigName,
            reason=reason,
        )
        return Outcome(
            "rolled-back", {"endpoint_name": detail.EndpointName, "trigger": "alarm"}, [rolled_back]
        )

    def _identity_in(self, tags: Mapping[str, str], group: str, version: int | None) -> str | None:
        """Version ``version`` of what the endpoint's version tag names (None if unknown)."""
        if version is None:
            return None
        named = (source.identity_in(tags, group, version) for source in self._sources)
        return next((identity for identity in named if identity is not None), None)


def _status_message(summary: PendingDeployment | None) -> str | None:
    """What SageMaker says of the update's new fleet (its first variant's VariantStatus message)."""
    for variant in summary.ProductionVariants if summary else []:
        for status in variant.get("VariantStatus") or []:
            if isinstance(status, dict) and status.get("StatusMessage"):
                return str(status["StatusMessage"])
    return None
