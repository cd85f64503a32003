"""Pending deployments: a deployment that cannot be carried out now is stored, never lost.

A deployment that waits for its endpoint is stored as the endpoint's ``PENDING`` one in the config
table (which one wins is the version source's rule: the highest registry version, the last current
MLflow version) and applied later: a busy endpoint (``Creating``/``Updating``/``RollingBack``) is
waited for until ``IN_SERVICE``; a ``Failed`` one is deleted and the deployment waits until it is
gone (``DELETING`` event; a deletion is asynchronous in AWS). What is pending is re-validated
against the endpoint and the version's backend when it is applied (it is carried out by the
deployer, as a deployment or a rollback, like any other), and deleted once it is done with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from mlops_core.contract.aws_events import EndpointStatus
from mlops_core.contract.events.base import DomainEvent
from mlops_core.contract.events.deployment import DeploymentDeferred, DeploymentFailed
from mlops_core.contract.naming import StageResource
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.topology import Stage
from mlops_core.deployment.autoscaling import deregister_before_deletion
from mlops_core.deployment.context import (
    DONE_NOTHING,
    UPDATABLE,
    DeployerContext,
    EndpointNotGoneError,
    ignored,
)
from mlops_core.deployment.versions import DeployableVersion, DeploymentRequest, Known, VersionSource

# How long an endpoint failure's announcement is remembered: longer than any redelivery or check comes.
FAILURE_ANNOUNCEMENT_KEPT = timedelta(days=30)


@dataclass(frozen=True)
class EndpointFailure:
    """One failure of an endpoint: the config it failed with, and when the endpoint was created. A
    Failed endpoint stays Failed until it is deleted, so a failure of the endpoint created again is
    another one."""

    endpoint_config_name: str
    endpoint_created: datetime

    @classmethod
    def of(
        cls, endpoint_config_name: str | None, endpoint_created: datetime | None
    ) -> EndpointFailure | None:
        """The failure, when the event or DescribeEndpoint names both (else it cannot be told apart)."""
        if not endpoint_config_name or endpoint_created is None:
            return None
        return cls(endpoint_config_name, endpoint_created)


class Deployer(Protocol):
    """What carries out a pending deployment once it is rebuilt: the model deployer."""

    def deploy(
        self,
        source: StageResource,
        version: DeployableVersion,
        versions: VersionSource,
        *,
        pending_version: int | None = None,
        known: Known | None = None,
    ) -> Outcome: ...

    def roll_back(
        self,
        stage: StageResource,
        undone: DeployableVersion,
        versions: VersionSource,
        *,
        pending_version: int | None = None,
        known: Known | None = None,
    ) -> Outcome: ...


class PendingDeployments:
    """The endpoints' PENDING deployments: stored, applied, forgotten."""

    def __init__(
        self, context: DeployerContext, sources: Sequence[VersionSource], deployer: Deployer
    ) -> None:
        self._context = context
        self._sources = sources
        self._deployer = deployer

    def defer(self, request: DeploymentRequest, status: EndpointStatus) -> Outcome:
        """Store the deployment as the endpoint's PENDING one (kept under the approving stage's
        endpoint name, so a challenger's shadow and the champion's own never overwrite each other),
        then make sure it cannot wait for an event that will never come: a Failed endpoint is
        deleted now, and an endpoint that is already in service or gone gets it at once."""
        context = self._context
        assert context.config_table is not None, "deferring needs the config table"
        source, version, endpoint_name = request.source, request.version, request.target.name
        deployment: dict[str, Any] = {
            **version.pending_record(),
            "project": source.project,
            "stage": source.stage.value,
        }
        key_version = version.version
        if request.rolled_back is not None:
            # A rollback is decided again when applied, so it is stored as "undo this version".
            deployment["rolled_back_model_package_arn"] = request.rolled_back.arn
            key_version = request.rolled_back.version
        put = (
            context.config_table.put_pending_deployment
            if version.newest_wins
            else context.config_table.replace_pending_deployment
        )
        stored = put(source.name, deployment, version=key_version)
        waits_for = status
        if status is EndpointStatus.FAILED:
            deregister_before_deletion(context, endpoint_name)
            context.sagemaker.delete_endpoint(endpoint_name)
            waits_for = EndpointStatus.DELETING
        details: dict[str, Any] = {"endpoint_name": endpoint_name, "endpoint_status": waits_for.value}
        events: list[DomainEvent] = []
        if stored:
            events.append(
                DeploymentDeferred(
                    project=source.project,
                    stage=source.stage,
                    endpoint_name=endpoint_name,
                    model_package_arn=version.arn,
                    model_package_version=version.version,
                    endpoint_status=waits_for.value,
                )
            )
        else:
            details["reason"] = f"version {key_version} or a newer one is already pending"
        if endpoint_name in request.known and status is not EndpointStatus.FAILED:
            return Outcome("deferred", details, events)  # already looked strongly: it is busy
        # The event that applies a pending deployment may already have passed (our view lagged, or
        # the endpoint finished meanwhile): look again, strongly, and apply it now if it can be.
        now = context.sagemaker.describe_endpoint(endpoint_name)
        if now is not None and now.status is EndpointStatus.DELETING and status is EndpointStatus.DELETING:
            # Someone else is deleting it, and its DELETING event may be gone already: Lambda's
            # retries try again (the deployment is stored; after the retries it is in the
            # FailedEventsQueue and the next approval or endpoint event applies it).
            raise EndpointNotGoneError(
                f"endpoint {endpoint_name} is being deleted; version {version.version} is stored as its "
                "pending deployment and is deployed once the endpoint is gone (retrying)"
            )
        if now is not None and now.status not in UPDATABLE:
            return Outcome("deferred", details, events)
        applied = self._apply_of(source, {**request.known, endpoint_name: now})
        if applied is None:
            return Outcome("deferred", details, events)
        return Outcome(applied.status, applied.details, [*events, *applied.events])

    def defer_on_current_state(self, request: DeploymentRequest) -> Outcome:
        """Defer, as the endpoint is now (SageMaker refused an update as busy: our view was behind)."""
        endpoint = self._context.sagemaker.describe_endpoint(request.target.name)
        status = endpoint.status if endpoint else EndpointStatus.UPDATING
        return self.defer(replace(request, known={**request.known, request.target.name: endpoint}), status)

    def forget(self, request: DeploymentRequest) -> None:
        """A pending deployment is done with (carried out, stale or moot): delete it, unless a newer
        one was deferred meanwhile (the delete is conditional on the stored version)."""
        table = self._context.config_table
        if request.pending_version is not None and table is not None:
            table.delete_pending_deployment(request.source.name, version=request.pending_version)

    def apply(self, target: StageResource, known: Known | None = None) -> Outcome | None:
        """Apply the pending deployments for this endpoint (its own, then a challenger's shadow):
        the first that changes something is returned; moot ones are dropped on the way."""
        if self._context.config_table is None:
            return None
        candidates = [target]
        if target.stage is Stage.CHAMPION and Stage.CHALLENGER in self._context.settings.deployed_stages:
            candidates.append(StageResource(target.project, Stage.CHALLENGER))
        moot: list[Outcome] = []
        for source in candidates:
            outcome = self._apply_of(source, known or {})
            if outcome is None:
                continue
            if outcome.status not in DONE_NOTHING:
                return outcome
            moot.append(outcome)
        if not moot:
            return None
        return Outcome(
            moot[0].status,
            {"applied": [{"status": o.status, **o.details} for o in moot]},
            [event for o in moot for event in o.events],
        )

    def on_failed(
        self,
        target: StageResource,
        reason: str | None,
        model_package_arn: str | None,
        *,
        failure: EndpointFailure | None,
        event_id: str,
    ) -> Outcome:
        """The endpoint ended Failed: say why, once per ``failure`` (its ``FAILED`` event, a
        redelivery of it with a new id, or its in-service check if the event was lost: whichever comes
        first). A deployment pending for it is not lost: the failed endpoint is deleted and the pending
        one creates it again once it is gone."""
        context = self._context
        if (
            failure is not None
            and context.config_table is not None
            and not context.config_table.claim_failure_announcement(
                target.name,
                failure.endpoint_config_name,
                created=round(failure.endpoint_created.timestamp() * 1000),  # ms, as events give it
                event_id=event_id,
                expires_at=int((datetime.now(UTC) + FAILURE_ANNOUNCEMENT_KEPT).timestamp()),
            )
        ):
            return ignored(
                f"endpoint {target.name} failed with {failure.endpoint_config_name}, "
                "which another event has announced already"
            )
        message = f"endpoint {target.name} failed: {reason or 'no reason given'}"
        pending = context.config_table.get_pending_deployment(target.name) if context.config_table else None
        details: dict[str, Any] = {}
        events: list[DomainEvent] = []
        if pending is None:
            message += "; the next approval recreates it"
        else:
            version = int(pending["model_package_version"])
            endpoint = context.sagemaker.describe_endpoint(target.name)
            if endpoint is not None and endpoint.status is EndpointStatus.FAILED:
                deregister_before_deletion(context, target.name)
                context.sagemaker.delete_endpoint(target.name)
                endpoint = context.sagemaker.describe_endpoint(target.name)
            message += f"; it is deleted and created again with the pending version {version}"
            if endpoint is None:
                applied = self._apply_of(target, {target.name: None})
                if applied is not None:
                    details["pending"] = {"status": applied.status, **applied.details}
                    events += applied.events
            else:
                details["pending"] = {"status": "deferred", "endpoint_status": endpoint.status.value}
        failed = DeploymentFailed(
            project=target.project,
            stage=target.stage,
            endpoint_name=target.name,
            model_package_arn=model_package_arn,
            reason=message,
        )
        return Outcome("failed", {"reason": message, **details}, [failed, *events])

    def on_deleting(self, target: StageResource) -> Outcome:
        """A deployment pending for an endpoint being deleted creates it again once it is gone."""
        context = self._context
        pending = context.config_table.get_pending_deployment(target.name) if context.config_table else None
        if pending is None:
            return ignored(f"endpoint {target.name} is being deleted and nothing is pending for it")
        endpoint = context.sagemaker.describe_endpoint(target.name)
        if endpoint is not None:
            raise EndpointNotGoneError(
                f"endpoint {target.name} is {endpoint.status}; the pending version "
                f"{pending['model_package_version']} is deployed once it is gone (retrying)"
            )
        applied = self._apply_of(target, {target.name: None})
        return applied or ignored(f"what is pending for {target.name} is not a deployment of this deployer")

    def _apply_of(self, source: StageResource, known: Known) -> Outcome | None:
        """Carry out the PENDING deployment stored for ``source``, re-validated against the current
        state (a rollback only if the undone version is still live; a deployment only if its version
        is still current and not older than what is live); None if nothing is pending."""
        table = self._context.config_table
        assert table is not None
        pending = table.get_pending_deployment(source.name)
        if pending is None:
            return None
        stored_version = int(pending["model_package_version"])
        outcome = self._carry_out(source, pending, stored_version, known)
        if outcome is not None and (outcome.status == "failed" or outcome.status in DONE_NOTHING):
            # Refused, stale or moot: it will never apply (a newer deferral meanwhile stays).
            table.delete_pending_deployment(source.name, version=stored_version)
        return outcome

    def _carry_out(
        self, source: StageResource, record: Mapping[str, Any], stored_version: int, known: Known
    ) -> Outcome | None:
        """One stored PENDING record, rebuilt by the version source that wrote it (None: no source
        recognises it)."""
        rebuilt = next((found for s in self._sources if (found := s.rebuild(record)) is not None), None)
        if rebuilt is None:
            return None
        carry_out = self._deployer.roll_back if rebuilt.undo else self._deployer.deploy
        return carry_out(
            source, rebuilt.version, rebuilt.versions, pending_version=stored_version, known=known
        )
