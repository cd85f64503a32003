"""The endpoint reaper: every night, delete the dev endpoints nobody asked to keep.

Safety comes first, in layers that do not trust each other:
- only endpoints tagged ``mlops:managed-by`` with this stack's name are candidates; every other
  endpoint of the account is seen only to know which configs and models it uses, so a config or model
  an endpoint of another stack (or of nobody) uses is never deleted;
- only the reapable stages (``ReapableStages``, default ``feature,dev``) are deleted, and the
  production stages (``prod``, ``champion``, ``challenger``) never are, whatever that parameter says:
  an endpoint whose tag or name says production is kept;
- ``mlops:keep-until`` (YYYY-MM-DD) keeps an endpoint up to and including that day; a value that is
  not a date keeps it too (a person meant to keep it).

An endpoint that is ``Creating``/``Updating`` (or otherwise busy) is kept (``busy``) and tried again
on the next run.

Cost: the account's endpoints are listed with SageMaker ``Search`` (with their tags and configs),
100 per call, and the autoscaling targets of all candidates with ``DescribeScalableTargets``, 50
resource ids per call. Then, first, each candidate's endpoint is deleted (deregister its
autoscaling targets, delete it; an endpoint already gone counts as deleted); second, the configs and
models of the deleted endpoints are deleted unless an endpoint that stays uses them. Which config an
endpoint that stays uses is in the Search results; which models that config holds is described
(``DescribeEndpointConfig``, once per config) only where it could hold a model of a deleted endpoint:
a config the deployer made for an endpoint of this stack holds that endpoint's models only (a
champion's, its challenger's too), so it is described only for a model named after one of those;
every other config (an endpoint of another stack or of nobody, a config made by hand) is described
before a model is deleted, so a model is never deleted from under an endpoint that stays.

A failure on one endpoint is recorded with its reason and the others go on. The run keeps
:data:`TIME_RESERVE_SECONDS` of the Lambda's time for the summary: endpoints it has not reached by
then are reported ``not-reached`` (the next run deletes them), so ``Endpoints Reaped`` is always
sent. It says, per project, what was deleted, what was kept and why, what failed, and how many
instance-hours per day were saved. A summary too big for an event (thousands of endpoints) is stored
whole in S3 and the event, with the counts and names only, links it (``report_uri``).
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import Field

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import EventBridgeEvent, ScheduledEvent
from mlops_core.contract.events.reaper import (
    EndpointsReaped,
    EndpointsReapRequested,
    FailedEndpoint,
    KeepReason,
    KeptEndpoint,
    ProjectReapSummary,
    ReapedEndpoint,
)
from mlops_core.contract.naming import (
    MAX_NAME_LENGTH,
    StageResource,
    parse_stage_resource,
    parse_versioned_resource_name,
)
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.topology import PRODUCTION_STAGES, Stage
from mlops_core.observability import logger
from mlops_core.reaper.ports import (
    AutoscalingPort,
    EndpointSummary,
    ReaperSageMakerPort,
    ReaperServiceError,
    ReportStorePort,
    ScalableTarget,
    variant_resource_id,
)
from mlops_core.reaper.settings import ReaperSettings

# EventBridge refuses entries over 256 KiB. Past this the summary drops the per-endpoint details,
# then (a fleet of thousands) the per-project lists, keeping the counts; the full summary goes to S3
# (ReaperReportBucket) and the event links it.
MAX_EVENT_DETAIL_BYTES = 200_000
UNKNOWN_PROJECT = "(unknown)"
# Statuses in which SageMaker refuses (or would race) a deletion: tried again on the next run.
BUSY_STATUSES = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
# Lambda time kept for what follows the deletions: the summary, its publication, the log.
TIME_RESERVE_SECONDS = 30.0


class EndpointsReapRequestedEvent(EventBridgeEvent):
    """The on-demand trigger: ``Endpoints Reap Requested`` put on the application bus by a person."""

    source: Literal["mlops.operator"]
    detail_type: Literal["Endpoints Reap Requested"] = Field(alias="detail-type")
    detail: EndpointsReapRequested


# ------------------------------------------------------------------------------------------ decisions


@dataclass(frozen=True)
class Verdict:
    """Whether one endpoint is reaped, and if not, why."""

    project: str
    stage: str | None
    reap: bool
    reason: KeepReason | None = None
    explanation: str | None = None


def judge(endpoint: EndpointSummary, *, stack_name: str, reapable: frozenset[Stage], today: date) -> Verdict:
    """Decide for one endpoint. Pure, so the property-based test can throw any fleet at it."""
    tags = endpoint.tags
    parsed = parse_stage_resource(endpoint.name)
    project = tags.get(tag_keys.PROJECT) or (parsed.project if parsed else UNKNOWN_PROJECT)
    stage_tag = tags.get(tag_keys.STAGE)

    def keep(reason: KeepReason, explanation: str) -> Verdict:
        return Verdict(project, stage_tag, reap=False, reason=reason, explanation=explanation)

    if tags.get(tag_keys.MANAGED_BY) != stack_name:
        return keep(KeepReason.NOT_MANAGED, f"not tagged {tag_keys.MANAGED_BY}={stack_name}")
    try:
        stage = Stage(stage_tag) if stage_tag is not None else None
    except ValueError:
        stage = None
    # Both the tag and the name must agree that this is not production: either one saying
    # production is enough to keep the endpoint.
    if (stage is not None and stage.is_production) or (parsed is not None and parsed.stage.is_production):
        return keep(KeepReason.PRODUCTION_STAGE, "production endpoints are never reaped")
    if stage is None:
        return keep(KeepReason.UNKNOWN_STAGE, f"tag {tag_keys.STAGE} is {stage_tag!r}, not a stage")
    if stage not in reapable:
        return keep(KeepReason.STAGE_NOT_REAPABLE, f"stage {stage} is not in ReapableStages")
    keep_until = tags.get(tag_keys.KEEP_UNTIL)
    if keep_until is not None:
        try:
            until = date.fromisoformat(keep_until.strip())
        except ValueError:
            return keep(
                KeepReason.INVALID_KEEP_UNTIL,
                f"{tag_keys.KEEP_UNTIL}={keep_until!r} is not a YYYY-MM-DD date; kept to be safe",
            )
        if until >= today:
            return keep(KeepReason.KEEP_UNTIL, f"{tag_keys.KEEP_UNTIL}={until.isoformat()}")
    if endpoint.status == "Deleting":
        return keep(KeepReason.ALREADY_DELETING, "already being deleted")
    if endpoint.status in BUSY_STATUSES:
        return keep(KeepReason.BUSY, f"{endpoint.status}: tried again on the next run")
    return Verdict(project, stage.value, reap=True)


def reapable_stages(configured: Iterable[Stage]) -> frozenset[Stage]:
    """The configured stages minus the production ones, which are never reaped."""
    return frozenset(configured) - PRODUCTION_STAGES


# ------------------------------------------------------------------------------------------ the reaper


@dataclass
class _ProjectReport:
    deleted: list[ReapedEndpoint] = field(default_factory=list)
    kept: list[KeptEndpoint] = field(default_factory=list)
    production: list[str] = field(default_factory=list)
    failed: list[FailedEndpoint] = field(default_factory=list)


class EndpointReaper:
    def __init__(
        self,
        settings: ReaperSettings,
        sagemaker: ReaperSageMakerPort,
        autoscaling: AutoscalingPort,
        *,
        reports: ReportStorePort | None = None,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
        remaining_seconds: Callable[[], float | None] = lambda: None,
    ) -> None:
        self._settings = settings
        self._sagemaker = sagemaker
        self._autoscaling = autoscaling
        self._reports = reports
        self._today = today
        self._remaining_seconds = remaining_seconds

    def _out_of_time(self) -> bool:
        remaining = self._remaining_seconds()
        return remaining is not None and remaining < TIME_RESERVE_SECONDS

    def on_schedule(self, event: ScheduledEvent) -> Outcome:
        return self.reap(dry_run=self._settings.dry_run, trigger="schedule", run_id=event.id)

    def on_request(self, event: EndpointsReapRequestedEvent) -> Outcome:
        dry_run = event.detail.dry_run if event.detail.dry_run is not None else self._settings.dry_run
        return self.reap(dry_run=dry_run, trigger="requested", run_id=event.id)

    def reap(self, *, dry_run: bool, trigger: str, run_id: str | None = None) -> Outcome:
        """One run. ``run_id`` (the triggering event's id) names its full report, if one is stored: a
        redelivery of the same event overwrites it instead of adding another."""
        stack = self._settings.stack_name
        reapable = reapable_stages(self._settings.reapable_stages)
        today = self._today()
        every_endpoint = list(self._sagemaker.search_endpoints())
        verdicts = {
            endpoint.name: judge(endpoint, stack_name=stack, reapable=reapable, today=today)
            for endpoint in every_endpoint
        }
        fleet = [e for e in every_endpoint if verdicts[e.name].reason is not KeepReason.NOT_MANAGED]
        reports: dict[str, _ProjectReport] = defaultdict(_ProjectReport)
        doomed: list[EndpointSummary] = []
        for endpoint in fleet:
            verdict = verdicts[endpoint.name]
            if verdict.reap:
                doomed.append(endpoint)
            elif verdict.reason is KeepReason.PRODUCTION_STAGE:
                reports[verdict.project].production.append(endpoint.name)
            else:
                assert verdict.reason is not None
                reports[verdict.project].kept.append(
                    KeptEndpoint(
                        endpoint_name=endpoint.name,
                        stage=verdict.stage,
                        reason=verdict.reason,
                        explanation=verdict.explanation,
                    )
                )

        if dry_run:
            for endpoint in doomed:
                reports[verdicts[endpoint.name].project].deleted.append(self._reaped(endpoint, verdicts))
        else:
            self._delete_all(every_endpoint, doomed, verdicts, reports)
        return self._outcome(
            reports,
            dry_run=dry_run,
            trigger=trigger,
            examined=len(fleet),
            reapable=reapable,
            report_name=f"{today.isoformat()}/{_key_safe(run_id or uuid.uuid4().hex)}.json",
        )

    def _delete_all(
        self,
        every_endpoint: list[EndpointSummary],
        doomed: list[EndpointSummary],
        verdicts: Mapping[str, Verdict],
        reports: dict[str, _ProjectReport],
    ) -> None:
        resource_ids = [variant_resource_id(e.name, variant) for e in doomed for variant, _ in e.variants]
        targets_by_endpoint: dict[str, list[ScalableTarget]] = defaultdict(list)
        try:
            for target in self._autoscaling.scalable_targets(resource_ids) if resource_ids else []:
                targets_by_endpoint[target.resource_id.split("/")[1]].append(target)
        except ReaperServiceError as error:
            # Without the targets no deletion is safe: report every candidate as failed.
            for endpoint in doomed:
                reports[verdicts[endpoint.name].project].failed.append(
                    self._failed(endpoint, verdicts, f"could not list autoscaling targets: {error}")
                )
            return

        # First the endpoints, ...
        gone: list[tuple[EndpointSummary, list[ScalableTarget], bool]] = []
        for index, endpoint in enumerate(doomed):
            if self._out_of_time():
                self._not_reached(doomed[index:], verdicts, reports)
                break
            report = reports[verdicts[endpoint.name].project]
            targets = targets_by_endpoint.get(endpoint.name, [])
            try:
                for target in targets:
                    self._autoscaling.deregister(target)
                deleted_now = self._sagemaker.delete_managed_endpoint(endpoint.name)
            except ReaperServiceError as error:
                report.failed.append(self._failed(endpoint, verdicts, str(error)))
                logger.warning(f"could not delete endpoint {endpoint.name}", extra={"error": str(error)})
                continue
            gone.append((endpoint, targets, deleted_now))

        # ... then their configs and models, unless an endpoint that stays uses them.
        gone_names = {endpoint.name for endpoint, _, _ in gone}
        staying = _ResourcesInUse(
            self._sagemaker,
            [e for e in every_endpoint if e.name not in gone_names],
            stack_name=self._settings.stack_name,
        )
        cleaned: set[str] = set()
        for endpoint, targets, deleted_now in gone:
            cleanup: dict[str, list[str]] = {
                "deleted_endpoint_configs": [],
                "deleted_models": [],
                "notes": [],
            }
            if not deleted_now:
                cleanup["notes"].append(f"endpoint {endpoint.name} was already gone")
            if self._out_of_time():
                cleanup["notes"].append("its endpoint config and models left: the run's time ran out")
            else:
                self._clean_up(endpoint, staying, cleaned, cleanup)
            reports[verdicts[endpoint.name].project].deleted.append(
                self._reaped(
                    endpoint,
                    verdicts,
                    deregistered_scalable_targets=[target.resource_id for target in targets],
                    **cleanup,
                )
            )

    @staticmethod
    def _not_reached(
        endpoints: Sequence[EndpointSummary],
        verdicts: Mapping[str, Verdict],
        reports: dict[str, _ProjectReport],
    ) -> None:
        for endpoint in endpoints:
            verdict = verdicts[endpoint.name]
            reports[verdict.project].kept.append(
                KeptEndpoint(
                    endpoint_name=endpoint.name,
                    stage=verdict.stage,
                    reason=KeepReason.NOT_REACHED,
                    explanation="the run's time ran out before this endpoint; the next run deletes it",
                )
            )

    def _clean_up(
        self,
        endpoint: EndpointSummary,
        staying: _ResourcesInUse,
        cleaned: set[str],
        done: dict[str, list[str]],
    ) -> None:
        """Delete a deleted endpoint's config and models that no endpoint that stays uses."""
        config = endpoint.config_name
        if not config or config in cleaned:
            return
        user = staying.config_user(config)
        if user is not None:
            done["notes"].append(f"endpoint config {config} left: endpoint {user}, which stays, uses it")
            return
        try:
            models = self._sagemaker.models_of_config(config) or []
            if self._sagemaker.delete_managed_endpoint_config(config):
                done["deleted_endpoint_configs"].append(config)
            cleaned.add(config)
        except ReaperServiceError as error:
            done["notes"].append(f"endpoint config {config} left: {error}")
            return
        for model in models:
            if model in cleaned:
                continue
            try:
                user = staying.model_user(model)
            except ReaperServiceError as error:
                done["notes"].append(
                    f"model {model} left: could not check which models the endpoints that stay use ({error})"
                )
                continue
            if user is not None:
                done["notes"].append(f"model {model} left: endpoint {user}, which stays, uses it")
                continue
            try:
                if self._sagemaker.delete_managed_model(model):
                    done["deleted_models"].append(model)
                cleaned.add(model)
            except ReaperServiceError as error:
                done["notes"].append(f"model {model} left: {error}")

    @staticmethod
    def _reaped(
        endpoint: EndpointSummary, verdicts: Mapping[str, Verdict], **done: list[str]
    ) -> ReapedEndpoint:
        return ReapedEndpoint(
            endpoint_name=endpoint.name,
            stage=verdicts[endpoint.name].stage,
            instance_hours_per_day=endpoint.instance_hours_per_day,
            **done,
        )

    @staticmethod
    def _failed(endpoint: EndpointSummary, verdicts: Mapping[str, Verdict], reason: str) -> FailedEndpoint:
        return FailedEndpoint(endpoint_name=endpoint.name, stage=verdicts[endpoint.name].stage, reason=reason)

    def _outcome(
        self,
        reports: Mapping[str, _ProjectReport],
        *,
        dry_run: bool,
        trigger: str,
        examined: int,
        reapable: frozenset[Stage],
        report_name: str,
    ) -> Outcome:
        projects = [
            ProjectReapSummary(
                project=project,
                deleted=report.deleted,
                kept=report.kept,
                production_endpoints=report.production,
                failed=report.failed,
                instance_hours_per_day_saved=sum(e.instance_hours_per_day for e in report.deleted),
            )
            for project, report in sorted(reports.items())
        ]
        event = EndpointsReaped(
            dry_run=dry_run,
            trigger=trigger,
            reapable_stages=sorted(stage.value for stage in reapable),
            endpoints_examined=examined,
            deleted_count=sum(len(p.deleted) for p in projects),
            kept_count=sum(len(p.kept) + len(p.production_endpoints) for p in projects),
            failed_count=sum(len(p.failed) for p in projects),
            instance_hours_per_day_saved=sum(p.instance_hours_per_day_saved for p in projects),
            projects=projects,
        )
        if len(json.dumps(event.detail())) > MAX_EVENT_DETAIL_BYTES:
            event = event.model_copy(
                update={
                    "details_dropped": True,
                    "report_uri": self._store_report(report_name, event.detail()),
                    "projects": [
                        project.model_copy(
                            update={
                                "kept": [],
                                "deleted": [
                                    ReapedEndpoint(
                                        endpoint_name=e.endpoint_name,
                                        stage=e.stage,
                                        instance_hours_per_day=e.instance_hours_per_day,
                                    )
                                    for e in project.deleted
                                ],
                            }
                        )
                        for project in projects
                    ],
                }
            )
        if len(json.dumps(event.detail())) > MAX_EVENT_DETAIL_BYTES:
            event = event.model_copy(update={"projects": []})  # the counts and totals still say it
        not_reached = [
            e.endpoint_name for p in projects for e in p.kept if e.reason is KeepReason.NOT_REACHED
        ]
        status = "dry-run" if dry_run else ("partial" if event.failed_count or not_reached else "reaped")
        details = {
            "deleted": [e.endpoint_name for p in projects for e in p.deleted],
            "failed": [e.endpoint_name for p in projects for e in p.failed],
            "not_reached": not_reached,
        }
        return Outcome(status, details, [event])

    def _store_report(self, name: str, detail: dict[str, object]) -> str | None:
        """The full summary in S3 (its URI), or in the log when there is no store or storing fails."""
        if self._reports is not None:
            try:
                uri = self._reports.put_report(name, json.dumps(detail, indent=1).encode())
            except ReaperServiceError as error:
                logger.warning(
                    "Endpoints Reaped: the full summary could not be stored", extra={"error": str(error)}
                )
            else:
                logger.info("Endpoints Reaped in full", extra={"report_uri": uri})
                return uri
        logger.info("Endpoints Reaped in full", extra={"endpoints_reaped": detail})
        return None


def _key_safe(text: str) -> str:
    """An event id as part of an S3 key (EventBridge's ids are UUIDs; anything else is replaced)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:200]


class _ResourcesInUse:
    """The configs and models the endpoints that stay use.

    Which configs an endpoint that stays uses is in the Search results (no call). Which models, needs
    the config described, and only the configs that could hold a model of a deleted endpoint are: the
    config of an endpoint this stack manages, named by the deployer after that endpoint
    (``{endpoint}-v{version}-{fingerprint}``), holds the deployer's models of that endpoint only (named
    the same way), or for a champion also its challenger's (the shadow variant): it is described only
    for a model named after one of those. Any other config (an endpoint this stack does not manage, a
    config made by hand) could hold any model: it is described before any model is deleted. Each
    config is described once, on first need, so a run that deletes nothing costs nothing here."""

    def __init__(
        self, sagemaker: ReaperSageMakerPort, staying: Sequence[EndpointSummary], *, stack_name: str
    ) -> None:
        self._sagemaker = sagemaker
        self._config_users: dict[str, str] = {}
        self._any_model: dict[str, str] = {}  # config -> an endpoint that stays and uses it
        self._by_model_source: dict[str, dict[str, str]] = defaultdict(dict)  # endpoint named -> configs
        for endpoint in staying:
            config = endpoint.config_name
            if not config:
                continue
            self._config_users.setdefault(config, endpoint.name)
            sources = _model_sources(endpoint, stack_name)
            if sources is None:
                self._any_model.setdefault(config, endpoint.name)
            else:
                for source in sources:
                    self._by_model_source[source].setdefault(config, endpoint.name)
        self._models: dict[str, list[str] | ReaperServiceError] = {}

    def config_user(self, config: str) -> str | None:
        return self._config_users.get(config)

    def model_user(self, model: str) -> str | None:
        """An endpoint that stays and uses the model (raises ReaperServiceError if that cannot be known)."""
        for config, endpoint in self._configs_that_could_hold(model):
            if model in self._models_of(config):
                return endpoint
        return None

    def _configs_that_could_hold(self, model: str) -> Iterator[tuple[str, str]]:
        yield from self._any_model.items()
        versioned = parse_versioned_resource_name(model)
        if versioned is None:
            return  # not a name the deployer gives: only a config made otherwise can hold it
        head = versioned[0]
        if len(model) < MAX_NAME_LENGTH:  # the endpoint's name in full
            yield from self._by_model_source.get(head, {}).items()
            return
        for source, configs in self._by_model_source.items():  # the endpoint's name was shortened
            if _shortened(source, len(model) - len(head)) == head:
                yield from configs.items()

    def _models_of(self, config: str) -> list[str]:
        if config not in self._models:
            try:
                self._models[config] = self._sagemaker.models_of_config(config) or []
            except ReaperServiceError as error:
                self._models[config] = error
        models = self._models[config]
        if isinstance(models, ReaperServiceError):
            raise models
        return models


def _shortened(endpoint_name: str, suffix_length: int) -> str:
    """The endpoint part of a name :func:`~mlops_core.contract.naming.versioned_resource_name` gives."""
    return endpoint_name[: MAX_NAME_LENGTH - suffix_length].rstrip("-")


def _model_sources(endpoint: EndpointSummary, stack_name: str) -> set[str] | None:
    """The endpoints whose models the endpoint's config can hold, when the deployer made that config
    for it: its own, and a champion's challenger's (the shadow variant); None for any other config."""
    if endpoint.tags.get(tag_keys.MANAGED_BY) != stack_name:
        return None
    versioned = parse_versioned_resource_name(endpoint.config_name)
    if versioned is None:
        return None
    head = versioned[0]
    if _shortened(endpoint.name, len(endpoint.config_name) - len(head)) != head:
        return None
    sources = {endpoint.name}
    parsed = parse_stage_resource(endpoint.name)
    if parsed is not None and parsed.stage is Stage.CHAMPION:
        sources.add(StageResource(parsed.project, Stage.CHALLENGER).name)
    return sources
