"""SageMaker as the control plane sees it: the events AWS emits, endpoint lifecycles, and moto's gaps."""

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError
from mlops_local import LocalCloud

INFERENCE_SPECIFICATION = {
    "Containers": [
        {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1", "ModelDataUrl": "s3://b/m.tar.gz"}
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def sagemaker(echo_cloud: LocalCloud) -> Any:
    return echo_cloud.session.client("sagemaker")


def register_version(sagemaker: Any, group: str, status: str = "PendingManualApproval") -> str:
    if group not in [
        g["ModelPackageGroupName"]
        for g in sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
    ]:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    return str(
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            InferenceSpecification=INFERENCE_SPECIFICATION,
            ModelApprovalStatus=status,
            MetadataProperties={"CommitId": "5a2a5b1"},
            CustomerMetadataProperties={"mlops:commit-id": "5a2a5b1"},
            ModelMetrics={
                "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/e.json"}}
            },
        )["ModelPackageArn"]
    )


def create_endpoint_config(sagemaker: Any, config: str, instances: int = 1) -> None:
    model = f"{config}-model"
    sagemaker.create_model(
        ModelName=model,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": "s3://b/m.tar.gz"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": instances,
                "InstanceType": "ml.m5.large",
            }
        ],
    )


def create_endpoint(sagemaker: Any, name: str) -> None:
    """Endpoint `name` on a new `config-1`, tagged with its stage."""
    create_endpoint_config(sagemaker, "config-1")
    sagemaker.create_endpoint(
        EndpointName=name, EndpointConfigName="config-1", Tags=[{"Key": "mlops:stage", "Value": "dev"}]
    )


def status_of(sagemaker: Any, endpoint: str) -> str:
    return str(sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"])


def endpoint_statuses(events: list[dict[str, Any]]) -> list[str]:
    return [
        event["detail"]["EndpointStatus"]
        for event in events
        if event["detail-type"] == "SageMaker Endpoint State Change"
    ]


# ------------------------------------------------------------------------------------------- model packages


def test_approving_a_version_emits_the_model_package_event_in_aws_shape(
    echo_cloud: LocalCloud, sagemaker: Any
) -> None:
    arn = register_version(sagemaker, "demo-dev")
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    [registered, approved] = echo_cloud.settle().events(detail_type="SageMaker Model Package State Change")

    assert registered["detail"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert approved["source"] == "aws.sagemaker"
    assert approved["resources"] == [arn]
    assert approved["account"] == "123456789012"
    assert approved["region"] == "us-east-1"
    assert ISO_TIME.match(approved["time"])
    detail = approved["detail"]
    assert {
        key: detail[key]
        for key in ("ModelPackageGroupName", "ModelPackageVersion", "ModelPackageArn", "ModelPackageName")
    } == {
        "ModelPackageGroupName": "demo-dev",
        "ModelPackageVersion": 1,
        "ModelPackageArn": arn,
        "ModelPackageName": "demo-dev",
    }
    assert detail["ModelApprovalStatus"] == "Approved"
    assert detail["ModelPackageStatus"] == "Completed"
    assert detail["InferenceSpecification"] == INFERENCE_SPECIFICATION
    assert detail["MetadataProperties"] == {"CommitId": "5a2a5b1"}
    assert detail["CustomerMetadataProperties"] == {"mlops:commit-id": "5a2a5b1"}
    assert detail["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == "s3://b/e.json"
    assert ISO_TIME.match(detail["CreationTime"])
    assert ISO_TIME.match(detail["LastModifiedTime"])


def test_an_update_that_keeps_the_approval_emits_nothing_and_keeps_the_other_fields(
    echo_cloud: LocalCloud, sagemaker: Any
) -> None:
    arn = register_version(sagemaker, "demo-dev", status="Approved")
    echo_cloud.settle()
    sagemaker.update_model_package(ModelPackageArn=arn, ApprovalDescription="looked fine")
    assert echo_cloud.settle().events() == []
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["CustomerMetadataProperties"] == {"mlops:commit-id": "5a2a5b1"}
    assert package["ApprovalDescription"] == "looked fine"


def test_model_packages_and_groups_take_tags_and_a_key_is_replaced(sagemaker: Any) -> None:
    arn = register_version(sagemaker, "demo-dev")
    group_arn = sagemaker.describe_model_package_group(ModelPackageGroupName="demo-dev")[
        "ModelPackageGroupArn"
    ]
    for resource in (arn, group_arn):
        sagemaker.add_tags(ResourceArn=resource, Tags=[{"Key": "mlops:stage", "Value": "dev"}])
        sagemaker.add_tags(ResourceArn=resource, Tags=[{"Key": "mlops:stage", "Value": "prod"}])
        assert sagemaker.list_tags(ResourceArn=resource)["Tags"] == [{"Key": "mlops:stage", "Value": "prod"}]
        sagemaker.delete_tags(ResourceArn=resource, TagKeys=["mlops:stage"])
        assert sagemaker.list_tags(ResourceArn=resource)["Tags"] == []


def test_deleting_versions_and_groups(sagemaker: Any) -> None:
    first = register_version(sagemaker, "demo-dev")
    second = register_version(sagemaker, "demo-dev")
    sagemaker.delete_model_package(ModelPackageName=second)
    third = register_version(sagemaker, "demo-dev")
    assert third.endswith("/3")  # a version number is never given twice

    with pytest.raises(ClientError, match="ConflictException"):
        sagemaker.delete_model_package_group(ModelPackageGroupName="demo-dev")
    for arn in (first, third):
        sagemaker.delete_model_package(ModelPackageName=arn)
    sagemaker.delete_model_package_group(ModelPackageGroupName="demo-dev")
    assert sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    with pytest.raises(ClientError, match="not found"):
        sagemaker.describe_model_package(ModelPackageName=first)


def test_a_model_can_be_created_from_a_model_package(sagemaker: Any) -> None:
    arn = register_version(sagemaker, "demo-dev", status="Approved")
    sagemaker.create_model(
        ModelName="demo-dev-v1",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
        Containers=[{"ModelPackageName": arn}],
    )
    assert sagemaker.describe_model(ModelName="demo-dev-v1")["Containers"] == [{"ModelPackageName": arn}]
    with pytest.raises(ClientError, match="Cannot create already existing model"):
        sagemaker.create_model(
            ModelName="demo-dev-v1",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
            Containers=[{"ModelPackageName": arn}],
        )


# ------------------------------------------------------------------------------------------------ endpoints


def test_an_endpoint_is_creating_until_the_cloud_settles(echo_cloud: LocalCloud, sagemaker: Any) -> None:
    create_endpoint(sagemaker, "demo-dev")
    assert status_of(sagemaker, "demo-dev") == "Creating"
    events = echo_cloud.settle().events(detail_type="SageMaker Endpoint State Change")
    assert endpoint_statuses(events) == ["CREATING", "IN_SERVICE"]
    assert status_of(sagemaker, "demo-dev") == "InService"

    in_service = events[-1]
    assert in_service["source"] == "aws.sagemaker"
    assert re.match(r"^\d{13}$", in_service["time"])  # epoch milliseconds, as a string
    detail = in_service["detail"]
    assert detail["Tags"] == {"mlops:stage": "dev"}
    assert detail["EndpointConfigName"] == "config-1"
    assert detail["EndpointArn"] == in_service["resources"][0]
    assert isinstance(detail["CreationTime"], int)
    assert detail["LastModifiedTime"] >= detail["CreationTime"]
    assert detail["ProductionVariants"][0]["VariantName"] == "AllTraffic"
    with pytest.raises(ClientError, match="Cannot create already existing endpoint"):
        sagemaker.create_endpoint(EndpointName="demo-dev", EndpointConfigName="config-1")


def test_update_endpoint_applies_the_new_config_when_in_service(
    echo_cloud: LocalCloud, sagemaker: Any
) -> None:
    create_endpoint(sagemaker, "demo-dev")
    echo_cloud.settle()
    create_endpoint_config(sagemaker, "config-2", instances=2)
    deployment_config = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
        }
    }
    sagemaker.update_endpoint(
        EndpointName="demo-dev", EndpointConfigName="config-2", DeploymentConfig=deployment_config
    )
    endpoint = sagemaker.describe_endpoint(EndpointName="demo-dev")
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == ("Updating", "config-1")
    assert endpoint["LastDeploymentConfig"] == deployment_config

    trace = echo_cloud.settle()
    assert endpoint_statuses(trace.events()) == ["UPDATING", "IN_SERVICE"]
    endpoint = sagemaker.describe_endpoint(EndpointName="demo-dev")
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == ("InService", "config-2")
    assert endpoint["ProductionVariants"][0]["DesiredInstanceCount"] == 2


def test_update_endpoint_can_retain_the_variant_properties(echo_cloud: LocalCloud, sagemaker: Any) -> None:
    create_endpoint(sagemaker, "demo-dev")
    echo_cloud.settle()
    create_endpoint_config(sagemaker, "config-2", instances=2)
    sagemaker.update_endpoint(
        EndpointName="demo-dev", EndpointConfigName="config-2", RetainAllVariantProperties=True
    )
    echo_cloud.settle()
    endpoint = sagemaker.describe_endpoint(EndpointName="demo-dev")
    assert endpoint["EndpointConfigName"] == "config-2"
    assert endpoint["ProductionVariants"][0]["DesiredInstanceCount"] == 1


def test_a_held_endpoint_stays_updating_and_cannot_be_updated(echo_cloud: LocalCloud, sagemaker: Any) -> None:
    create_endpoint(sagemaker, "demo-dev")
    echo_cloud.settle()
    echo_cloud.hold_endpoint("demo-dev")
    assert endpoint_statuses(echo_cloud.settle().events()) == ["UPDATING"]
    assert status_of(sagemaker, "demo-dev") == "Updating"

    create_endpoint_config(sagemaker, "config-2", instances=2)
    with pytest.raises(ClientError, match="Cannot update in-progress endpoint") as raised:
        sagemaker.update_endpoint(EndpointName="demo-dev", EndpointConfigName="config-2")
    assert raised.value.response["Error"]["Code"] == "ValidationException"

    echo_cloud.release_endpoint("demo-dev")
    assert endpoint_statuses(echo_cloud.settle().events()) == ["IN_SERVICE"]
    assert status_of(sagemaker, "demo-dev") == "InService"


def test_a_hold_placed_before_creation_keeps_the_endpoint_creating(
    echo_cloud: LocalCloud, sagemaker: Any
) -> None:
    echo_cloud.hold_endpoint("demo-dev", status="Creating")
    create_endpoint(sagemaker, "demo-dev")
    echo_cloud.settle()
    assert status_of(sagemaker, "demo-dev") == "Creating"


def test_a_failed_endpoint_reports_why_and_cannot_be_updated(echo_cloud: LocalCloud, sagemaker: Any) -> None:
    create_endpoint(sagemaker, "demo-dev")
    echo_cloud.hold_endpoint("demo-dev", status="Creating")
    echo_cloud.fail_endpoint("demo-dev", "CannotStartContainerError")
    trace = echo_cloud.settle()
    assert endpoint_statuses(trace.events()) == ["CREATING", "FAILED"]
    assert trace.events()[-1]["detail"]["FailureReason"] == "CannotStartContainerError"
    assert (
        sagemaker.describe_endpoint(EndpointName="demo-dev")["FailureReason"] == "CannotStartContainerError"
    )

    # As in AWS, a Failed endpoint cannot be updated: it is deleted and created again.
    with pytest.raises(ClientError, match="in status Failed") as raised:
        sagemaker.update_endpoint(EndpointName="demo-dev", EndpointConfigName="config-1")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert status_of(sagemaker, "demo-dev") == "Failed"
    assert endpoint_statuses(echo_cloud.settle().events()) == []


def test_deleting_an_endpoint_passes_through_deleting(echo_cloud: LocalCloud, sagemaker: Any) -> None:
    create_endpoint(sagemaker, "demo-dev")
    echo_cloud.settle()
    sagemaker.delete_endpoint(EndpointName="demo-dev")
    assert endpoint_statuses(echo_cloud.settle().events()) == ["DELETING"]
    assert sagemaker.list_endpoints()["Endpoints"] == []
