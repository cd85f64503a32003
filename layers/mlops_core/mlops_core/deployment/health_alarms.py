"""The health alarms of a managed endpoint (:mod:`mlops_core.contract.endpoint_alarms`).

Kept once the endpoint is in service (after its creation, after every update and rollback): the
alarms its compute and the stage's ``monitoring`` settings call for, describing the version it now
serves, are put where they are missing or differ (one ``DescribeAlarms``; ``PutMetricAlarm`` only for
a change, so an endpoint back in service with nothing new costs one call), and the health alarms it
no longer needs (the other compute's, or all when ``monitoring.enabled`` is false) are deleted. A
rollout itself makes no alarm call but its rollback alarms'. When the endpoint is deleted (its
``DELETING`` state change, whoever deletes it) they go with it, with the rollback alarms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_core.contract import endpoint_alarms
from mlops_core.contract import tags as tag_keys
from mlops_core.contract.deployment_settings import (
    InvalidDeploymentSettingsError,
    ProjectDeploymentSettings,
    ServerlessCompute,
)
from mlops_core.contract.endpoint_alarms import Compute
from mlops_core.contract.naming import StageResource
from mlops_core.contract.sagemaker_resources import Endpoint
from mlops_core.deployment.context import DeployerContext
from mlops_core.deployment.ports import AlarmsPort

ALARM_TAG_KEYS = (tag_keys.MANAGED_BY, tag_keys.PROJECT, tag_keys.STAGE)


def _differs(definition: Mapping[str, Any], existing: Mapping[str, Any] | None) -> bool:
    return existing is None or any(existing.get(key) != value for key, value in definition.items())


class HealthAlarms:
    def __init__(self, context: DeployerContext) -> None:
        self._context = context

    def keep(self, target: StageResource, endpoint: Endpoint) -> dict[str, list[str]] | None:
        """The endpoint's health alarms as its compute and the record say; what was put and deleted
        (None: no alarms port, or a record the next deployment reports as invalid)."""
        alarms, settings = self._context.alarms, self._context.settings
        if alarms is None:
            return None
        record = (
            self._context.config_table.get_project(target.project) if self._context.config_table else None
        )
        try:
            stage = (
                ProjectDeploymentSettings.from_record(record)
                .for_stage(target.stage)
                .resolved(settings.default_instance_type, settings.default_instance_count)
            )
        except (InvalidDeploymentSettingsError, ValueError):
            return None
        compute: Compute = "serverless" if isinstance(stage.compute, ServerlessCompute) else "instances"
        serving = endpoint_alarms.serving_label(endpoint.model_package_arn or endpoint.config_name)
        wanted = (
            endpoint_alarms.health_alarm_definitions(
                settings.stack_name, target.name, compute, stage.monitoring, serving=serving
            )
            if stage.monitoring.enabled
            else []
        )
        existing = alarms.describe(endpoint_alarms.health_alarm_names(settings.stack_name, target.name))
        tags = {key: value for key, value in endpoint.tags.items() if key in ALARM_TAG_KEYS}
        put = []
        for definition in wanted:
            if _differs(definition, existing.get(definition["AlarmName"])):
                alarms.put_alarm(definition, tags=tags)
                put.append(definition["AlarmName"])
        names = {definition["AlarmName"] for definition in wanted}
        unneeded = sorted(name for name in existing if name not in names)
        alarms.delete(unneeded)
        return {"put_alarms": put, "deleted_alarms": unneeded}


def delete_endpoint_alarms(alarms: AlarmsPort, *, stack_name: str, endpoint_name: str) -> list[str]:
    """Delete every alarm the control plane made for the endpoint (health and rollback); their names."""
    existing = alarms.existing(endpoint_alarms.every_alarm_name(stack_name, endpoint_name))
    alarms.delete(existing)
    return existing
