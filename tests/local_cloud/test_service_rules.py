"""The local cloud refuses what AWS refuses (mlops_local.service_rules), with AWS's error code.

Each test makes a request that moto 5.2.5 accepts and AWS refuses, and expects AWS's answer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError
from mlops_local import service_rules
from mlops_local.endpoints import EndpointLifecycle
from moto.cloudformation import parsing

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker"
SPEC = {
    "Containers": [{"Image": "img", "ModelDataUrl": "s3://bucket/model.tar.gz"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}
SERVERLESS = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
CAPTURE = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 10,
    "DestinationS3Uri": "s3://bucket/capture",
    "CaptureOptions": [{"CaptureMode": "Input"}],
}


@pytest.fixture
def sagemaker(aws: boto3.Session) -> Any:
    return aws.client("sagemaker")


def refused(call: Any, code: str = "ValidationException") -> str:
    """The message of the error AWS answers `call()` with."""
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response["Error"]
    return str(raised.value.response["Error"]["Message"])


def model(sagemaker: Any, name: str, **request: Any) -> str:
    sagemaker.create_model(
        ModelName=name, ExecutionRoleArn=ROLE, **(request or {"PrimaryContainer": SPEC["Containers"][0]})
    )
    return name


def instance_variant(model_name: str, name: str = "AllTraffic") -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": model_name,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }


def serverless_variant(model_name: str, **config: Any) -> dict[str, Any]:
    return {
        "VariantName": "AllTraffic",
        "ModelName": model_name,
        "ServerlessConfig": {**SERVERLESS, **config},
    }


def in_service(sagemaker: Any, name: str, config: str) -> None:
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    EndpointLifecycle(account=ACCOUNT, region=REGION).advance()
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"


# ---------------------------------------------------------------------------------- model versions


def test_a_model_version_uses_the_tags_of_its_group_and_cannot_be_given_its_own(sagemaker):
    sagemaker.create_model_package_group(
        ModelPackageGroupName="churn-prod", Tags=[{"Key": "mlops:managed-by", "Value": "mlops"}]
    )

    message = refused(
        lambda: sagemaker.create_model_package(
            ModelPackageGroupName="churn-prod",
            InferenceSpecification=SPEC,
            Tags=[{"Key": "mlops:managed-by", "Value": "mlops"}],
        )
    )

    assert "churn-prod" in message
    assert sagemaker.list_model_packages(ModelPackageGroupName="churn-prod")["ModelPackageSummaryList"] == []
    sagemaker.create_model_package(ModelPackageGroupName="churn-prod", InferenceSpecification=SPEC)


def test_only_versioned_model_packages_are_updated_and_hold_at_most_15_additional_specifications(sagemaker):
    unversioned = sagemaker.create_model_package(
        ModelPackageName="standalone",
        InferenceSpecification={
            **SPEC,
            "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"],
            "SupportedTransformInstanceTypes": ["ml.m5.large"],
        },
    )["ModelPackageArn"]
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-dev")
    extra = [{"Name": f"s{index}", "Containers": SPEC["Containers"]} for index in range(10)]
    version = sagemaker.create_model_package(
        ModelPackageGroupName="churn-dev",
        InferenceSpecification=SPEC,
        AdditionalInferenceSpecifications=extra,
    )["ModelPackageArn"]

    assert "versioned" in refused(
        lambda: sagemaker.update_model_package(ModelPackageArn=unversioned, ModelApprovalStatus="Approved")
    )
    more = [{"Name": f"t{index}", "Containers": SPEC["Containers"]} for index in range(6)]
    assert "15" in refused(
        lambda: sagemaker.update_model_package(
            ModelPackageArn=version, AdditionalInferenceSpecificationsToAdd=more
        )
    )
    sagemaker.update_model_package(ModelPackageArn=version, AdditionalInferenceSpecificationsToAdd=more[:5])


# ---------------------------------------------------------------------------------------- serverless


@pytest.mark.parametrize(
    ("config", "feature"),
    [
        ({"DataCaptureConfig": CAPTURE}, "data capture"),
        ({"KmsKeyId": "alias/endpoint"}, "KMS keys"),
        (
            {"VpcConfig": {"SecurityGroupIds": ["sg-12345678"], "Subnets": ["subnet-12345678"]}},
            "VPC configuration",
        ),
        ({"EnableNetworkIsolation": True}, "network isolation"),
        ({"ShadowProductionVariants": [instance_variant("m", "Shadow")]}, "shadow variants"),
        (
            {
                "CrossRegionTrafficConfig": {
                    "MaxInvocationsPerSecondPerInstance": 10,
                    "MaxCrossRegionPercentPerEndpoint": 50,
                }
            },
            "CrossRegionTrafficConfig",
        ),
    ],
)
def test_a_serverless_endpoint_config_refuses_what_serverless_inference_excludes(sagemaker, config, feature):
    model(sagemaker, "m")

    message = refused(
        lambda: sagemaker.create_endpoint_config(
            EndpointConfigName="c", ProductionVariants=[serverless_variant("m")], **config
        )
    )

    assert feature in message
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []


def test_a_serverless_variant_is_alone_serverless_only_and_provisions_at_most_its_maximum(sagemaker):
    model(sagemaker, "m")
    variants = [serverless_variant("m"), instance_variant("m", "Other")]

    assert "multiple production variants" in refused(
        lambda: sagemaker.create_endpoint_config(EndpointConfigName="c", ProductionVariants=variants)
    )
    both = {**serverless_variant("m"), "InstanceType": "ml.m5.large"}
    assert "instance settings" in refused(
        lambda: sagemaker.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[both])
    )
    over = serverless_variant("m", ProvisionedConcurrency=6)
    assert "ProvisionedConcurrency" in refused(
        lambda: sagemaker.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[over])
    )
    sagemaker.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[serverless_variant("m")])


@pytest.mark.parametrize(
    ("request_", "feature"),
    [
        (
            {
                "PrimaryContainer": SPEC["Containers"][0],
                "VpcConfig": {"SecurityGroupIds": ["sg-12345678"], "Subnets": ["subnet-12345678"]},
            },
            "VPC configuration",
        ),
        ({"PrimaryContainer": SPEC["Containers"][0], "EnableNetworkIsolation": True}, "network isolation"),
        ({"Containers": [SPEC["Containers"][0], {"Image": "post"}]}, "inference pipelines"),
        (
            {"PrimaryContainer": {"Image": "img", "Mode": "MultiModel", "ModelDataUrl": "s3://b/m/"}},
            "multi-model",
        ),
        (
            {
                "PrimaryContainer": {
                    "Image": "registry.example.com/img",
                    "ImageConfig": {"RepositoryAccessMode": "Vpc"},
                }
            },
            "private Docker registries",
        ),
        (
            {
                "PrimaryContainer": {
                    "Image": "img",
                    "ModelDataSource": {
                        "S3DataSource": {
                            "S3Uri": "s3://b/m/",
                            "S3DataType": "S3Prefix",
                            "CompressionType": "None",
                        }
                    },
                }
            },
            "ModelDataSource",
        ),
    ],
)
def test_a_serverless_variant_refuses_models_that_use_what_serverless_inference_excludes(
    sagemaker, request_, feature
):
    model(sagemaker, "m", **request_)

    message = refused(
        lambda: sagemaker.create_endpoint_config(
            EndpointConfigName="c", ProductionVariants=[serverless_variant("m")]
        )
    )

    assert feature in message
    sagemaker.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[instance_variant("m")])


def test_a_model_made_from_a_version_with_uncompressed_model_data_cannot_be_served_serverless(sagemaker):
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-dev")
    uncompressed = {
        "S3DataSource": {"S3Uri": "s3://b/m/", "S3DataType": "S3Prefix", "CompressionType": "None"}
    }
    arn = sagemaker.create_model_package(
        ModelPackageGroupName="churn-dev",
        InferenceSpecification={**SPEC, "Containers": [{"Image": "img", "ModelDataSource": uncompressed}]},
    )["ModelPackageArn"]
    model(sagemaker, "m", Containers=[{"ModelPackageName": arn}])

    assert "ModelDataSource" in refused(
        lambda: sagemaker.create_endpoint_config(
            EndpointConfigName="c", ProductionVariants=[serverless_variant("m")]
        )
    )


def test_describe_model_shows_network_isolation(sagemaker):
    model(sagemaker, "m", PrimaryContainer=SPEC["Containers"][0], EnableNetworkIsolation=True)

    assert sagemaker.describe_model(ModelName="m")["EnableNetworkIsolation"] is True


# ------------------------------------------------------------------------------- endpoints and configs


def test_a_shadow_variant_stands_beside_exactly_one_production_variant(sagemaker):
    model(sagemaker, "m")

    assert "exactly one" in refused(
        lambda: sagemaker.create_endpoint_config(
            EndpointConfigName="c",
            ProductionVariants=[instance_variant("m", "A"), instance_variant("m", "B")],
            ShadowProductionVariants=[instance_variant("m", "Shadow")],
        )
    )
    assert "exactly one" in refused(
        lambda: sagemaker.create_endpoint_config(
            EndpointConfigName="c",
            ProductionVariants=[instance_variant("m")],
            ShadowProductionVariants=[instance_variant("m", "S1"), instance_variant("m", "S2")],
        )
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[instance_variant("m")],
        ShadowProductionVariants=[instance_variant("m", "Shadow")],
    )


def test_an_async_endpoint_config_has_no_shadow_variant(sagemaker):
    model(sagemaker, "m")
    async_inference = {
        "OutputConfig": {"S3OutputPath": "s3://bucket/out/", "S3FailurePath": "s3://bucket/f/"}
    }

    assert "asynchronous inference" in refused(
        lambda: sagemaker.create_endpoint_config(
            EndpointConfigName="c",
            ProductionVariants=[instance_variant("m")],
            ShadowProductionVariants=[instance_variant("m", "Shadow")],
            AsyncInferenceConfig=async_inference,
        )
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[instance_variant("m")],
        AsyncInferenceConfig=async_inference,
    )


def test_endpoint_names_are_case_insensitive_in_create_endpoint(sagemaker):
    model(sagemaker, "m")
    sagemaker.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[instance_variant("m")])
    sagemaker.create_endpoint(EndpointName="churn-dev", EndpointConfigName="c")

    assert "already existing" in refused(
        lambda: sagemaker.create_endpoint(EndpointName="Churn-Dev", EndpointConfigName="c")
    )


def test_an_update_needs_a_new_config_and_never_turns_an_instance_endpoint_serverless(sagemaker):
    model(sagemaker, "m")
    sagemaker.create_endpoint_config(
        EndpointConfigName="instances", ProductionVariants=[instance_variant("m")]
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="serverless", ProductionVariants=[serverless_variant("m")]
    )
    sagemaker.create_endpoint_config(EndpointConfigName="more", ProductionVariants=[instance_variant("m")])
    in_service(sagemaker, "churn-dev", "instances")

    assert "create a new endpoint config" in refused(
        lambda: sagemaker.update_endpoint(EndpointName="churn-dev", EndpointConfigName="instances")
    )
    assert "instance-based" in refused(
        lambda: sagemaker.update_endpoint(EndpointName="churn-dev", EndpointConfigName="serverless")
    )
    assert "RetainAllVariantProperties" in refused(
        lambda: sagemaker.update_endpoint(
            EndpointName="churn-dev",
            EndpointConfigName="more",
            ExcludeRetainedVariantProperties=[{"VariantPropertyType": "DesiredInstanceCount"}],
        )
    )
    assert sagemaker.describe_endpoint(EndpointName="churn-dev")["EndpointStatus"] == "InService"
    sagemaker.update_endpoint(EndpointName="churn-dev", EndpointConfigName="more")


def test_a_serverless_endpoint_can_become_instance_based(sagemaker):
    model(sagemaker, "m")
    sagemaker.create_endpoint_config(
        EndpointConfigName="serverless", ProductionVariants=[serverless_variant("m")]
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="instances", ProductionVariants=[instance_variant("m")]
    )
    in_service(sagemaker, "churn-dev", "serverless")

    sagemaker.update_endpoint(EndpointName="churn-dev", EndpointConfigName="instances")


# -------------------------------------------------------------------------------------- list filters


def test_list_models_filters_by_name_and_time_sorts_newest_first_and_pages(sagemaker):
    for name in ("churn-dev-v1-aaaaaa", "fraud-dev-v1-bbbbbb", "churn-dev-v2-cccccc"):
        model(sagemaker, name)
    an_hour_ago, in_an_hour = datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1)

    listed = sagemaker.list_models(NameContains="churn-dev-v")["Models"]
    first = sagemaker.list_models(NameContains="dev", MaxResults=2)
    second = sagemaker.list_models(NameContains="dev", MaxResults=2, NextToken=first["NextToken"])

    assert [m["ModelName"] for m in listed] == ["churn-dev-v2-cccccc", "churn-dev-v1-aaaaaa"]
    assert [m["ModelName"] for m in first["Models"] + second["Models"]] == [
        "churn-dev-v2-cccccc",
        "fraud-dev-v1-bbbbbb",
        "churn-dev-v1-aaaaaa",
    ]
    assert "NextToken" not in second
    assert [
        m["ModelName"] for m in sagemaker.list_models(SortBy="Name", SortOrder="Ascending")["Models"]
    ] == [
        "churn-dev-v1-aaaaaa",
        "churn-dev-v2-cccccc",
        "fraud-dev-v1-bbbbbb",
    ]
    assert len(sagemaker.list_models(CreationTimeAfter=an_hour_ago)["Models"]) == 3
    assert sagemaker.list_models(CreationTimeAfter=in_an_hour)["Models"] == []
    assert sagemaker.list_models(CreationTimeBefore=an_hour_ago)["Models"] == []


def test_endpoints_and_configs_are_listed_newest_first_and_endpoints_ten_a_page(sagemaker):
    model(sagemaker, "m")
    names = [f"e{index:02d}" for index in range(12)]
    for name in names:
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[instance_variant("m")])
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)

    page = sagemaker.list_endpoints()
    configs = sagemaker.list_endpoint_configs()["EndpointConfigs"]

    assert [e["EndpointName"] for e in page["Endpoints"]] == names[::-1][:10]
    assert "NextToken" in page
    assert [c["EndpointConfigName"] for c in configs] == names[::-1]


def test_model_packages_are_listed_at_most_a_hundred_a_page_as_aws_does(sagemaker):
    """ListModelPackages, ``MaxResults``: 1-100 (service model), paged with ``NextToken``; the
    deployer's rollback relies on the pages (moto pages this call itself)."""
    sagemaker.create_model_package_group(ModelPackageGroupName="g")
    for _ in range(101):
        sagemaker.create_model_package(
            ModelPackageGroupName="g", ModelApprovalStatus="Approved", InferenceSpecification=SPEC
        )
    listing = {"ModelPackageGroupName": "g", "SortBy": "CreationTime", "SortOrder": "Descending"}

    first = sagemaker.list_model_packages(**listing, MaxResults=100)
    second = sagemaker.list_model_packages(**listing, MaxResults=100, NextToken=first["NextToken"])
    too_many = refused(lambda: sagemaker.list_model_packages(**listing, MaxResults=101))

    versions = [p["ModelPackageVersion"] for p in first["ModelPackageSummaryList"]]
    assert versions == list(range(101, 1, -1))
    assert [p["ModelPackageVersion"] for p in second["ModelPackageSummaryList"]] == [1]
    assert "NextToken" not in second
    assert "Member must have value less than or equal to 100" in too_many


# -------------------------------------------------------------------------------- input constraints


def test_the_constraints_botocore_leaves_to_aws_are_checked(sagemaker):
    tags = [{"Key": f"k{index}", "Value": "v"} for index in range(51)]

    too_many = refused(lambda: sagemaker.create_model_package_group(ModelPackageGroupName="g", Tags=tags))
    bad_name = refused(lambda: sagemaker.create_model_package_group(ModelPackageGroupName="churn_dev"))
    too_long = refused(lambda: sagemaker.create_model_package_group(ModelPackageGroupName="g" * 64))
    not_in_enum = refused(
        lambda: sagemaker.list_model_packages(ModelApprovalStatus="Approved", SortBy="Version")
    )

    assert too_many.startswith("1 validation error detected: ")
    assert (
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50" in too_many
    )
    assert (
        "at 'modelPackageGroupName' failed to satisfy constraint: Member must satisfy regular expression"
        in bad_name
    )
    assert "2 validation errors detected" in too_long  # too long, and so off the pattern
    assert "Member must satisfy enum value set: [Name, CreationTime]" in not_in_enum
    assert sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"] == []


def test_a_pattern_python_cannot_read_is_not_held_against_a_request(sagemaker):
    # EntityDescription's pattern uses Java's \p{L}: not checked, so Unicode text is accepted as by AWS.
    sagemaker.create_model_package_group(
        ModelPackageGroupName="g", ModelPackageGroupDescription="Modèle « churn »"
    )


# ------------------------------------------------------------------------------------------------ S3


def test_copy_object_copies_at_most_5_gb_and_bigger_objects_are_copied_in_parts(aws, monkeypatch):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="model.tar.gz", Body=b"x" * (9 * 1024**2))
    # A stand-in for 5 GB that fits in a test: the rule compares against this module constant.
    monkeypatch.setattr(service_rules, "COPY_OBJECT_MAX_BYTES", 8 * 1024**2)

    message = refused(
        lambda: s3.copy_object(
            Bucket="bucket", Key="copy", CopySource={"Bucket": "bucket", "Key": "model.tar.gz"}
        ),
        "InvalidRequest",
    )
    s3.copy(
        {"Bucket": "bucket", "Key": "model.tar.gz"},
        "bucket",
        "copy",
        Config=TransferConfig(multipart_threshold=8 * 1024**2, multipart_chunksize=5 * 1024**2),
    )

    assert "larger than the maximum allowable size for a copy source" in message
    assert s3.head_object(Bucket="bucket", Key="copy")["ContentLength"] == 9 * 1024**2


# --------------------------------------------------------------------------------------- EventBridge


def entry(detail: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {"Source": "mlops.test", "DetailType": "Test", "Detail": json.dumps(detail or {}), **fields}


def test_put_events_refuses_a_request_of_1_mb_or_more(aws):
    events = aws.client("events")
    half = {"padding": "x" * (512 * 1024)}

    message = refused(lambda: events.put_events(Entries=[entry(half), entry(half)]))
    accepted = events.put_events(Entries=[entry(half)])

    assert message == "Total size of the entries in the request is over the limit."
    assert accepted["FailedEntryCount"] == 0


def test_put_events_fails_the_request_when_no_entry_is_complete_and_only_the_entry_otherwise(aws):
    events = aws.client("events")
    incomplete = {"Source": "mlops.test", "DetailType": "Test"}

    refused(lambda: events.put_events(Entries=[incomplete, incomplete]))
    answered = events.put_events(Entries=[incomplete, entry()])

    assert answered["FailedEntryCount"] == 1
    assert answered["Entries"][0]["ErrorCode"] == "InvalidArgument"


def test_put_events_entry_size_counts_as_eventbridge_does():
    assert (
        service_rules.put_events_entry_size(
            {
                "Time": datetime.now(UTC),
                "Source": "é",
                "DetailType": "ab",
                "Detail": "{}",
                "Resources": ["arn"],
            }
        )
        == 14 + 2 + 2 + 2 + 3
    )


# ---------------------------------------------------------------------------- Application Auto Scaling


def test_a_scalable_target_is_registered_with_a_capacity_range(aws):
    scaling = aws.client("application-autoscaling")
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/churn-prod/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }

    assert "greater than maximum" in refused(
        lambda: scaling.register_scalable_target(**target, MinCapacity=3, MaxCapacity=2)
    )
    assert "required" in refused(lambda: scaling.register_scalable_target(**target, MinCapacity=1))
    scaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=2)
    scaling.register_scalable_target(**target, MaxCapacity=4)  # an update names what changes


def test_only_an_async_endpoints_variant_scales_to_zero(aws, sagemaker):
    scaling = aws.client("application-autoscaling")
    model(sagemaker, "m")
    queue = {"OutputConfig": {"S3OutputPath": "s3://bucket/out/"}}
    sagemaker.create_endpoint_config(EndpointConfigName="rt", ProductionVariants=[instance_variant("m")])
    sagemaker.create_endpoint_config(
        EndpointConfigName="queued", ProductionVariants=[instance_variant("m")], AsyncInferenceConfig=queue
    )
    sagemaker.create_endpoint(EndpointName="churn-prod", EndpointConfigName="rt")
    sagemaker.create_endpoint(EndpointName="churn-async", EndpointConfigName="queued")

    def target(endpoint: str) -> dict[str, Any]:
        return {
            "ServiceNamespace": "sagemaker",
            "ResourceId": f"endpoint/{endpoint}/variant/AllTraffic",
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        }

    assert "zero" in refused(
        lambda: scaling.register_scalable_target(**target("churn-prod"), MinCapacity=0, MaxCapacity=2)
    )
    scaling.register_scalable_target(**target("churn-async"), MinCapacity=0, MaxCapacity=2)


# ------------------------------------------------------------------------------- EventBridge Scheduler


def test_a_one_time_schedule_says_its_time_as_at_and_an_eventbridge_target_takes_json_from_no_aws_source(
    aws,
):
    scheduler = aws.client("scheduler")
    bus = f"arn:aws:events:{REGION}:123456789012:event-bus/mlops-events"

    def create(name: str, expression: str, source: str, text: str) -> Any:
        return scheduler.create_schedule(
            Name=name,
            ScheduleExpression=expression,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": bus,
                "RoleArn": "arn:aws:iam::123456789012:role/checks",
                "Input": text,
                "EventBridgeParameters": {"Source": source, "DetailType": "Endpoint In-Service Check"},
            },
        )

    assert "at(2026-12-06 09:00)" in refused(lambda: create("a", "at(2026-12-06 09:00)", "mlops.x", "{}"))
    assert "well-formed JSON" in refused(
        lambda: create("b", "at(2026-12-06T09:00:00)", "mlops.x", "not json")
    )
    assert "eventBridgeParameters.source" in refused(
        lambda: create("c", "at(2026-12-06T09:00:00)", "aws.sagemaker", "{}")
    )
    create("d", "at(2026-12-06T09:00:00)", "mlops.x", "{}")


# ------------------------------------------------------------------------------------------ CodeCommit


def test_a_repository_name_may_not_end_in_git(aws):
    codecommit = aws.client("codecommit")

    refused(
        lambda: codecommit.create_repository(repositoryName="churn.git"), "InvalidRepositoryNameException"
    )
    codecommit.create_repository(repositoryName="churn")


# ---------------------------------------------------------------------------------- CloudFormation


def test_a_generated_rule_name_fits_the_64_characters_eventbridge_takes(aws):
    name = parsing.generate_resource_name(
        "AWS::Events::Rule", "mlops", "EndpointTesterFunctionIntegrationTestsRequested"
    )

    assert len(name) <= 64
    assert name.startswith("mlops-EndpointTesterFunctionIntegrationTest")
    aws.client("events").put_rule(Name=name, EventPattern=json.dumps({"source": ["mlops.operator"]}))


# ------------------------------------------------------------------------------------------ CloudWatch

ALARM = {
    "AlarmName": "mlops-churn-dev-health-5xx-errors",
    "Namespace": "AWS/SageMaker",
    "MetricName": "Invocation5XXErrors",
    "Dimensions": [{"Name": "EndpointName", "Value": "churn-dev"}],
    "Period": 300,
    "EvaluationPeriods": 1,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanThreshold",
}


def test_a_metric_alarm_names_one_statistic_of_one_kind_and_a_valid_period(aws):
    cloudwatch = aws.client("cloudwatch")

    refused(lambda: cloudwatch.put_metric_alarm(**ALARM), "InvalidParameterCombination")
    refused(
        lambda: cloudwatch.put_metric_alarm(**ALARM, Statistic="Sum", ExtendedStatistic="p99"),
        "InvalidParameterCombination",
    )
    refused(
        lambda: cloudwatch.put_metric_alarm(**{**ALARM, "Period": 90}, Statistic="Sum"),
        "InvalidParameterValue",
    )
    math = [{"Id": "e", "Expression": "1", "ReturnData": True}]
    refused(lambda: cloudwatch.put_metric_alarm(**ALARM, Metrics=math), "InvalidParameterCombination")
    cloudwatch.put_metric_alarm(**ALARM, ExtendedStatistic="p99")
    cloudwatch.put_metric_alarm(**{**ALARM, "Period": 60}, Statistic="Sum")


def test_at_most_100_alarms_are_deleted_at_once(aws):
    cloudwatch = aws.client("cloudwatch")

    refused(
        lambda: cloudwatch.delete_alarms(AlarmNames=[f"a{i}" for i in range(101)]), "InvalidParameterValue"
    )
    cloudwatch.delete_alarms(AlarmNames=[f"a{i}" for i in range(100)])


def test_a_new_alarm_has_insufficient_data_and_an_update_keeps_its_state_and_its_tags(aws):
    cloudwatch = aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(**ALARM, Statistic="Sum", Tags=[{"Key": "team", "Value": "a"}])
    assert cloudwatch.describe_alarms()["MetricAlarms"][0]["StateValue"] == "INSUFFICIENT_DATA"
    cloudwatch.set_alarm_state(AlarmName=ALARM["AlarmName"], StateValue="ALARM", StateReason="test")

    cloudwatch.put_metric_alarm(
        **{**ALARM, "Threshold": 9.0}, Statistic="Sum", Tags=[{"Key": "team", "Value": "b"}]
    )

    (alarm,) = cloudwatch.describe_alarms()["MetricAlarms"]
    assert (alarm["StateValue"], alarm["Threshold"]) == ("ALARM", 9.0)
    assert cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == [
        {"Key": "team", "Value": "a"}
    ]


def test_deregistering_a_scalable_target_deletes_its_policies(aws):
    scaling = aws.client("application-autoscaling")
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/churn-prod/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    scaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=2)
    scaling.put_scaling_policy(
        **target,
        PolicyName="invocations",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 100.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
        },
    )

    scaling.deregister_scalable_target(**target)

    assert scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"] == []


# ---------------------------------------------------------------------------------- Model Monitor

MONITOR_IMAGE = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"


def data_quality_definition(sagemaker: Any, name: str, endpoint: str) -> Any:
    return sagemaker.create_data_quality_job_definition(
        JobDefinitionName=name,
        DataQualityAppSpecification={"ImageUri": MONITOR_IMAGE},
        DataQualityJobInput={"EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/input"}},
        DataQualityJobOutputConfig={
            "MonitoringOutputs": [{"S3Output": {"S3Uri": "s3://bucket/out", "LocalPath": "/opt/ml/out"}}]
        },
        JobResources={
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
        },
        RoleArn=ROLE,
    )


def test_a_data_quality_job_definition_monitors_an_endpoint_that_captures_its_data(sagemaker):
    model(sagemaker, "m")
    sagemaker.create_endpoint_config(EndpointConfigName="plain", ProductionVariants=[instance_variant("m")])
    sagemaker.create_endpoint_config(
        EndpointConfigName="captured", ProductionVariants=[instance_variant("m")], DataCaptureConfig=CAPTURE
    )
    in_service(sagemaker, "plain-endpoint", "plain")
    in_service(sagemaker, "captured-endpoint", "captured")

    assert "no data capture" in refused(lambda: data_quality_definition(sagemaker, "dq-1", "plain-endpoint"))
    assert "does not exist" in refused(lambda: data_quality_definition(sagemaker, "dq-1", "no-endpoint"))
    data_quality_definition(sagemaker, "dq-1", "captured-endpoint")
    assert "already exists" in refused(
        lambda: data_quality_definition(sagemaker, "dq-1", "captured-endpoint"), "ResourceInUse"
    )


def test_a_monitoring_schedule_runs_exactly_one_job_definition_that_exists(sagemaker):
    schedule = {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
        "MonitoringType": "DataQuality",
    }
    create = sagemaker.create_monitoring_schedule

    refused(lambda: create(MonitoringScheduleName="s", MonitoringScheduleConfig=schedule))
    refused(
        lambda: create(
            MonitoringScheduleName="s",
            MonitoringScheduleConfig={**schedule, "MonitoringJobDefinitionName": "missing"},
        ),
        "ResourceNotFound",
    )
    assert sagemaker.list_monitoring_schedules()["MonitoringScheduleSummaries"] == []


# ---------------------------------------------------------------------------------- transform jobs


def transform_job(sagemaker: Any, name: str, model_name: str) -> None:
    sagemaker.create_transform_job(
        TransformJobName=name,
        ModelName=model_name,
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://in/x"}}},
        TransformOutput={"S3OutputPath": "s3://out/x"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )


def test_a_transform_job_needs_an_existing_model_and_a_name_not_in_use_and_starts_in_progress(sagemaker):
    assert "Could not find model" in refused(lambda: transform_job(sagemaker, "job", "no-such-model"))
    transform_job(sagemaker, "job", model(sagemaker, "m"))
    assert sagemaker.describe_transform_job(TransformJobName="job")["TransformJobStatus"] == "InProgress"

    assert "must be unique" in refused(lambda: transform_job(sagemaker, "job", "m"), "ResourceInUse")


@pytest.mark.parametrize(
    "transformer",
    [
        {"InputPathsMap": {"commit": "$.detail['commitId']"}, "InputTemplate": '{"v": "<commit>"}'},
        {"InputPathsMap": {"commit": "$.detail.commitId"}, "InputTemplate": '{<commit>: "v"}'},
        {"InputPathsMap": {"commit": "$.detail.commitId"}, "InputTemplate": '{"a": 1, <commit> : 2}'},
    ],
)
def test_put_targets_refuses_a_bracket_path_and_a_placeholder_as_an_object_key(aws, transformer):
    events = aws.client("events")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.codecommit"]}))
    target = {"Id": "t", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}

    refused(lambda: events.put_targets(Rule="r", Targets=[{**target, "InputTransformer": transformer}]))
    accepted = {
        "InputPathsMap": {"commit": "$.detail.commitId"},
        "InputTemplate": '{"v": "<commit>", "w": <commit>}',
    }
    assert (
        events.put_targets(Rule="r", Targets=[{**target, "InputTransformer": accepted}])["FailedEntryCount"]
        == 0
    )
