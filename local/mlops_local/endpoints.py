"""The lifecycle of SageMaker endpoints, which moto skips: it makes every endpoint InService at once.

In SageMaker, CreateEndpoint leaves an endpoint `Creating` and UpdateEndpoint `Updating` for minutes,
and every status change is an event. Here the cloud decides when an endpoint moves on: each
`advance()` takes every endpoint that nobody holds one step further, and tests can hold an endpoint in
a status (or a rollout at a step) to make approvals race a deployment, set an alarm mid-rollout, or
fail it.

An update with a blue/green policy or rollback alarms (UpdateEndpoint's `DeploymentConfig`) is a
rollout, carried out the way SageMaker's deployment guardrails carry it out (SageMaker Developer Guide:
"Blue/Green Deployments", "Use canary traffic shifting", "Use linear traffic shifting", "All at once
traffic shifting", "Auto-Rollback Configuration and Monitoring"), with time compressed: what SageMaker
spends waiting (`WaitIntervalInSeconds`, `TerminationWaitInSeconds`) is one step, taken at the next
`advance()` and counted against `MaximumExecutionTimeoutInSeconds`, with no real waiting.

1. SageMaker provisions the new (green) fleet: VariantStatus `Creating`;
2. it turns traffic on, on the canary (CANARY), on each linear step (LINEAR) or on the whole fleet
   (ALL_AT_ONCE): `ActivatingTraffic`, each time followed by a bake (`Baking`) of
   `WaitIntervalInSeconds`; the bake on full capacity lasts `TerminationWaitInSeconds`;
3. after that last bake the old (blue) fleet goes and the endpoint runs the new config, InService.

While it runs, DescribeEndpoint shows the update's `PendingDeploymentSummary` (the new config, its
start time, the new fleet's variants with their instance counts and `VariantStatus`), each step is a
`SageMaker Endpoint Deployment State Change` (`UPDATING`), and the inference server sends the new
fleet its share of the requests (its instances taking traffic / its size).

At every step the rollout looks at its alarms (`AutoRollbackConfiguration`, CloudWatch alarms in
moto: a test sets one with SetAlarmState): one in `ALARM`, or the timeout passed, rolls the update
back. All traffic returns to the old fleet, the new fleet is terminated (VariantStatus `Deleting`),
the endpoint is `RollingBack` with a deployment state change `ROLLING_BACK`, then InService again
on its old config; the update's config is never applied. AWS publishes no sample of the rollback's
events: their shape (and the `RollingBack` status of an UpdateEndpoint rollback) is inferred, like
the instance counts of a capacity percentage (rounded down, at least one instance) and the wording
of the status messages AWS gives no example of. docs/local-cloud.md ("Rollouts") has the details.

An update without either (no `DeploymentConfig`) is SageMaker's default blue/green all at once with
no bake: it finishes at the next `advance()`, as a create does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from moto.cloudwatch.models import cloudwatch_backends
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend, sagemaker_backends

from mlops_local import aws_events

IN_PROGRESS = ("Creating", "Updating", "RollingBack")

# Variant statuses of a deployment in progress (VariantStatus in the SageMaker API).
CREATING, ACTIVATING_TRAFFIC, BAKING, DELETING = "Creating", "ActivatingTraffic", "Baking", "Deleting"

# Ranges of DeploymentConfig's fields (the SageMaker API reference; botocore checks only the minimums).
# MaximumExecutionTimeoutInSeconds when the policy gives none (its maximum). The ranges of the waits, the
# timeout and the number of alarms are the service model's, checked by service_rules before this runs.
DEFAULT_TIMEOUT_SECONDS = 28800
MAXIMUM_CANARY_PERCENT = 50  # CanarySize: at most 50% of the variant's instance count
LINEAR_STEP_PERCENT_RANGE = (10, 50)  # LinearStepSize: 10-50% of the variant's instance count


@dataclass(frozen=True)
class PendingUpdate:
    """What UpdateEndpoint asked for; it takes effect when the endpoint is InService again."""

    endpoint_config_name: str
    retain_all_variant_properties: bool


@dataclass(frozen=True)
class RolloutStep:
    """One step of a rollout: the new fleet's VariantStatus, the share of its capacity taking traffic,
    and how long SageMaker stays in it (a bake) before the next step."""

    status: str
    share: float
    seconds: int
    message: str


@dataclass
class Rollout:
    """An UpdateEndpoint in progress: its steps, where it is, and what SageMaker watches."""

    update: PendingUpdate
    steps: tuple[RolloutStep, ...]
    routing: str = "ALL_AT_ONCE"  # TrafficRoutingConfiguration's Type
    alarms: tuple[str, ...] = ()
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    started: datetime = field(default_factory=utcnow)
    step_started: datetime = field(default_factory=utcnow)
    position: int = 0
    elapsed_seconds: int = 0
    rollback_reason: str | None = None
    old_variants: list[dict[str, Any]] = field(default_factory=list)
    new_variants: list[dict[str, Any]] = field(default_factory=list)

    @property
    def shifts_traffic(self) -> bool:
        """A blue/green rollout in steps (False: the default update, done in one step)."""
        return bool(self.steps)

    @property
    def step(self) -> RolloutStep | None:
        return self.steps[self.position] if self.steps else None

    @property
    def new_fleet_share(self) -> float:
        """The share of the endpoint's requests the new fleet answers now."""
        if self.rollback_reason is not None or self.step is None:
            return 0.0
        return self.step.share


# Kept beside the moto objects rather than on them: every attribute of a moto SageMaker object becomes a
# field of its Describe response.
_rollouts: WeakKeyDictionary[FakeEndpoint, Rollout] = WeakKeyDictionary()


def _backend_of(endpoint: FakeEndpoint) -> SageMakerModelBackend:
    _arn, _partition, _service, region, account, _resource = endpoint.arn.split(":", 5)
    return sagemaker_backends[account][region]


def set_status(endpoint: FakeEndpoint, status: str, *, failure_reason: str | None = None) -> None:
    """Move `endpoint` to `status` and emit the `SageMaker Endpoint State Change` that AWS emits."""
    backend = _backend_of(endpoint)
    endpoint.endpoint_status = status
    endpoint.failure_reason = failure_reason  # type: ignore[assignment]
    endpoint.last_modified_time = utcnow()
    aws_events.emit(
        aws_events.endpoint_state_change(endpoint, account=backend.account_id, region=backend.region_name)
    )


def _emit_deployment_state_change(endpoint: FakeEndpoint) -> None:
    backend = _backend_of(endpoint)
    aws_events.emit(
        aws_events.endpoint_deployment_state_change(
            endpoint,
            endpoint.pending_deployment_summary,  # type: ignore[attr-defined]
            account=backend.account_id,
            region=backend.region_name,
        )
    )


# ------------------------------------------------------------------------------------ planning a rollout


def _capacity(variants: list[dict[str, Any]]) -> int:
    """The instances of the new config's first production variant (the unit capacity sizes refer to);
    a serverless variant counts as one."""
    return int(variants[0].get("InitialInstanceCount") or 1) if variants else 1


def _batch(size: dict[str, Any] | None, capacity: int, what: str, allowed: tuple[int, int]) -> int:
    """Instances of a CanarySize or LinearStepSize, refused like SageMaker when out of its range."""
    if not size or "Value" not in size:
        raise ValidationError(message=f"{what} is required for this TrafficRoutingConfiguration Type.")
    value = int(size["Value"])
    percent = value if size.get("Type") == "CAPACITY_PERCENT" else value * 100 / capacity
    low, high = allowed
    if not low <= percent <= high:
        bounds = f"{low}-{high}%" if low else f"at most {high}%"
        raise ValidationError(
            message=f"{what} must be {bounds} of the variant's instance count ({capacity}); got "
            f"{value} {size.get('Type', 'INSTANCE_COUNT')}."
        )
    if size.get("Type") == "CAPACITY_PERCENT":
        return max(1, capacity * value // 100)  # inferred: rounded down, at least one instance
    return value


def _plan(routing: dict[str, Any], capacity: int, wait: int, termination_wait: int) -> list[RolloutStep]:
    """The steps after provisioning: traffic turned on batch by batch, each batch baked."""
    kind = routing.get("Type", "ALL_AT_ONCE")
    if kind == "CANARY":
        canary = _batch(routing.get("CanarySize"), capacity, "CanarySize", (0, MAXIMUM_CANARY_PERCENT))
        batches = [min(canary, capacity), capacity]
    elif kind == "LINEAR":
        step = _batch(routing.get("LinearStepSize"), capacity, "LinearStepSize", LINEAR_STEP_PERCENT_RANGE)
        batches = [min(step * n, capacity) for n in range(1, math.ceil(capacity / step) + 1)]
    elif kind == "ALL_AT_ONCE":
        batches = [capacity]
    else:
        raise ValidationError(message=f"TrafficRoutingConfiguration Type {kind!r} is not valid.")
    steps: list[RolloutStep] = []
    for active in dict.fromkeys(batches):  # a canary as large as the fleet is one batch
        full = active >= capacity
        on = (
            f"full capacity of {capacity} instance(s)"
            if full
            else f"{'canary' if kind == 'CANARY' else 'linear step'} capacity of {active} instance(s)"
        )
        seconds, waited = (
            (termination_wait, "TerminationWaitInSeconds") if full else (wait, "WaitIntervalInSeconds")
        )
        steps.append(RolloutStep(ACTIVATING_TRAFFIC, active / capacity, 0, f"Activating traffic on {on}."))
        steps.append(
            RolloutStep(
                BAKING,
                active / capacity,
                seconds,
                f"Baking for {seconds} seconds ({waited}) with traffic enabled on {on}.",
            )
        )
    return steps


def plan_rollout(
    backend: SageMakerModelBackend,
    endpoint: FakeEndpoint,
    update: PendingUpdate,
    deployment_config: dict[str, Any] | None,
) -> Rollout:
    """The rollout of `update` on `endpoint`, checked as UpdateEndpoint checks its DeploymentConfig
    (ValidationError when SageMaker would refuse it)."""
    config = backend.endpoint_configs[update.endpoint_config_name]
    new_variants = [dict(variant) for variant in config.production_variants or []]
    policy = (deployment_config or {}).get("BlueGreenUpdatePolicy")
    alarms = [
        alarm["AlarmName"]
        for alarm in (deployment_config or {}).get("AutoRollbackConfiguration", {}).get("Alarms") or []
    ]
    if not policy and not alarms:
        return Rollout(update, ())
    # SageMaker Developer Guide, "Exclusions": a blue/green deployment's new endpoint configuration
    # must have the same variant names as the old one.
    old_names = sorted(variant["VariantName"] for variant in endpoint.production_variants)
    new_names = sorted(variant["VariantName"] for variant in new_variants)
    if old_names != new_names:
        raise ValidationError(
            message=f"The endpoint configuration {update.endpoint_config_name} must have the same variant "
            f"names as the endpoint's current configuration ({', '.join(old_names)}) for a blue/green "
            f"deployment; it has {', '.join(new_names)}."
        )
    policy = policy or {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE"}}
    routing = policy.get("TrafficRoutingConfiguration") or {}
    wait = int(routing.get("WaitIntervalInSeconds", 0))
    termination_wait = int(policy.get("TerminationWaitInSeconds", 0))
    timeout = int(policy.get("MaximumExecutionTimeoutInSeconds", DEFAULT_TIMEOUT_SECONDS))
    capacity = _capacity(new_variants)
    provisioning = RolloutStep(CREATING, 0.0, 0, f"Launching {capacity} instance(s).")
    steps = (provisioning, *_plan(routing, capacity, wait, termination_wait))
    return Rollout(
        update,
        steps,
        routing=str(routing.get("Type", "ALL_AT_ONCE")),
        alarms=tuple(alarms),
        timeout_seconds=timeout,
        old_variants=[dict(variant) for variant in endpoint.production_variants],
        new_variants=new_variants,
    )


# ---------------------------------------------------------------------------------------- transitions


def begin_update(endpoint: FakeEndpoint, rollout: Rollout) -> None:
    """UpdateEndpoint accepted: the endpoint is Updating; a rollout's new fleet is being provisioned."""
    _rollouts[endpoint] = rollout
    _show(endpoint, rollout)
    set_status(endpoint, "Updating")
    if rollout.shifts_traffic:
        _emit_deployment_state_change(endpoint)


def serving_config_name(endpoint: FakeEndpoint, draw: Callable[[], float]) -> str:
    """The endpoint config that answers one request: the new one for the new fleet's share of the
    requests while a rollout shifts traffic (`draw()`: a number in [0, 1)), else the current one."""
    rollout = _rollouts.get(endpoint)
    share = rollout.new_fleet_share if rollout is not None else 0.0
    if rollout is None or share <= 0 or (share < 1 and draw() >= share):
        return str(endpoint.endpoint_config_name)
    return rollout.update.endpoint_config_name


def _show(endpoint: FakeEndpoint, rollout: Rollout) -> None:
    """What DescribeEndpoint shows of the rollout: PendingDeploymentSummary and the old fleet's size."""
    step = rollout.step
    if step is None:
        endpoint.pending_deployment_summary = None  # type: ignore[attr-defined]
        return
    rolling_back = rollout.rollback_reason is not None
    variants = []
    for variant in rollout.new_variants:
        desired = int(variant.get("InitialInstanceCount") or 1)
        active = 0 if rolling_back else round(step.share * desired)
        status = (
            {
                "Status": DELETING,
                "StatusMessage": f"Terminating {desired} instance(s) "
                f"(rolling back: {rollout.rollback_reason}).",
                "StartTime": rollout.step_started,
            }
            if rolling_back
            else {"Status": step.status, "StatusMessage": step.message, "StartTime": rollout.step_started}
        )
        summary: dict[str, Any] = {
            "VariantName": variant["VariantName"],
            "CurrentInstanceCount": active,
            "DesiredInstanceCount": desired,
            "VariantStatus": [status],
        }
        if "InitialVariantWeight" in variant:
            summary["CurrentWeight"] = summary["DesiredWeight"] = variant["InitialVariantWeight"]
        variants.append(summary)
    endpoint.pending_deployment_summary = {  # type: ignore[attr-defined]
        "EndpointConfigName": rollout.update.endpoint_config_name,
        "StartTime": rollout.started,
        "ProductionVariants": variants,
    }
    old_variants = [dict(variant) for variant in rollout.old_variants]
    if rollout.routing == "LINEAR" and not rolling_back:
        # Each linear step deactivates as much of the old fleet as it activates of the new one.
        for variant in old_variants:
            if "DesiredInstanceCount" in variant:
                size = int(variant["DesiredInstanceCount"])
                variant["CurrentInstanceCount"] = size - round(step.share * size)
    endpoint.production_variants = old_variants


def finish(endpoint: FakeEndpoint) -> None:
    """End a transition: apply the update, if any, and go InService (after a rollback: InService on
    the old config, the update's config never applied)."""
    rollout = _rollouts.pop(endpoint, None)
    endpoint.pending_deployment_summary = None  # type: ignore[attr-defined]
    if rollout is not None and rollout.rollback_reason is None:
        update = rollout.update
        config = _backend_of(endpoint).endpoint_configs[update.endpoint_config_name]
        endpoint.endpoint_config_name = update.endpoint_config_name
        if not update.retain_all_variant_properties:
            endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
    elif rollout is not None and rollout.old_variants:
        endpoint.production_variants = [dict(variant) for variant in rollout.old_variants]
    set_status(endpoint, "InService")


def fail(endpoint: FakeEndpoint, reason: str) -> None:
    """End the endpoint's transition as `Failed`; a pending update is dropped, as SageMaker drops it."""
    rollout = _rollouts.pop(endpoint, None)
    if rollout is not None and rollout.old_variants:
        endpoint.production_variants = [dict(variant) for variant in rollout.old_variants]
    endpoint.pending_deployment_summary = None  # type: ignore[attr-defined]
    set_status(endpoint, "Failed", failure_reason=reason)


def _firing_alarm(endpoint: FakeEndpoint, rollout: Rollout) -> str | None:
    """The first of the rollout's alarms that is in ALARM (an alarm that does not exist never fires)."""
    if not rollout.alarms:
        return None
    backend = _backend_of(endpoint)
    alarms = cloudwatch_backends[backend.account_id][backend.region_name].alarms
    for name in rollout.alarms:
        alarm = alarms.get(name)
        if alarm is not None and alarm.state_value == "ALARM":
            return name
    return None


def roll_back(endpoint: FakeEndpoint, rollout: Rollout, reason: str) -> None:
    """SageMaker's automatic rollback: all traffic back on the old fleet, the new one terminated."""
    rollout.rollback_reason = reason
    rollout.step_started = utcnow()
    _show(endpoint, rollout)
    set_status(endpoint, "RollingBack")
    _emit_deployment_state_change(endpoint)


def step(endpoint: FakeEndpoint, *, held_at: str | None = None) -> bool:
    """Take `endpoint`'s transition one step further; False if it stays where it is (held at the
    VariantStatus `held_at`). A rollout watches its alarms at every step, held or not."""
    rollout = _rollouts.get(endpoint)
    if rollout is None or not rollout.shifts_traffic or rollout.rollback_reason is not None:
        finish(endpoint)
        return True
    alarm = _firing_alarm(endpoint, rollout)
    if alarm is not None:
        roll_back(endpoint, rollout, f"alarm {alarm} is in ALARM")
        return True
    current = rollout.steps[rollout.position]
    if held_at is not None and current.status == held_at:
        return False
    rollout.elapsed_seconds += current.seconds
    if rollout.elapsed_seconds > rollout.timeout_seconds:
        roll_back(
            endpoint,
            rollout,
            f"the deployment ran past MaximumExecutionTimeoutInSeconds ({rollout.timeout_seconds} s)",
        )
        return True
    if rollout.position + 1 == len(rollout.steps):
        finish(endpoint)
        return True
    rollout.position += 1
    rollout.step_started = utcnow()
    _show(endpoint, rollout)
    endpoint.last_modified_time = rollout.step_started
    _emit_deployment_state_change(endpoint)
    return True


class EndpointLifecycle:
    """Moves the endpoints of one account and region along, except the ones a test holds."""

    def __init__(self, *, account: str, region: str) -> None:
        self._account = account
        self._region = region
        self._held: dict[str, str] = {}
        self._held_rollouts: dict[str, str] = {}

    @property
    def _endpoints(self) -> dict[str, FakeEndpoint]:
        return sagemaker_backends[self._account][self._region].endpoints

    def _endpoint(self, name: str) -> FakeEndpoint:
        try:
            return self._endpoints[name]
        except KeyError:
            raise KeyError(f"no endpoint named {name!r} in the embedded SageMaker") from None

    def hold(self, name: str, status: str = "Updating") -> None:
        """Keep endpoint `name` in `status` until released; an endpoint not created yet is held once it is.

        An endpoint that exists in another status moves to `status` now (with its event), so a test can
        make an InService endpoint look busy and watch what a deployment does then.
        """
        self._held[name] = status
        endpoint = self._endpoints.get(name)
        if endpoint is not None and endpoint.endpoint_status != status:
            set_status(endpoint, status)

    def hold_rollout(self, name: str, at: str = BAKING) -> None:
        """Stop endpoint `name`'s next (or current) rollout once it reaches the VariantStatus `at` (the
        first one: a canary's bake, say) until released or until that rollout ends (rolled back);
        time stands still there, but SageMaker still watches the rollout's alarms, so an alarm set
        meanwhile rolls it back at the next advance."""
        if at not in (CREATING, ACTIVATING_TRAFFIC, BAKING):
            raise ValueError(
                f"a rollout can be held at {CREATING}, {ACTIVATING_TRAFFIC} or {BAKING}, not {at!r}"
            )
        self._held_rollouts[name] = at

    def release(self, name: str) -> None:
        """Let endpoint `name` (and its rollout) move on at the next `advance()`."""
        self._held.pop(name, None)
        self._held_rollouts.pop(name, None)

    def fail(self, name: str, reason: str) -> None:
        self.release(name)
        fail(self._endpoint(name), reason)

    def advance(self) -> bool:
        """Take every transition that nobody holds one step further (a create, a default update and the
        end of a rollback in one step; a rollout step by step); True if any endpoint moved (and emitted
        an event)."""
        moved = False
        for name, endpoint in list(self._endpoints.items()):
            if endpoint.endpoint_status not in IN_PROGRESS or name in self._held:
                continue
            rollout = _rollouts.get(endpoint)
            moved = step(endpoint, held_at=self._held_rollouts.get(name)) or moved
            if rollout is not None and rollout.shifts_traffic and endpoint not in _rollouts:
                self._held_rollouts.pop(name, None)  # a rollout's hold ends with it
        return moved
