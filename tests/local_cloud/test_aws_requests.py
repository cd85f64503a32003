"""The embedded AWS names every request it receives, and fails chosen ones the way AWS does."""

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from mlops_local import LocalCloud
from mlops_local.aws_requests import AwsRequest, is_mutating

ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})


def client(cloud: LocalCloud, service: str, config: Config | None = None) -> Any:
    return cloud.session.client(service, config=config)


def test_requests_are_named_by_service_and_operation_and_judged_mutating_or_not(echo_cloud: LocalCloud):
    sagemaker, s3 = client(echo_cloud, "sagemaker"), client(echo_cloud, "s3")
    s3.create_bucket(Bucket="bucket-b")
    with echo_cloud.recording_aws_requests() as requests:
        sagemaker.create_model_package_group(ModelPackageGroupName="g")
        sagemaker.list_model_package_groups()
        s3.put_object(Bucket="bucket-b", Key="k", Body=b"x")
        s3.get_object(Bucket="bucket-b", Key="k")
        client(echo_cloud, "sts").get_caller_identity()
    sagemaker.list_model_package_groups()  # after the block: not recorded

    assert requests == [
        AwsRequest("sagemaker", "CreateModelPackageGroup", mutating=True),
        AwsRequest("sagemaker", "ListModelPackageGroups", mutating=False),
        AwsRequest("s3", "PUT /bucket-b/k", mutating=True),
        AwsRequest("s3", "GET /bucket-b/k", mutating=False),
        AwsRequest("sts", "GetCallerIdentity", mutating=False),
    ]


@pytest.mark.parametrize(
    ("operation", "mutating"),
    [
        ("PutEvents", True),
        ("UpdateItem", True),
        ("BatchWriteItem", True),
        ("Query", False),
        ("BatchGetItem", False),
        ("Search", False),
        ("DELETE /b/k", True),
        ("HEAD /b/k", False),
    ],
)
def test_what_counts_as_mutating(operation: str, mutating: bool):
    assert is_mutating(operation) is mutating


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("sagemaker", lambda c: c.list_endpoints(), "ThrottlingException"),
        ("dynamodb", lambda c: c.list_tables(), "ThrottlingException"),
        ("s3", lambda c: c.list_buckets(), "SlowDown"),
    ],
)
def test_a_throttled_request_fails_with_the_services_own_error(echo_cloud: LocalCloud, service, call, code):
    one_attempt = client(echo_cloud, service, ONE_ATTEMPT)
    with (
        echo_cloud.failing_aws_requests(rate=1.0, services={service}, kinds=["throttling"]) as faults,
        pytest.raises(ClientError) as raised,
    ):
        call(one_attempt)
    assert raised.value.response["Error"]["Code"] == code
    assert [fault.code for _request, fault in faults.injected] == [code]
    call(one_attempt)  # the block is over: no more faults


def test_retries_ride_out_faults_without_waiting(echo_cloud: LocalCloud):
    sagemaker = client(echo_cloud, "sagemaker", Config(retries={"mode": "adaptive", "max_attempts": 10}))
    with echo_cloud.failing_aws_requests(rate=0.5, seed=3) as faults:
        for index in range(20):
            sagemaker.create_model_package_group(ModelPackageGroupName=f"g{index}")
    assert len(faults.injected) >= 5
    groups = sagemaker.list_model_package_groups(MaxResults=100)["ModelPackageGroupSummaryList"]
    assert len(groups) == 20


def test_a_fault_after_success_loses_only_the_answer(echo_cloud: LocalCloud):
    one_attempt = client(echo_cloud, "sagemaker", ONE_ATTEMPT)
    with (
        echo_cloud.failing_aws_requests(rate=1.0, kinds=["internal-error-after-success"]),
        pytest.raises(ClientError) as raised,
    ):
        one_attempt.create_model_package_group(ModelPackageGroupName="made-anyway")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert one_attempt.describe_model_package_group(ModelPackageGroupName="made-anyway")


def test_faults_touch_only_the_services_named(echo_cloud: LocalCloud):
    with echo_cloud.failing_aws_requests(rate=1.0, services={"sagemaker"}) as faults:
        client(echo_cloud, "sqs", ONE_ATTEMPT).list_queues()
        client(echo_cloud, "s3", ONE_ATTEMPT).list_buckets()
    assert faults.injected == []
