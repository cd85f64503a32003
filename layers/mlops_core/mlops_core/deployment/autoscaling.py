"""Autoscaling of production endpoints (:mod:`mlops_core.contract.endpoint_autoscaling`).

Once a production stage's endpoint is in service (after its creation and after every update), its
production variant is registered with Application Auto Scaling and its target-tracking policy put,
as the stage's ``autoscaling`` in the project record says: both calls are upserts, so the target and
policy are kept across updates and follow the record. A record that no longer asks for autoscaling
deregisters the target, if it carries the deployer's policy (a target a team registered by hand is
left alone). Before the deployer deletes an endpoint (a failed one it creates again), its target is
deregistered: SageMaker refuses to delete an autoscaled endpoint. The reaper deregisters what it
deletes itself.
"""

from __future__ import annotations

from typing import Any

from mlops_core.contract import endpoint_autoscaling
from mlops_core.contract.deployment_settings import InvalidDeploymentSettingsError, ProjectDeploymentSettings
from mlops_core.contract.naming import StageResource
from mlops_core.contract.topology import PRODUCTION_STAGES
from mlops_core.deployment.context import DeployerContext


class EndpointScaling:
    def __init__(self, context: DeployerContext) -> None:
        self._context = context

    def keep(self, target: StageResource) -> dict[str, Any] | None:
        """The endpoint's autoscaling as the record says (None: nothing to do or nothing done)."""
        scaling, table = self._context.scaling, self._context.config_table
        if scaling is None or target.stage not in PRODUCTION_STAGES:
            return None
        record = table.get_project(target.project) if table else None
        try:
            wanted = ProjectDeploymentSettings.from_record(record).for_stage(target.stage).autoscaling
        except InvalidDeploymentSettingsError:
            return None  # reported by the next deployment; keep what exists
        stack = self._context.settings.stack_name
        resource_id = endpoint_autoscaling.resource_id(target.name)
        if wanted is None:
            if any(
                scaling.policy_exists(resource_id, name)
                for name in endpoint_autoscaling.policy_names(stack, target.name)
            ):
                scaling.deregister(resource_id)
                return {"deregistered": resource_id}
            return None
        policy = endpoint_autoscaling.policy_name(stack, target.name, backlog=wanted.scales_on_backlog)
        other = endpoint_autoscaling.policy_name(stack, target.name, backlog=not wanted.scales_on_backlog)
        if scaling.policy_exists(resource_id, other):  # the stage changed kind: its old policy goes
            scaling.deregister(resource_id)
        scaling.register(endpoint_autoscaling.scalable_target_request(target.name, wanted))
        scaling.put_policy(endpoint_autoscaling.scaling_policy_request(stack, target.name, wanted))
        return {
            "resource_id": resource_id,
            "policy": policy,
            "min_capacity": wanted.min_capacity,
            "max_capacity": wanted.max_capacity,
        }


def deregister_before_deletion(context: DeployerContext, endpoint_name: str) -> None:
    """SageMaker does not delete an endpoint whose variant is registered for autoscaling."""
    scaling = context.scaling
    resource_id = endpoint_autoscaling.resource_id(endpoint_name)
    if scaling is not None and scaling.is_registered(resource_id):
        scaling.deregister(resource_id)
