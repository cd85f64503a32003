"""The local SageMaker runtime: InvokeEndpoint through boto3 answers with the deployed model's predictions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from mlops_local.demo_model import BROKEN_MODEL, GOOD_MODEL, register_demo_version
from mlops_local.endpoints import EndpointLifecycle
from mlops_local.inference import InferenceServer

ACCOUNT, REGION = "123456789012", "us-east-1"
CHURNER = json.dumps({"instances": [[2, 95.0, 4]]})


@pytest.fixture
def runtime(aws: boto3.Session) -> Iterator[tuple[Any, InferenceServer]]:
    with InferenceServer(account=ACCOUNT, region=REGION) as server:
        yield aws.client("sagemaker-runtime", endpoint_url=server.url), server


def endpoint(aws: boto3.Session, name: str, variants: dict[str, tuple[dict, float]], **config: Any) -> None:
    """An InService endpoint with one production variant per entry: name -> (demo model, weight)."""
    sagemaker = aws.client("sagemaker")
    production = []
    for variant, (model, weight) in variants.items():
        arn = register_demo_version(aws, f"{name}-{variant}", model)
        sagemaker.create_model(
            ModelName=f"{name}-{variant}",
            ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
            Containers=[{"ModelPackageName": arn}],
        )
        production.append(
            {
                "VariantName": variant,
                "ModelName": f"{name}-{variant}",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
                "InitialVariantWeight": weight,
            }
        )
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=production, **config)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    EndpointLifecycle(account=ACCOUNT, region=REGION).advance()


def test_invoke_endpoint_predicts_with_the_deployed_artifact_in_json_and_csv(aws, runtime):
    client, _ = runtime
    endpoint(aws, "churn-dev", {"AllTraffic": (GOOD_MODEL, 1.0)})

    as_json = client.invoke_endpoint(EndpointName="churn-dev", Body=CHURNER, ContentType="application/json")
    as_csv = client.invoke_endpoint(
        EndpointName="churn-dev", Body="60,20,0\n2,95,4\n", ContentType="text/csv", CustomAttributes="trace=1"
    )

    [prediction] = json.loads(as_json["Body"].read())["predictions"]
    assert prediction["label"] == 1 and prediction["score"] > 0.5
    assert as_json["InvokedProductionVariant"] == "AllTraffic"
    rows = [line.split(",") for line in as_csv["Body"].read().decode().splitlines()]
    assert [label for _, label in rows] == ["0", "1"]
    assert as_csv["ContentType"] == "text/csv" and as_csv["CustomAttributes"] == "trace=1"


def test_a_request_the_model_refuses_is_a_model_error_and_an_unknown_endpoint_a_validation_error(
    aws, runtime
):
    client, _ = runtime
    endpoint(aws, "churn-dev", {"AllTraffic": (GOOD_MODEL, 1.0)})

    with pytest.raises(ClientError) as refused:
        client.invoke_endpoint(EndpointName="churn-dev", Body="1,2\n", ContentType="text/csv")
    with pytest.raises(ClientError) as unknown:
        client.invoke_endpoint(EndpointName="nope", Body=CHURNER, ContentType="application/json")

    assert refused.value.response["Error"]["Code"] == "ModelError"
    assert refused.value.response["OriginalStatusCode"] == 400
    assert "the model takes 3" in refused.value.response["OriginalMessage"]
    assert unknown.value.response["Error"]["Code"] == "ValidationError"


def test_traffic_is_split_by_variant_weight_unless_a_target_variant_is_named(aws, runtime):
    client, _ = runtime
    endpoint(aws, "churn-prod", {"Good": (GOOD_MODEL, 3.0), "Broken": (BROKEN_MODEL, 1.0)})

    invoked = [
        client.invoke_endpoint(EndpointName="churn-prod", Body=CHURNER, ContentType="application/json")[
            "InvokedProductionVariant"
        ]
        for _ in range(80)
    ]
    targeted = client.invoke_endpoint(
        EndpointName="churn-prod", Body=CHURNER, ContentType="application/json", TargetVariant="Broken"
    )

    assert set(invoked) == {"Good", "Broken"} and invoked.count("Good") > invoked.count("Broken")
    assert targeted["InvokedProductionVariant"] == "Broken"
    assert json.loads(targeted["Body"].read())["predictions"][0]["label"] == 0  # the broken model answered


def test_a_shadow_variant_gets_a_copy_of_each_request_and_its_answer_is_never_returned(aws, runtime):
    client, server = runtime
    register = aws.client("sagemaker")
    arn = register_demo_version(aws, "churn-challenger", BROKEN_MODEL)
    register.create_model(
        ModelName="challenger",
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
        Containers=[{"ModelPackageName": arn}],
    )
    shadow = {
        "VariantName": "Shadow",
        "ModelName": "challenger",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    endpoint(aws, "churn-champion", {"AllTraffic": (GOOD_MODEL, 1.0)}, ShadowProductionVariants=[shadow])

    answer = client.invoke_endpoint(
        EndpointName="churn-champion", Body=CHURNER, ContentType="application/json"
    )

    assert (
        json.loads(answer["Body"].read())["predictions"][0]["label"] == 1
    )  # the production variant's answer
    [copy] = server.shadow_invocations
    assert copy["variant"] == "Shadow" and json.loads(copy["body"])["predictions"][0]["label"] == 0


# ------------------------------------------------------------------------------- InvokeEndpointAsync

ASYNC_CONFIG = {"OutputConfig": {"S3OutputPath": "s3://queue/out/", "S3FailurePath": "s3://queue/failed"}}


def read(aws: boto3.Session, location: str) -> tuple[bytes, str]:
    bucket, _, key = location.removeprefix("s3://").partition("/")
    found = aws.client("s3").get_object(Bucket=bucket, Key=key)
    return found["Body"].read(), found["ContentType"]


def test_invoke_endpoint_async_reads_its_input_from_s3_and_writes_the_answer_or_the_failure(aws, runtime):
    client, _ = runtime
    endpoint(aws, "churn-async", {"AllTraffic": (GOOD_MODEL, 1.0)}, AsyncInferenceConfig=ASYNC_CONFIG)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="queue")
    s3.put_object(Bucket="queue", Key="in/churner.json", Body=CHURNER)
    s3.put_object(Bucket="queue", Key="in/malformed.csv", Body="1,2\n")

    accepted = client.invoke_endpoint_async(
        EndpointName="churn-async",
        InputLocation="s3://queue/in/churner.json",
        ContentType="application/json",
        InferenceId="churner-1",
    )
    refused = client.invoke_endpoint_async(
        EndpointName="churn-async", InputLocation="s3://queue/in/malformed.csv", ContentType="text/csv"
    )

    assert accepted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert accepted["InferenceId"] == "churner-1"
    assert accepted["OutputLocation"] == "s3://queue/out/churner-1.out"
    assert accepted["FailureLocation"] == "s3://queue/failed/churner-1-error.out"
    body, content_type = read(aws, accepted["OutputLocation"])
    assert json.loads(body)["predictions"][0]["label"] == 1 and content_type == "application/json"
    failure, _ = read(aws, refused["FailureLocation"])
    assert b"ModelError" in failure or b"client error" in failure
    with pytest.raises(ClientError):
        read(aws, refused["OutputLocation"])


def test_invoke_endpoint_async_refuses_a_real_time_endpoint_and_a_body_beside_an_input_location(aws, runtime):
    client, _ = runtime
    endpoint(aws, "churn-dev", {"AllTraffic": (GOOD_MODEL, 1.0)})
    endpoint(aws, "churn-async", {"AllTraffic": (GOOD_MODEL, 1.0)}, AsyncInferenceConfig=ASYNC_CONFIG)

    with pytest.raises(ClientError, match="not an asynchronous inference endpoint") as not_async:
        client.invoke_endpoint_async(EndpointName="churn-dev", InputLocation="s3://queue/in/x")
    with pytest.raises(ClientError, match="mutually exclusive") as both:
        client.invoke_endpoint_async(
            EndpointName="churn-async", InputLocation="s3://queue/in/x", Body=CHURNER
        )

    assert not_async.value.response["Error"]["Code"] == "ValidationError"
    assert both.value.response["Error"]["Code"] == "ValidationError"
