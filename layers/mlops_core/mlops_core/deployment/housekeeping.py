"""Housekeeping: what an endpoint no longer needs goes, once it is back in service.

Endpoint configs it no longer uses (except the previous one, kept for rollback), models no
remaining config of the project's endpoints uses (shadow variants included), rollback alarms its
strategy no longer needs; and its version tags are brought up to the version it now serves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import EndpointStatus
from mlops_core.contract.deployment_settings import InvalidDeploymentSettingsError, ProjectDeploymentSettings
from mlops_core.contract.naming import StageResource
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.sagemaker_resources import Endpoint, EndpointConfig
from mlops_core.contract.topology import Stage
from mlops_core.deployment import endpoint_configs
from mlops_core.deployment.context import PREVIOUS_ENDPOINT_CONFIG_TAG, DeployerContext, ignored
from mlops_core.deployment.versions import VersionSource, version_of_config


class Housekeeping:
    """The housekeeping of an endpoint that is in service."""

    def __init__(self, context: DeployerContext, sources: Sequence[VersionSource]) -> None:
        self._context = context
        self._sources = sources

    def tidy_up(self, target: StageResource) -> Outcome:
        """Housekeeping of an endpoint that is in service.

        Deleted: the endpoint's own configs created before its current one, except the previous
        one (the current config's ``mlops:previous-endpoint-config`` tag, else the newest older
        config); the models of this project's related endpoints (the champion and the challenger
        share models through the shadow variant) that no remaining config references, created
        before every related endpoint's current config (so a deployment in flight is safe); the
        rollback alarms of an endpoint whose strategy no longer needs them. The endpoint's
        version tags (``mlops:model-package-arn`` or ``mlops:mlflow-model-version``, and
        ``mlops:commit-id``) are brought up to the version it now serves (done here, once the
        update is done, rather than on every deployment)."""
        sagemaker = self._context.sagemaker
        endpoint_name = target.name
        endpoint = sagemaker.describe_endpoint(endpoint_name)
        if endpoint is None or endpoint.status is not EndpointStatus.IN_SERVICE:
            status = endpoint.status if endpoint else "gone"
            return ignored(f"endpoint {endpoint_name} is {status}; housekeeping waits for InService")
        if not self._context.manages(endpoint):
            return ignored(self._context.not_managed(endpoint_name))
        own = self._named_configs(target)
        current = sagemaker.describe_endpoint_config(endpoint.config_name)
        if endpoint.config_name not in own or current is None:
            return ignored(
                f"endpoint {endpoint_name} runs {endpoint.config_name}, which this deployer did not name"
            )
        created = own[current.name]
        current_tags = sagemaker.list_tags(current.arn) if current.arn else {}
        older = sorted((name for name, time in own.items() if time < created), key=lambda name: own[name])
        previous = current_tags.get(PREVIOUS_ENDPOINT_CONFIG_TAG)
        if previous not in own or previous == current.name:
            previous = older[-1] if older else None
        kept = {current.name, *([previous] if previous else [])}
        deleted_configs = [name for name in older if name not in kept]
        for name in deleted_configs:
            sagemaker.delete_endpoint_config(name)
        deleted_models = self._delete_unused_models(target, current, created, set(deleted_configs))
        retagged = self._retag_served_version(endpoint, current_tags)
        details: dict[str, Any] = {
            "endpoint_name": endpoint_name,
            "kept_endpoint_configs": sorted(kept),
            "deleted_endpoint_configs": deleted_configs,
            "deleted_models": deleted_models,
            "deleted_alarms": self._delete_unneeded_alarms(target),
        }
        if retagged:
            details["retagged"] = retagged
        return Outcome("tidied", details)

    def _family(self, target: StageResource) -> list[StageResource]:
        """The endpoints whose configs may use this endpoint's models: a challenger's models can be
        the champion's shadow variant, so those two are housekept together."""
        related = {Stage.CHAMPION, Stage.CHALLENGER}
        if target.stage not in related:
            return [target]
        others = [
            StageResource(target.project, stage)
            for stage in (Stage.CHAMPION, Stage.CHALLENGER)
            if stage is not target.stage and stage in self._context.settings.deployed_stages
        ]
        return [target, *others]

    def _named_configs(self, stage: StageResource) -> dict[str, datetime]:
        """The endpoint configs named for ``stage``'s endpoint, with their creation times."""
        return {
            resource.name: resource.creation_time
            for resource in self._context.sagemaker.list_endpoint_configs(f"{stage.name}-v")
            if version_of_config(stage.name, resource.name) is not None
        }

    def _delete_unused_models(
        self, target: StageResource, current: EndpointConfig, created: datetime, deleted_configs: set[str]
    ) -> list[str]:
        """Delete the family's models that no remaining endpoint config references and that are
        older than every family endpoint's current config (so a deployment in flight is safe)."""
        sagemaker = self._context.sagemaker
        in_use: set[str] = set(current.model_names())
        oldest_current = created
        remaining: set[str] = set()
        for member in self._family(target):
            named = self._named_configs(member)
            remaining |= set(named) - deleted_configs
            if member == target:
                continue
            other = sagemaker.describe_endpoint(member.name)
            if other is None:
                continue
            remaining.add(other.config_name)  # whatever it runs, even a config we did not name
            other_created = named.get(other.config_name)
            if other_created is None:
                other_config = sagemaker.describe_endpoint_config(other.config_name)
                other_created = other_config.creation_time if other_config else None
            if other_created is not None:
                oldest_current = min(oldest_current, other_created)
        for name in sorted(remaining - {current.name}):
            config = sagemaker.describe_endpoint_config(name)
            if config is not None:
                in_use |= config.model_names()
        deleted: list[str] = []
        for member in self._family(target):
            for model in sagemaker.list_models(f"{member.name}-v"):
                if (
                    model.name not in in_use
                    and model.creation_time < oldest_current
                    and version_of_config(member.name, model.name) is not None
                ):
                    sagemaker.delete_model(model.name)
                    deleted.append(model.name)
        return deleted

    def _retag_served_version(self, endpoint: Endpoint, current_tags: Mapping[str, str]) -> dict[str, str]:
        """Keep the endpoint's version tags on what it serves, copied from its current config's tags
        (a config holding only a new shadow names the challenger's version, so it changes nothing)."""
        identity_tag = next(
            (
                source.identity_tag
                for source in self._sources
                if (named := current_tags.get(source.identity_tag)) and source.serves(named, endpoint)
            ),
            None,
        )
        if identity_tag is None:
            return {}
        wanted = {
            key: current_tags[key]
            for key in (identity_tag, tag_keys.COMMIT_ID)
            if key in current_tags and endpoint.tags.get(key) != current_tags[key]
        }
        if wanted:
            self._context.sagemaker.tag(endpoint.arn, wanted)
        return wanted

    def _delete_unneeded_alarms(self, target: StageResource) -> list[str]:
        """An endpoint whose strategy no longer shifts traffic does not need its rollback alarms."""
        alarms, table = self._context.alarms, self._context.config_table
        if alarms is None:
            return []
        record = table.get_project(target.project) if table else None
        try:
            strategy = ProjectDeploymentSettings.from_record(record).for_stage(target.stage).strategy
        except InvalidDeploymentSettingsError:
            return []  # reported by the next deployment; keep what exists
        if strategy.shifts_traffic:
            return []
        existing = alarms.existing(
            endpoint_configs.alarm_names(self._context.settings.stack_name, target.name)
        )
        alarms.delete(existing)
        return existing
