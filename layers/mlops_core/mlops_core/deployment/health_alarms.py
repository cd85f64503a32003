"""The health alarms of a managed endpoint (:mod:`mlops_core.contract.endpoint_alarms`): put with
every roll out (``PutMetricAlarm`` is an upsert, so they follow the endpoint's compute, thresholds and
version), and deleted when the endpoint is deleted (its ``DELETING`` state change, whoever deletes it),
with the rollback alarms. A shadow deployment leaves the champion's alarms as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlops_core.contract import endpoint_alarms
from mlops_core.contract.deployment_settings import ServerlessCompute, StageDeploymentSettings
from mlops_core.contract.endpoint_alarms import Compute
from mlops_core.deployment.ports import AlarmsPort


def put_health_alarms(
    alarms: AlarmsPort,
    *,
    stack_name: str,
    endpoint_name: str,
    settings: StageDeploymentSettings,
    serving: str,
    tags: Mapping[str, str],
) -> list[str]:
    """Create or update the endpoint's health alarms; delete those of the other compute (an endpoint
    moved from instances to serverless, or back). Nothing when the stage turns them off (and those
    that exist are deleted). The names of the alarms put."""
    compute: Compute = "serverless" if isinstance(settings.compute, ServerlessCompute) else "instances"
    wanted: list[str] = []
    if settings.monitoring.enabled:
        for definition in endpoint_alarms.health_alarm_definitions(
            stack_name, endpoint_name, compute, settings.monitoring, serving=serving
        ):
            alarms.put_alarm(definition, tags=tags)
            wanted.append(definition["AlarmName"])
    unwanted = [
        name for name in endpoint_alarms.health_alarm_names(stack_name, endpoint_name) if name not in wanted
    ]
    alarms.delete(alarms.existing(unwanted))
    return wanted


def delete_endpoint_alarms(alarms: AlarmsPort, *, stack_name: str, endpoint_name: str) -> list[str]:
    """Delete every alarm the control plane made for the endpoint (health and rollback); their names."""
    existing = alarms.existing(endpoint_alarms.every_alarm_name(stack_name, endpoint_name))
    alarms.delete(existing)
    return existing
