"""Model Monitor's data-quality schedule of a production endpoint (:mod:`mlops_core.contract.model_monitor`).

Kept once a production stage's endpoint is in service (after its creation and every update), like its
health alarms: when the stage's ``model_monitor`` is enabled (the project's opt-in; the record is
validated: data capture on, real-time instances) and the version the endpoint serves carries
data-quality baselines, the endpoint has one monitoring schedule running a job definition built from
them. The definition's name says the version and its request, so an endpoint in service with nothing
new costs one ``DescribeMonitoringSchedule``; a new version creates its definition, points the schedule
at it and deletes the endpoint's other definitions. A version without baselines deletes the schedule and
its definitions; so does a record that no longer asks for monitoring (one ``DescribeMonitoringSchedule``
and one listing per production endpoint back in service). When the endpoint is deleted (its
``DELETING`` state change, whoever deletes it: a person, a rollback of a new endpoint; the reaper deletes
no production endpoint) they go with it.
"""

from __future__ import annotations

from typing import Any

from mlops_core.contract import model_monitor
from mlops_core.contract import tags as tag_keys
from mlops_core.contract.deployment_settings import InvalidDeploymentSettingsError, ProjectDeploymentSettings
from mlops_core.contract.naming import StageResource
from mlops_core.contract.sagemaker_resources import Endpoint
from mlops_core.contract.topology import PRODUCTION_STAGES
from mlops_core.deployment.context import DeployerContext
from mlops_core.deployment.ports import MonitoringPort

MONITOR_TAG_KEYS = (tag_keys.MANAGED_BY, tag_keys.PROJECT, tag_keys.STAGE)


class DataQualityMonitoring:
    def __init__(self, context: DeployerContext) -> None:
        self._context = context

    def keep(self, target: StageResource, endpoint: Endpoint) -> dict[str, Any] | None:
        """The endpoint's schedule as the record and the served version say (None: nothing to do)."""
        monitoring, settings = self._context.monitoring, self._context.settings
        if monitoring is None or target.stage not in PRODUCTION_STAGES:
            return None
        if not settings.model_monitor_image_uri:
            return None  # the stack has no analyzer image (ModelMonitorImageUri): documented
        table = self._context.config_table
        try:
            stage = ProjectDeploymentSettings.from_record(
                table.get_project(target.project) if table else None
            ).for_stage(target.stage)
        except InvalidDeploymentSettingsError:
            return None  # reported by the next deployment; keep what exists
        if not stage.model_monitor.enabled:
            deleted = delete_endpoint_monitoring(monitoring, target.name)
            if not deleted["deleted_schedule"] and not deleted["deleted_job_definitions"]:
                return None
            return {"schedule": None, "reason": "model_monitor is not enabled", **deleted}
        schedule = model_monitor.schedule_name(target.name)
        package = (
            self._context.sagemaker.describe_model_package(endpoint.model_package_arn)
            if endpoint.model_package_arn
            else None
        )
        baseline = package.data_quality_baseline if package is not None else None
        if package is None or baseline is None:
            deleted = delete_endpoint_monitoring(monitoring, target.name)
            return {"schedule": None, "reason": "the served version has no data-quality baselines", **deleted}
        request = model_monitor.job_definition_request(
            endpoint_name=target.name,
            baseline=baseline,
            settings=stage.model_monitor,
            output_uri=model_monitor.output_s3_uri(
                stage.model_monitor, stage.data_capture.destination_s3_uri, target.name
            ),
            image_uri=settings.model_monitor_image_uri,
            role_arn=settings.sagemaker_execution_role_arn,
        )
        definition = model_monitor.job_definition_name(target.name, package.version, request)
        config = model_monitor.schedule_config(definition, stage.model_monitor)
        current = monitoring.scheduled_job_definition(schedule)
        if current == definition:
            return {"schedule": schedule, "job_definition": definition, "changed": False}
        tags = {key: value for key, value in endpoint.tags.items() if key in MONITOR_TAG_KEYS}
        monitoring.create_job_definition(definition, request=request, tags=tags)
        if current is None:
            monitoring.create_schedule(schedule, config=config, tags=tags)
        else:
            monitoring.update_schedule(schedule, config=config)
        prefix = model_monitor.job_definition_prefix(target.name)
        replaced = [name for name in monitoring.job_definitions(target.name, prefix) if name != definition]
        for name in replaced:
            monitoring.delete_job_definition(name)
        return {
            "schedule": schedule,
            "job_definition": definition,
            "changed": True,
            "deleted_job_definitions": replaced,
        }


def delete_endpoint_monitoring(monitoring: MonitoringPort, endpoint_name: str) -> dict[str, Any]:
    """Delete the endpoint's schedule and the job definitions the deployer made for it."""
    # Described first: IAM lets the deployer delete only the schedules tagged as its stack's, and a
    # tag condition on a schedule that does not exist denies instead of answering "not found".
    schedule = model_monitor.schedule_name(endpoint_name)
    deleted_schedule = monitoring.scheduled_job_definition(
        schedule
    ) is not None and monitoring.delete_schedule(schedule)
    prefix = model_monitor.job_definition_prefix(endpoint_name)
    definitions = monitoring.job_definitions(endpoint_name, prefix)
    for name in definitions:
        monitoring.delete_job_definition(name)
    return {"deleted_schedule": deleted_schedule, "deleted_job_definitions": definitions}
