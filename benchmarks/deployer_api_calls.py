"""AWS API calls and handler time of ModelDeployerFunction per event, against the local cloud.

Run with `.venv/bin/python benchmarks/deployer_api_calls.py` (about 10 s). A prod-account
stack is deployed into the local cloud and taken through the deployer's paths: a first approval
(create), a newer one (update), a canary update, an approval while the endpoint is busy (deferred),
the IN_SERVICE event that applies it, the IN_SERVICE event that does the housekeeping, and a rejection of the
live version (roll back). For each delivery to the deployer it prints the calls the handler made,
split into the operation's own ("domain": SageMaker, CloudWatch, the config table) and the
delivery guarantees' ("framework": the idempotency record, PutEvents, and the endpoint change's
in-service check, a Scheduler CreateSchedule, there because SageMaker's events are best effort:
docs/deployer.md), and the handler's own time (Lambda's duration
in the local runtime, against moto: it measures our code and the request round trips, not AWS).

Target: at most 6 domain calls for a plain create or update.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from mlops_local import LocalCloud

TARGET_DOMAIN_CALLS = 6
DEPLOYER = "ModelDeployerFunction"
# The delivery guarantees' calls: the EventFunction's own (the Powertools idempotency record, publishing
# domain events) and the in-service check each endpoint change schedules
# (mlops_core.deployment.in_service_checks). Every call on the idempotency table (":idempotency") too.
FRAMEWORK_OPERATIONS = {"PutEvents", "CreateSchedule"}


def _is_framework(call: str) -> bool:
    return call in FRAMEWORK_OPERATIONS or call.endswith(":idempotency")


@dataclass
class Measured:
    label: str
    status: str
    domain: list[str] = field(default_factory=list)
    framework: list[str] = field(default_factory=list)
    duration_ms: float = 0.0


class CallRecorder:
    """Counts botocore API calls, attributing each to the invocation running at the time."""

    def __init__(self, idempotency_table: str) -> None:
        self._idempotency_table = idempotency_table
        self.current: list[str] | None = None

    @contextmanager
    def installed(self) -> Iterator[None]:
        original = BaseClient._make_api_call
        recorder = self

        def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            if recorder.current is not None:
                table = params.get("TableName")
                recorder.current.append(
                    f"{operation}:idempotency" if table == recorder._idempotency_table else operation
                )
            return original(client, operation, params)

        BaseClient._make_api_call = counted  # type: ignore[method-assign]
        try:
            yield
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]


def measure(
    cloud: LocalCloud,
    recorder: CallRecorder,
    label: str,
    act: Callable[[], Any],
    function_id: str = DEPLOYER,
) -> list[Measured]:
    """Run `act` (which ends with a settle) and measure every invocation of `function_id` it caused."""
    results: list[Measured] = []
    invoke = cloud._invoke

    def measured_invoke(function: Any, event: Any, attempt: int) -> Any:
        if function.logical_id != function_id:
            return invoke(function, event, attempt)
        recorder.current = []
        try:
            invocation = invoke(function, event, attempt)
        finally:
            calls, recorder.current = recorder.current, None
        status = (invocation.result or {}).get("status", "error")
        detail_type = event.get("detail-type", "?") if isinstance(event, dict) else "?"
        results.append(
            Measured(
                label=f"{label}: {detail_type}",
                status=status,
                domain=[c for c in calls if not _is_framework(c)],
                framework=[c for c in calls if _is_framework(c)],
                duration_ms=invocation.duration_ms,
            )
        )
        return invocation

    cloud._invoke = measured_invoke  # type: ignore[method-assign]
    try:
        act()
    finally:
        del cloud._invoke
    return results


def run() -> list[Measured]:
    with LocalCloud(parameters={"DeployedStages": "prod,champion,challenger"}) as cloud:
        sagemaker = cloud.session.client("sagemaker")
        dynamodb = cloud.session.client("dynamodb")
        idempotency_table = cloud.functions[DEPLOYER].environment["IDEMPOTENCY_TABLE_NAME"]
        recorder = CallRecorder(idempotency_table)
        sagemaker.create_model_package_group(ModelPackageGroupName="bench-prod")
        cloud.settle()

        def release() -> str:
            arn: str = sagemaker.create_model_package(
                ModelPackageGroupName="bench-prod",
                ModelApprovalStatus="Approved",
                InferenceSpecification={
                    "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
                MetadataProperties={"CommitId": "c0ffee"},
                CustomerMetadataProperties={"mlops:dataset": "s3://data/bench"},
                ModelMetrics={
                    "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m"}}
                },
            )["ModelPackageArn"]
            return arn

        def canary_settings() -> None:
            dynamodb.put_item(
                TableName=cloud.outputs["ConfigTableName"],
                Item={
                    "pk": {"S": "PROJECT#bench"},
                    "sk": {"S": "META"},
                    "deployment_defaults": {
                        "M": {
                            "prod": {
                                "M": {
                                    "strategy": {"S": "canary"},
                                    "compute": {
                                        "M": {
                                            "kind": {"S": "instances"},
                                            "instance_type": {"S": "ml.m5.large"},
                                            "instance_count": {"N": "2"},
                                        }
                                    },
                                }
                            }
                        }
                    },
                },
            )

        results: list[Measured] = []
        with recorder.installed():
            results += measure(cloud, recorder, "create", lambda: (release(), cloud.settle()))
            results += measure(cloud, recorder, "update", lambda: (release(), cloud.settle()))
            canary_settings()
            results += measure(cloud, recorder, "canary", lambda: (release(), cloud.settle()))
            cloud.hold_endpoint("bench-prod", "Updating")
            results += measure(cloud, recorder, "busy", lambda: (release(), cloud.settle()))
            cloud.release_endpoint("bench-prod")
            results += measure(cloud, recorder, "released", cloud.settle)
            live = sagemaker.describe_endpoint(EndpointName="bench-prod")["EndpointArn"]
            tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=live)["Tags"]}
            rejected = tags["mlops:model-package-arn"]
            results += measure(
                cloud,
                recorder,
                "reject live",
                lambda: (
                    sagemaker.update_model_package(ModelPackageArn=rejected, ModelApprovalStatus="Rejected"),
                    cloud.settle(),
                ),
            )
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    results = run()
    print(f"{'event':<58} {'status':<12} {'domain':>6} {'frame':>5} {'ms':>7}  domain calls")
    for result in results:
        calls = ", ".join(f"{op}x{n}" if n > 1 else op for op, n in Counter(result.domain).items())
        print(
            f"{result.label:<58} {result.status:<12} {len(result.domain):>6} {len(result.framework):>5} "
            f"{result.duration_ms:>7.1f}  {calls}"
        )
    plain = [r for r in results if r.label.split(":")[0] in {"create", "update"} and r.status == "started"]
    worst = max(len(r.domain) for r in plain)
    verdict = "OK" if worst <= TARGET_DOMAIN_CALLS else "OVER TARGET"
    print(f"\nplain create/update: at most {worst} domain calls (target {TARGET_DOMAIN_CALLS}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
