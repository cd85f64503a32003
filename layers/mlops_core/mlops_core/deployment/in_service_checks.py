"""In-service checks: a deployment is tested and tidied up even if SageMaker's ``IN_SERVICE`` event is lost.

What follows an endpoint change waits for the endpoint's ``SageMaker Endpoint State Change`` to
``IN_SERVICE``: the deployer applies what is pending and does the housekeeping, the tester runs the
suite. SageMaker sends that event to EventBridge on a best-effort basis (EventBridge's "Event delivery
from AWS services": "in some rare cases an event might not be delivered"; its table of services says to
assume best effort for a service it does not list), so without a second signal a lost event leaves a
deployment untested, a pending deployment unapplied and old configs and models in place.

Every endpoint change the deployer makes (create, update, the shadow's removal) therefore schedules an
:class:`~mlops_core.contract.events.deployment.InServiceCheck`: a one-time EventBridge Scheduler
schedule that puts the check on the application's bus ``in_service_check_minutes`` later. When it comes:
- the endpoint is ``InService``: the deployer does what ``IN_SERVICE`` makes it do, and the tester runs
  the suite if the endpoint still serves the config of the change (both at most once per deployment,
  so a check after an event that did arrive changes nothing);
- the endpoint is still changing: the next check is scheduled, up to ``in_service_check_attempts``
  checks per change; then the deployer logs that it stops looking;
- the endpoint is ``Failed``: the deployer does what ``FAILED`` makes it do (the failure is announced
  once, whether its event, a redelivery of it or the check comes first; a deployment pending for the
  endpoint creates it again);
- anything else (gone, out of service): nothing; SageMaker's other events and the reaper deal with
  those.
"""

from __future__ import annotations

from mlops_core.contract.aws_events import EndpointStatus
from mlops_core.contract.events.deployment import InServiceCheck
from mlops_core.contract.naming import StageResource
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.sagemaker_resources import Endpoint
from mlops_core.deployment.context import DeployerContext, ignored
from mlops_core.observability import logger

CHANGING = frozenset(
    {
        EndpointStatus.CREATING,
        EndpointStatus.UPDATING,
        EndpointStatus.SYSTEM_UPDATING,
        EndpointStatus.ROLLING_BACK,
    }
)
"""Statuses an endpoint leaves by itself, with an ``IN_SERVICE`` event if all goes well."""


def schedule_check(
    context: DeployerContext, target: StageResource, config_name: str, attempt: int = 1
) -> None:
    """The endpoint of ``target`` was just given ``config_name``: look at it later (no-op without checks)."""
    checks = context.in_service_checks
    if checks is None:
        return
    check = InServiceCheck(
        project=target.project,
        stage=target.stage,
        endpoint_name=target.name,
        endpoint_config_name=config_name,
        attempt=attempt,
    )
    checks.schedule(check, in_minutes=context.settings.in_service_check_minutes)


def look(context: DeployerContext, target: StageResource, check: InServiceCheck) -> Endpoint | Outcome:
    """The endpoint, if the check finds it in service or failed; else what was done instead (the next
    check scheduled, or nothing, and why)."""
    endpoint = context.sagemaker.describe_endpoint(check.endpoint_name)
    if endpoint is None:
        return ignored(f"endpoint {check.endpoint_name} is gone")
    if not context.manages(endpoint):
        return ignored(context.not_managed(check.endpoint_name))
    if endpoint.status in {EndpointStatus.IN_SERVICE, EndpointStatus.FAILED}:
        return endpoint
    name = check.endpoint_name
    details = {"endpoint_name": name, "endpoint_status": endpoint.status.value, "attempt": check.attempt}
    if endpoint.status not in CHANGING:
        return ignored(f"endpoint {name} is {endpoint.status}; its own events say what follows")
    if check.attempt >= context.settings.in_service_check_attempts:
        logger.warning(
            "An endpoint is still changing after its last in-service check: no further check",
            extra=details,
        )
        return Outcome("checks-exhausted", details)
    schedule_check(context, target, check.endpoint_config_name, check.attempt + 1)
    return Outcome("check-rescheduled", {**details, "next_attempt": check.attempt + 1})
