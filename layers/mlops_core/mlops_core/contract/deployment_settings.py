"""How each stage of a project is deployed: the ``deployment`` map of the project record.

The project record (``PROJECT#{project}`` / ``META`` in the config table, written by the
project-lifecycle function) holds, per stage, the endpoint's compute (real-time instances or
serverless inference), the rollout strategy, data capture for Model Monitor, the alarms that
guard a blue/green rollout, and the lineage a production version must carry. A stage the record
does not mention is deployed with the stack's defaults (``DefaultInstanceType`` and
``DefaultInstanceCount``, all-at-once).

Every constraint that AWS would otherwise report halfway through a deployment is checked here,
before any call is made, so a bad record is refused with a reason and nothing changes:
- canary and linear rollouts shift traffic between instance fleets, so they need real-time
  instances (serverless endpoints do not support blue/green traffic shifting) and at least two
  instances (a one-instance fleet has no canary smaller than itself);
- ``shadow`` applies to the ``challenger`` stage only: its approvals become a shadow variant of
  the champion endpoint;
- an ``async`` compute (asynchronous inference, :mod:`mlops_core.contract.async_inference`) runs on
  instances and has no shadow variant;
- data capture needs an S3 destination, and real-time instances (serverless inference excludes it);
- ``model_monitor`` (a data-quality monitoring schedule, :mod:`mlops_core.contract.model_monitor`)
  needs data capture, so real-time instances, and applies to the production stages only;
- a rollout names at most 10 alarms in ``AutoRollbackConfiguration`` (AWS's limit): the
  deployer's two plus at most 8 of the team's ``rollback_alarms``;
- a linear step is 10-50% of the fleet (``LinearStepSize``), and the rollout's waits (a
  ``wait_interval_seconds`` after each step but the last, then ``termination_wait_seconds``) must
  end before ``maximum_execution_timeout_seconds`` (``BlueGreenUpdatePolicy``: the timeout "should
  be larger than the total waiting time"; a rollout that runs past it is rolled back).

Record shape (DynamoDB attribute ``deployment_defaults``, a map by stage; every field optional)::

    {"prod": {"compute": {"kind": "instances", "instance_type": "ml.m5.xlarge", "instance_count": 2},
              "strategy": "canary",
              "blue_green": {"canary_percentage": 50, "wait_interval_seconds": 300},
              "data_capture": {"enabled": true, "sampling_percentage": 20,
                               "destination_s3_uri": "s3://bucket/capture"},
              "alarms": {"invocation_5xx_errors_threshold": 1, "model_latency_threshold_ms": 500}},
     "challenger": {"strategy": "shadow", "shadow_sampling_percentage": 25}}

The flat shape of :class:`mlops_core.contract.project_record.StageDeploymentDefaults` (``instance_type``,
``instance_count``, ``serverless_memory_mb``, ``serverless_max_concurrency``, ``strategy`` and
``alarms`` as a list of existing alarm names) is read too, so records written either way deploy;
an instance type or count it leaves out is the stack's default, like a stage with no record.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mlops_core.contract.async_inference import AsyncCompute
from mlops_core.contract.batch_transform import BatchCompute
from mlops_core.contract.endpoint_alarms import EndpointAlarmSettings
from mlops_core.contract.endpoint_autoscaling import EndpointAutoscalingSettings
from mlops_core.contract.model_monitor import ModelMonitorSettings
from mlops_core.contract.topology import PRODUCTION_STAGES, Stage

DEPLOYMENT_ATTRIBUTE = "deployment_defaults"
LINEAGE_ATTRIBUTE = "lineage_policy"
MAX_ROLLBACK_ALARMS = 10
"""AWS's limit on the alarms of an ``AutoRollbackConfiguration``."""
DEPLOYER_ROLLBACK_ALARMS = 2
"""The alarms the deployer creates for each canary or linear endpoint (5XX errors, model latency)."""
INSTANCE_TYPE_PATTERN = r"^ml\.[a-z0-9]+\.[a-z0-9]+$"


class Strategy(StrEnum):
    ALL_AT_ONCE = "all-at-once"
    CANARY = "canary"
    LINEAR = "linear"
    SHADOW = "shadow"

    @property
    def shifts_traffic(self) -> bool:
        """Canary and linear move traffic in steps, guarded by alarms (blue/green with rollback)."""
        return self in {Strategy.CANARY, Strategy.LINEAR}


class _Settings(BaseModel):
    # defer_build: a validator is built when its model is first validated; most functions read these
    # settings only inside a project record (whose own validator covers them), or not at all.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class InstanceCompute(_Settings):
    """A real-time endpoint on a fleet of instances."""

    kind: Literal["instances"] = "instances"
    instance_type: str = Field(pattern=INSTANCE_TYPE_PATTERN)
    instance_count: int = Field(ge=1, le=100)


class ServerlessCompute(_Settings):
    """Serverless inference: SageMaker sizes the capacity, billed per request."""

    kind: Literal["serverless"] = "serverless"
    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    max_concurrency: int = Field(default=5, ge=1, le=200)


Compute = Annotated[
    InstanceCompute | ServerlessCompute | AsyncCompute | BatchCompute, Field(discriminator="kind")
]
InstanceFleet = InstanceCompute | AsyncCompute
"""The compute kinds that run on instances (real-time and asynchronous endpoints)."""


class BlueGreenSettings(_Settings):
    """Traffic routing of a canary or linear rollout (``BlueGreenUpdatePolicy``)."""

    canary_percentage: int = Field(default=10, ge=1, le=50, description="traffic on the canary")
    linear_step_percentage: int = Field(
        default=20, ge=10, le=50, description="traffic per linear step (AWS: 10-50% of the fleet)"
    )
    wait_interval_seconds: int = Field(default=300, ge=0, le=3600)
    termination_wait_seconds: int = Field(default=600, ge=0, le=3600)
    maximum_execution_timeout_seconds: int = Field(default=3600, ge=600, le=28800)


class DataCaptureSettings(_Settings):
    """Request and response capture to S3, the input of Model Monitor."""

    enabled: bool = False
    sampling_percentage: int = Field(default=100, ge=1, le=100)
    destination_s3_uri: str | None = Field(default=None, pattern=r"^s3://[a-z0-9.\-]{3,63}(/.*)?$")

    @model_validator(mode="after")
    def _destination_when_enabled(self) -> Self:
        if self.enabled and not self.destination_s3_uri:
            raise ValueError("data capture is enabled but destination_s3_uri is not set")
        return self


class AlarmSettings(_Settings):
    """The CloudWatch alarms that roll a canary or linear rollout back (one of each per endpoint)."""

    invocation_5xx_errors_threshold: int = Field(default=1, ge=1, description="5XX errors per period")
    model_latency_threshold_ms: int = Field(default=1000, ge=1, description="average ModelLatency")
    period_seconds: Literal[10, 30, 60, 300] = 60
    evaluation_periods: int = Field(default=2, ge=1, le=10)


class StageDeploymentSettings(_Settings):
    """How one stage's endpoint is deployed; ``compute`` None means the stack's default instances
    (``instance_type`` / ``instance_count``, from the flat record shape, override one of them)."""

    compute: Compute | None = None
    instance_type: str | None = Field(default=None, pattern=INSTANCE_TYPE_PATTERN)
    instance_count: int | None = Field(default=None, ge=1, le=100)
    strategy: Strategy = Strategy.ALL_AT_ONCE
    # default_factory, not an instance: an instance here would build its validator at import.
    blue_green: BlueGreenSettings = Field(default_factory=BlueGreenSettings)
    data_capture: DataCaptureSettings = Field(default_factory=DataCaptureSettings)
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    monitoring: EndpointAlarmSettings = Field(default_factory=EndpointAlarmSettings)
    autoscaling: EndpointAutoscalingSettings | None = None
    model_monitor: ModelMonitorSettings = Field(default_factory=ModelMonitorSettings)
    shadow_sampling_percentage: int = Field(
        default=10, ge=1, le=100, description="share of the champion's requests copied to the shadow"
    )
    rollback_alarms: tuple[str, ...] = Field(
        default=(),
        max_length=MAX_ROLLBACK_ALARMS - DEPLOYER_ROLLBACK_ALARMS,
        description="the team's own alarms that also roll a canary or linear rollout back "
        f"(at most {MAX_ROLLBACK_ALARMS - DEPLOYER_ROLLBACK_ALARMS}: AWS allows "
        f"{MAX_ROLLBACK_ALARMS} per rollout and the deployer adds {DEPLOYER_ROLLBACK_ALARMS})",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_flat_defaults(cls, value: Any) -> Any:
        """Accept the flat ``StageDeploymentDefaults`` shape of the project-lifecycle function."""
        if not isinstance(value, dict):
            return value
        value = dict(value)
        if value.get("instance_type") is not None and value.get("instance_count") is not None:
            value["compute"] = {
                "kind": "instances",
                "instance_type": value.pop("instance_type"),
                "instance_count": value.pop("instance_count"),
            }
        # Only one of them: the other is the stack's default, filled in by resolved().
        if (
            value.get("serverless_memory_mb") is not None
            or value.get("serverless_max_concurrency") is not None
        ):
            serverless: dict[str, Any] = {"kind": "serverless"}
            if value.get("serverless_memory_mb") is not None:
                serverless["memory_size_mb"] = value.pop("serverless_memory_mb")
            if value.get("serverless_max_concurrency") is not None:
                serverless["max_concurrency"] = value.pop("serverless_max_concurrency")
            value["compute"] = serverless
        for flat in ("instance_type", "instance_count", "serverless_memory_mb", "serverless_max_concurrency"):
            if value.get(flat) is None:
                value.pop(flat, None)
        if isinstance(value.get("alarms"), list | tuple):
            value["rollback_alarms"] = tuple(value.pop("alarms"))
        return value

    @model_validator(mode="after")
    def _compute_or_flat_instances(self) -> Self:
        if self.compute is not None and (self.instance_type or self.instance_count):
            raise ValueError("give either compute or instance_type/instance_count, not both")
        return self

    @model_validator(mode="after")
    def _batch_has_no_endpoint(self) -> Self:
        # A batch stage is a scheduled transform job (mlops_core.contract.batch_transform): no endpoint,
        # so nothing that configures one.
        if isinstance(self.compute, BatchCompute):
            endpoint_only = [
                name
                for name, used in (
                    (f"strategy {self.strategy}", self.strategy is not Strategy.ALL_AT_ONCE),
                    ("data_capture", self.data_capture.enabled),
                    ("model_monitor", self.model_monitor.enabled),
                    ("autoscaling", self.autoscaling is not None),
                    ("rollback_alarms", bool(self.rollback_alarms)),
                )
                if used
            ]
            if endpoint_only:
                raise ValueError(
                    f"a batch stage runs a scheduled transform job and has no endpoint: "
                    f"{', '.join(endpoint_only)} cannot apply"
                )
        return self

    @model_validator(mode="after")
    def _autoscaling_needs_instances(self) -> Self:
        if self.autoscaling is not None and isinstance(self.compute, ServerlessCompute):
            raise ValueError(
                "autoscaling needs real-time instances: serverless endpoints scale by themselves "
                "(max_concurrency)"
            )
        return self

    @model_validator(mode="after")
    def _async_endpoints_scale_on_their_backlog(self) -> Self:
        # AWS, "Autoscale an asynchronous endpoint": only async endpoints scale to zero instances, and
        # they scale on ApproximateBacklogSizePerInstance (mlops_core.contract.endpoint_autoscaling).
        scaling, is_async = self.autoscaling, isinstance(self.compute, AsyncCompute)
        if scaling is None:
            return self
        if scaling.min_capacity == 0 and not is_async:
            raise ValueError(
                "autoscaling min_capacity 0 needs async compute: only async endpoints scale to zero"
            )
        if scaling.scales_on_backlog and not is_async:
            raise ValueError(
                "target_backlog_per_instance needs async compute: only async endpoints queue requests"
            )
        if is_async and not scaling.scales_on_backlog:
            raise ValueError(
                "an async endpoint scales on its backlog: give target_backlog_per_instance, not "
                "target_invocations_per_instance"
            )
        return self

    @model_validator(mode="after")
    def _no_data_capture_when_serverless(self) -> Self:
        # AWS: "Some of the features currently available for SageMaker Real-time Inference are not
        # supported for Serverless Inference, including ... data capture" (CreateEndpointConfig fails).
        if isinstance(self.compute, ServerlessCompute) and self.data_capture.enabled:
            raise ValueError(
                "data capture needs real-time instances: serverless endpoints do not support data capture"
            )
        return self

    @model_validator(mode="after")
    def _model_monitor_needs_data_capture(self) -> Self:
        # Model Monitor analyses the endpoint's captured data (EndpointInput: "An endpoint in customer's
        # account which has enabled DataCaptureConfig"); serverless endpoints have no data capture.
        if self.model_monitor.enabled and isinstance(self.compute, ServerlessCompute):
            raise ValueError(
                "model_monitor needs real-time instances: serverless endpoints do not support data "
                "capture, which Model Monitor analyses"
            )
        if self.model_monitor.enabled and not self.data_capture.enabled:
            raise ValueError("model_monitor needs data_capture enabled: Model Monitor analyses captured data")
        return self

    def resolved(self, default_instance_type: str, default_instance_count: int) -> StageDeploymentSettings:
        """These settings with the stack's default instances where the record names no compute,
        and the strategy constraints checked (ValueError with the reason)."""
        compute = self.compute or InstanceCompute(
            instance_type=self.instance_type or default_instance_type,
            instance_count=self.instance_count or default_instance_count,
        )
        resolved = self.model_copy(update={"compute": compute, "instance_type": None, "instance_count": None})
        resolved.check_strategy()
        return resolved

    def check_strategy(self) -> None:
        compute = self.compute
        if self.strategy is Strategy.SHADOW and isinstance(compute, ServerlessCompute):
            raise ValueError(
                "strategy shadow needs real-time instances: shadow variants cannot be serverless"
            )
        if self.strategy is Strategy.SHADOW and isinstance(compute, AsyncCompute):
            # AWS, "Create a shadow test": an endpoint that uses asynchronous inference cannot use
            # shadow tests (the request is a validation error).
            raise ValueError(
                "strategy shadow needs real-time instances: async endpoints have no shadow variant"
            )
        if self.strategy.shifts_traffic:
            if isinstance(compute, ServerlessCompute):
                raise ValueError(
                    f"strategy {self.strategy} needs real-time instances: serverless endpoints do "
                    "not support blue/green traffic shifting (use all-at-once)"
                )
            if isinstance(compute, InstanceFleet) and compute.instance_count < 2:
                raise ValueError(
                    f"strategy {self.strategy} needs at least 2 instances to shift traffic in steps "
                    f"(instance_count is {compute.instance_count})"
                )
            if isinstance(compute, InstanceFleet):
                self._check_rollout_fits_its_timeout(compute.instance_count)

    def _check_rollout_fits_its_timeout(self, instances: int) -> None:
        """The waits of the rollout end before its timeout. A step's instances are its percentage of the
        fleet, rounded up here: the fewest steps, so no rollout AWS could finish is refused."""
        blue_green = self.blue_green
        steps = 2
        if self.strategy is Strategy.LINEAR:
            per_step = math.ceil(instances * blue_green.linear_step_percentage / 100)
            steps = math.ceil(instances / per_step)
        waiting = (steps - 1) * blue_green.wait_interval_seconds + blue_green.termination_wait_seconds
        if waiting >= blue_green.maximum_execution_timeout_seconds:
            raise ValueError(
                f"a {self.strategy} rollout over {instances} instances waits {waiting} s "
                f"({steps - 1} x wait_interval_seconds + termination_wait_seconds), not less than its "
                f"maximum_execution_timeout_seconds ({blue_green.maximum_execution_timeout_seconds}): "
                "the rollout could not finish in time"
            )


class LineagePolicy(_Settings):
    """What a version must carry to be deployed to a stage (checked before anything is created)."""

    stages: frozenset[Stage] = PRODUCTION_STAGES
    required: frozenset[Literal["commit-id", "dataset", "metrics"]] = frozenset(
        {"commit-id", "dataset", "metrics"}
    )


class ProjectDeploymentSettings(_Settings):
    """The deployment part of a project record: settings per stage and the lineage policy."""

    stages: dict[Stage, StageDeploymentSettings] = {}
    lineage: LineagePolicy = Field(default_factory=LineagePolicy)

    @model_validator(mode="after")
    def _autoscaling_only_for_production(self) -> Self:
        for stage, settings in self.stages.items():
            if settings.autoscaling is not None and stage not in PRODUCTION_STAGES:
                raise ValueError(
                    f"stage {stage}: autoscaling applies to the production stages only "
                    f"({', '.join(sorted(PRODUCTION_STAGES))})"
                )
        return self

    @model_validator(mode="after")
    def _model_monitor_only_for_production(self) -> Self:
        for stage, settings in self.stages.items():
            if settings.model_monitor.enabled and stage not in PRODUCTION_STAGES:
                raise ValueError(
                    f"stage {stage}: model_monitor applies to the production stages only "
                    f"({', '.join(sorted(PRODUCTION_STAGES))})"
                )
        return self

    @model_validator(mode="after")
    def _shadow_only_for_the_challenger(self) -> Self:
        for stage, settings in self.stages.items():
            if settings.strategy is Strategy.SHADOW and stage is not Stage.CHALLENGER:
                raise ValueError(
                    f"stage {stage}: strategy shadow applies to the challenger stage only "
                    "(it deploys the challenger as a shadow variant of the champion endpoint)"
                )
        return self

    def for_stage(self, stage: Stage) -> StageDeploymentSettings:
        return self.stages.get(stage, StageDeploymentSettings())

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> ProjectDeploymentSettings:
        """Parse a project record (None: no record, all defaults).

        Raises :class:`InvalidDeploymentSettingsError` naming each invalid field."""
        record = record or {}
        try:
            return cls.model_validate(
                {
                    "stages": record.get(DEPLOYMENT_ATTRIBUTE) or {},
                    **({"lineage": record[LINEAGE_ATTRIBUTE]} if record.get(LINEAGE_ATTRIBUTE) else {}),
                }
            )
        except ValidationError as error:
            raise InvalidDeploymentSettingsError(describe_validation_error(error)) from None


class InvalidDeploymentSettingsError(ValueError):
    """A project record that cannot be deployed from; the message says which field and why."""


def describe_validation_error(error: ValidationError) -> str:
    """``stages.prod.compute.instance_count: Input should be ...; ...``: one line a person can act on."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"])
        parts.append(f"{location}: {item['msg']}" if location else str(item["msg"]))
    return "; ".join(parts)
