"""The MLflow alias watcher: an alias assigned, moved or removed becomes ``MLflow Model Alias Changed``.

With ``RegistryBackend=mlflow`` assigning an alias is the approval (docs/mlflow.md). SageMaker managed
MLflow emits no event for it, so the watcher polls (a schedule); a self-hosted MLflow 3 server can
call the function URL instead (:mod:`mlops_core.handlers.mlflow_webhook`). Both paths share one state, the
last seen version of each alias (config table ``MLFLOW#{model}`` / ``ALIAS#{alias}``), changed only
by compare-and-set on the previous version: whoever records a change first emits its event, so two
overlapping polls, or a poll and a webhook, emit one event per change.

A poll reads everything first (every project's aliases and the versions they name) and writes
nothing if the tracking server cannot be read: the run fails with the server and the cause, and
the state stays as it was for the next run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mlops_core.contract.aws_events import ScheduledEvent
from mlops_core.contract.events.mlflow import MlflowModelAliasChanged
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.project_record import (
    ProjectRecord,
)
from mlops_core.contract.topology import Stage
from mlops_core.mlflow_aliases.ports import MlflowRegistryPort, ModelVersion
from mlops_core.mlflow_aliases.settings import MlflowWatcherSettings
from mlops_core.observability import logger


def parse_alias_stages(text: str) -> dict[str, Stage]:
    """``MlflowAliases``: ``dev,prod`` (alias = stage) or ``staging=dev,production=prod`` pairs."""
    mapping: dict[str, Stage] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        alias, _, stage = entry.partition("=")
        try:
            mapping[alias.strip()] = Stage((stage or alias).strip())
        except ValueError:
            raise ValueError(
                f"MLFLOW_ALIASES entry {entry!r}: {(stage or alias).strip()!r} is not a stage "
                f"({', '.join(s.value for s in Stage)})"
            ) from None
    if not mapping:
        raise ValueError("MLFLOW_ALIASES names no alias")
    return mapping


@dataclass(frozen=True)
class WatchedModel:
    """A project whose registry is MLflow, and the registered model that stands for it."""

    project: str
    model: str
    serving_image: str | None = None


def watched_model(record: ProjectRecord) -> WatchedModel:
    return WatchedModel(
        project=record.project,
        model=record.mlflow_model_name or record.project,
        serving_image=record.mlflow_serving_image,
    )


@dataclass(frozen=True)
class AliasChange:
    """One alias of one model, seen to name ``new`` where the state says ``old``."""

    watched: WatchedModel
    alias: str
    stage: Stage
    old: int | None
    new: ModelVersion | None

    def event(self, trigger: str) -> MlflowModelAliasChanged:
        return MlflowModelAliasChanged(
            project=self.watched.project,
            stage=self.stage,
            model=self.watched.model,
            alias=self.alias,
            old_version=self.old,
            new_version=self.new.version if self.new else None,
            source_uri=self.new.source if self.new else None,
            run_id=self.new.run_id if self.new else None,
            tags=dict(self.new.tags) if self.new else {},
            trigger=trigger,
        )


class AliasStatePort(Protocol):
    def mlflow_projects(self) -> list[ProjectRecord]: ...
    def seen(self, model: str) -> dict[str, int]: ...
    def record(self, model: str, alias: str, *, old: int | None, new: int | None) -> bool: ...
    def claim_delivery(self, delivery_id: str) -> bool: ...
    def release_delivery(self, delivery_id: str) -> None: ...


class MlflowAliasWatcher:
    def __init__(
        self,
        settings: MlflowWatcherSettings,
        registry: MlflowRegistryPort | None,
        state: AliasStatePort,
        *,
        webhook_secret: Any = None,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._state = state
        self._aliases = parse_alias_stages(settings.mlflow_aliases)
        self._webhook_secret = webhook_secret  # a callable returning the HMAC secret (read when needed)

    @property
    def aliases(self) -> Mapping[str, Stage]:
        return self._aliases

    @property
    def state(self) -> AliasStatePort:
        return self._state

    def webhook_secret(self) -> str | None:
        return self._webhook_secret() if self._webhook_secret else None

    # ------------------------------------------------------------------ the poll

    def on_schedule(self, _event: ScheduledEvent) -> Outcome:
        if self._registry is None:
            return Outcome("ignored", {"reason": "MlflowTrackingUri is not set: the MLflow path is off"})
        changes = self.detect()
        return self.commit(changes, trigger="poll")

    def detect(self) -> list[AliasChange]:
        """Every change between the registry and the last seen state (reads only; raises
        :class:`~mlops_core.adapters.mlflow_registry.MlflowUnavailableError` if the server cannot be read)."""
        assert self._registry is not None
        changes: list[AliasChange] = []
        for record in self._state.mlflow_projects():
            watched = watched_model(record)
            current = self._registry.aliases(watched.model)
            if current is None:
                logger.warning(
                    f"MLflow registered model {watched.model!r} of project {watched.project} does not exist",
                    extra={"project": watched.project, "model": watched.model},
                )
                current = {}
            seen = self._state.seen(watched.model)
            for alias, stage in self._aliases.items():
                old, new = seen.get(alias), current.get(alias)
                if old == new:
                    continue
                version = self._registry.model_version(watched.model, new) if new is not None else None
                changes.append(AliasChange(watched, alias, stage, old, version))
        return changes

    def commit(self, changes: list[AliasChange], *, trigger: str) -> Outcome:
        """Record each change (compare-and-set); a change another run recorded first emits nothing."""
        events = []
        lost = []
        for change in changes:
            new = change.new.version if change.new else None
            if self._state.record(change.watched.model, change.alias, old=change.old, new=new):
                events.append(change.event(trigger))
            else:
                lost.append(f"{change.watched.model}@{change.alias}")
        details: dict[str, Any] = {"changes": len(events)}
        if lost:
            details["recorded_by_another_run"] = lost
        return Outcome("changed" if events else "unchanged", details, events)

    # ------------------------------------------------------------------ a webhook's alias change

    def on_alias_webhook(self, model: str, alias: str, version: int | None) -> Outcome:
        """``model_version_alias.created`` (``version``) or ``.deleted`` (None) for ``model``."""
        stage = self._aliases.get(alias)
        if stage is None:
            return Outcome("ignored", {"reason": f"alias {alias!r} is not one of MLFLOW_ALIASES"})
        watched = next(
            (w for w in map(watched_model, self._state.mlflow_projects()) if w.model == model), None
        )
        if watched is None:
            return Outcome("ignored", {"reason": f"no mlflow project has registered model {model!r}"})
        old = self._state.seen(model).get(alias)
        if old == version:
            return Outcome("unchanged", {"reason": f"{model}@{alias} is already recorded as {version}"})
        new = None
        if version is not None:
            if self._registry is None:
                raise RuntimeError("MlflowTrackingUri is not set: cannot read the version the webhook names")
            new = self._registry.model_version(model, version)
        return self.commit([AliasChange(watched, alias, stage, old, new)], trigger="webhook")


def secret_value(raw: Any, key: str) -> str:
    """A secret holding the value itself, or JSON with ``key``."""
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if isinstance(parsed, dict) and isinstance(parsed.get(key), str):
        return str(parsed[key])
    return text
