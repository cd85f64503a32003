"""The endpoint reaper against a fleet of endpoints in the local cloud: AWS calls and time.

Run with `.venv/bin/python benchmarks/reaper.py` (or `make bench`, all benchmarks). It opens a
`LocalCloud` (the real template), builds a fleet of managed projects with feature, dev, prod,
champion and challenger endpoints (some dev endpoints autoscaled, some tagged mlops:keep-until)
plus unmanaged endpoints (5%), then invokes EndpointReaperFunction once, counting every AWS call it
makes by operation. Targets: finding the candidates (Search, DescribeScalableTargets) takes at most
1 call per 50 endpoints; and every call but the deletions themselves (deregistering autoscaling and
its alarms, deleting the endpoint, its config and models, and reading that config) at most 1.2 per
endpoint of the account. `--before` runs the same fleet with the reaper describing the config of
every endpoint that stays, as it did before it narrowed those reads to the configs that could hold a
model of a deleted endpoint (the runner measures both, side by side). Exit status 1 if missed.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.client import BaseClient
from mlops_core.reaper import endpoint_reaper
from mlops_local import LocalCloud
from mlops_local.endpoints import EndpointLifecycle
from mlops_local.testing import make_endpoint

FINDING_OPERATIONS = {"Search", "DescribeScalableTargets"}
ENDPOINTS_PER_FINDING_CALL = 50
# The deletions themselves: what deleting an endpoint, its config and models costs, whatever the fleet.
DELETION_OPERATIONS = {
    "application-autoscaling:DeregisterScalableTarget",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DeleteAlarms",
    "sagemaker:DeleteEndpoint",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:DeleteModel",
}
MAX_OTHER_CALLS_PER_ENDPOINT = 1.2
STAGES = ("feature", "dev", "prod", "champion", "challenger")


def build_fleet(cloud: LocalCloud, size: int) -> dict[str, int]:
    """`size` endpoints: 95% in managed projects (one per stage), 5% unmanaged."""
    keep_until = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    unmanaged = size // 20
    projects = (size - unmanaged) // len(STAGES)
    counts: collections.Counter[str] = collections.Counter()
    names = [(f"p{i}", stage) for i in range(projects) for stage in STAGES]
    names += [(f"u{i}", "dev") for i in range(size - len(names))]
    for index, (project, stage) in enumerate(names):
        name = f"{project}-{stage}"
        tags = {"mlops:project": project, "mlops:stage": stage}
        if not project.startswith("u"):
            tags["mlops:managed-by"] = cloud.stack_name
        if stage == "dev" and index % 10 == 1:
            tags["mlops:keep-until"] = keep_until
        autoscaled = stage == "dev" and index % 15 == 6
        make_endpoint(
            cloud.session,
            name,
            tags=tags,
            model=f"{name}-v1-aaaaaa",
            config=f"{name}-v1-bbbbbb",
            autoscaled=autoscaled,
            max_capacity=2,
        )
        counts["autoscaled"] += autoscaled
        counts["managed" if "mlops:managed-by" in tags else "unmanaged"] += 1
    counts["endpoints"] = len(names)
    # InService, as SageMaker has them minutes later (a Creating endpoint is kept: busy). The state
    # change events wait undelivered: the benchmark measures the reaper alone.
    EndpointLifecycle(account=cloud.account_id, region=cloud.region).advance()
    return dict(counts)


def scheduled_event(account: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"benchmark-{time.time_ns()}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }


@dataclass
class ReaperRun:
    """One reaper run on a fresh fleet: its AWS calls by `service:Operation`, and what it did."""

    fleet: dict[str, int]
    calls: dict[str, int]  # AWS calls (the control plane's bookkeeping excluded)
    bookkeeping: dict[str, int]  # its idempotency record and PutEvents (dynamodb:, events:)
    seconds: float
    status: str
    deleted: int
    kept: int
    failed: int
    event_kib: float

    @property
    def endpoints(self) -> int:
        return self.fleet["endpoints"]

    @property
    def finding(self) -> int:
        return sum(count for name, count in self.calls.items() if name.split(":")[1] in FINDING_OPERATIONS)

    @property
    def budget(self) -> int:
        return -(-self.endpoints // ENDPOINTS_PER_FINDING_CALL)

    @property
    def deletions(self) -> int:
        return sum(self.calls.values()) - self.finding

    @property
    def deletion_calls(self) -> int:
        """The deletions themselves, and one DescribeEndpointConfig per deleted config (its models)."""
        deleting = sum(count for name, count in self.calls.items() if name in DELETION_OPERATIONS)
        return deleting + min(self.deleted, self.calls.get("sagemaker:DescribeEndpointConfig", 0))

    @property
    def staying_configs_described(self) -> int:
        return max(self.calls.get("sagemaker:DescribeEndpointConfig", 0) - self.deleted, 0)

    @property
    def other_calls_per_endpoint(self) -> float:
        """Every call but the deletions, per endpoint of the account."""
        return (sum(self.calls.values()) - self.deletion_calls) / self.endpoints

    @property
    def met(self) -> bool:
        return (
            self.finding <= self.budget
            and self.other_calls_per_endpoint <= MAX_OTHER_CALLS_PER_ENDPOINT
            and self.failed == 0
        )


def measure(endpoints: int = 1000, *, before: bool = False) -> ReaperRun:
    """Build a fleet of `endpoints` in a fresh local cloud and count one reaper run's AWS calls;
    `before`: with every config of an endpoint that stays described (the reaper before the change)."""
    calls: collections.Counter[str] = collections.Counter()
    original = BaseClient._make_api_call

    def counting(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls[f"{client.meta.service_model.service_name}:{operation}"] += 1
        return original(client, operation, params)

    with LocalCloud() as cloud:
        fleet = build_fleet(cloud, endpoints)
        model_sources = endpoint_reaper._model_sources
        if before:  # no config is known to hold only its own endpoint's models: every one is described
            endpoint_reaper._model_sources = lambda endpoint, stack_name: None
        BaseClient._make_api_call = counting  # type: ignore[method-assign]
        try:
            started = time.perf_counter()
            invocation = cloud.invoke("EndpointReaperFunction", scheduled_event(cloud.account_id))
            elapsed = time.perf_counter() - started
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]
            endpoint_reaper._model_sources = model_sources
    if invocation.error:
        raise RuntimeError(f"the reaper failed: {invocation.error}")
    [reaped] = [e for e in invocation.emitted if e["detail-type"] == "Endpoints Reaped"]
    detail = reaped["detail"]
    bookkeeping = ("dynamodb:", "events:")
    return ReaperRun(
        fleet=fleet,
        calls={name: count for name, count in sorted(calls.items()) if not name.startswith(bookkeeping)},
        bookkeeping={name: count for name, count in sorted(calls.items()) if name.startswith(bookkeeping)},
        seconds=elapsed,
        status=invocation.result["status"],
        deleted=detail["deleted_count"],
        kept=detail["kept_count"],
        failed=detail["failed_count"],
        event_kib=len(json.dumps(detail)) / 1024,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=1000)
    parser.add_argument(
        "--before", action="store_true", help="describe every config of an endpoint that stays"
    )
    args = parser.parse_args()
    run = measure(args.endpoints, before=args.before)
    print(f"fleet: {run.fleet}")
    print(
        f"reaper: {run.seconds:.2f} s, status {run.status}; "
        f"Endpoints Reaped detail {run.event_kib:.0f} KiB (EventBridge's limit: 256 KiB)"
    )
    print(f"deleted {run.deleted}, kept {run.kept}, failed {run.failed}")
    for name, count in run.calls.items():
        print(f"  {name:55} {count:6}")
    print(f"  (control plane bookkeeping, not counted: {run.bookkeeping})")
    print(
        f"finding candidates: {run.finding} calls for {run.endpoints} endpoints "
        f"(target at most {run.budget}); deletions: {run.deletions} calls "
        f"({run.deletions / max(run.deleted, 1):.1f} per deleted endpoint)"
    )
    print(f"  {run.staying_configs_described} DescribeEndpointConfig of configs of endpoints that stay")
    print(
        f"every call but the deletions: {run.other_calls_per_endpoint:.2f} per endpoint "
        f"(target at most {MAX_OTHER_CALLS_PER_ENDPOINT})"
    )
    print("OK" if run.met else "TARGET MISSED")
    return 0 if run.met else 1


if __name__ == "__main__":
    sys.exit(main())
