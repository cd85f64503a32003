"""Bad input for async stages (docs/architecture.md, "What every handler guarantees"): a project record
whose async settings AWS would refuse halfway through a deployment is refused before any change, with a
reason that names the field, once (the deployer's invocation succeeds: nothing is retried)."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from mlops_local import LocalCloud

from tests.reliability.conftest import mutating, register, set_status

pytestmark = pytest.mark.e2e

ASYNC = {"kind": "async", "instance_type": "ml.m5.large", "instance_count": 1}
SAGEMAKER_CHANGES = {"CreateModel", "CreateEndpointConfig", "CreateEndpoint", "UpdateEndpoint"}


def put_raw_record(cloud: LocalCloud, project: str, deployment: dict[str, Any]) -> None:
    """The record as it is stored (a hand edit, an older writer): not validated on the way in."""
    serializer = TypeSerializer()
    item = {"pk": f"PROJECT#{project}", "sk": "META", "project": project, "deployment_defaults": deployment}
    cloud.session.client("dynamodb").put_item(
        TableName=cloud.outputs["ConfigTableName"], Item={k: serializer.serialize(v) for k, v in item.items()}
    )


@pytest.mark.parametrize(
    ("stage", "settings", "named"),
    [
        ("dev", {"compute": {**ASYNC, "instance_count": 0}}, "instance_count"),
        ("dev", {"compute": {**ASYNC, "memory_size_mb": 2048}}, "memory_size_mb"),
        ("dev", {"compute": {**ASYNC, "error_topic_arn": "errors"}}, "error_topic_arn"),
        ("dev", {"compute": {**ASYNC, "instance_type": "m5.large"}}, "instance_type"),
        ("challenger", {"compute": ASYNC, "strategy": "shadow"}, "async endpoints have no shadow variant"),
    ],
    ids=["no-instances", "serverless-field", "bad-topic", "bad-instance-type", "async-shadow"],
)
def test_bad_async_settings_fail_the_deployment_once_and_change_nothing(
    cloud: LocalCloud, new_project, stage: str, settings: dict[str, Any], named: str
):
    project = new_project("ab")
    put_raw_record(cloud, project, {stage: settings})
    arn = register(cloud, f"{project}-{stage}")
    cloud.settle()

    with cloud.recording_aws_requests() as requests:
        set_status(cloud, arn, "Approved")
        trace = cloud.settle()

    [failed] = [event["detail"] for event in trace.events(detail_type="Deployment Failed")]
    assert named in failed["reason"]
    assert all(invocation.succeeded for invocation in trace.invocations())
    assert (
        not {operation for service, operation in mutating(requests) if service == "sagemaker"}
        & SAGEMAKER_CHANGES
    )
    endpoints = cloud.session.client("sagemaker").list_endpoints(NameContains=project)["Endpoints"]
    assert endpoints == []
