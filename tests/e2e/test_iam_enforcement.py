"""The local cloud refuses what the functions' IAM policies do not allow, as AWS refuses it.

Each denial test calls AWS as a deployed function does (`cloud.session_as`: its execution role's
credentials) and checks AWS's error: its code and a message naming the principal, the action and the
resource. The operator (`cloud.session`) is not evaluated.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from mlops_local import LocalCloud

pytestmark = pytest.mark.e2e

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-local-sagemaker-execution"
ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})
MANAGED = [{"Key": "mlops:managed-by", "Value": "mlops"}]


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local_cloud:
        yield local_cloud


def as_function(cloud: LocalCloud, function: str, service: str) -> Any:
    return cloud.session_as(function).client(service, config=ONE_ATTEMPT)


def assert_denied(
    error: pytest.ExceptionInfo[ClientError], code: str, function: str, action: str, resource: str
):
    assert error.value.response["Error"]["Code"] == code
    message = error.value.response["Error"]["Message"]
    principal = rf"arn:aws:sts::{ACCOUNT}:assumed-role/mlops-{function}Role-\w+/mlops-{function}-\w+"
    assert re.fullmatch(
        rf"User: {principal} is not authorized to perform: {re.escape(action)} on resource: "
        rf"{re.escape(resource)} because no identity-based policy allows the {re.escape(action)} action",
        message,
    ), message


def name() -> str:
    return f"e{uuid.uuid4().hex[:8]}"


def operator_endpoint(cloud: LocalCloud, endpoint: str, tags: list[dict[str, str]]) -> None:
    """An endpoint the operator made (with these tags), with its model and config."""
    sagemaker = cloud.session.client("sagemaker")
    sagemaker.create_model(
        ModelName=f"{endpoint}-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/x:1"},
        Tags=tags,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{endpoint}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{endpoint}-model",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
        Tags=tags,
    )
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-config", Tags=tags)


def test_the_deployer_cannot_create_an_endpoint_without_the_managed_by_request_tag(cloud: LocalCloud):
    endpoint = name()
    operator_endpoint(cloud, f"{endpoint}-src", MANAGED)
    sagemaker = as_function(cloud, "ModelDeployerFunction", "sagemaker")

    with pytest.raises(ClientError) as denied:
        sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-src-config")
    assert_denied(
        denied,
        "AccessDeniedException",
        "ModelDeployerFunction",
        "sagemaker:CreateEndpoint",
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{endpoint}",
    )
    # With the tag it may, and the tag is authorized as sagemaker:AddTags on create.
    sagemaker.create_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-src-config", Tags=MANAGED
    )
    assert (
        cloud.session.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointName"] == endpoint
    )


def test_the_deployer_cannot_tag_an_endpoint_it_does_not_manage(cloud: LocalCloud):
    endpoint = name()
    operator_endpoint(cloud, endpoint, [{"Key": "team", "Value": "other"}])
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{endpoint}"
    sagemaker = as_function(cloud, "ModelDeployerFunction", "sagemaker")

    with pytest.raises(ClientError) as denied:
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "mlops:commit-id", "Value": "c0ffee"}])
    assert_denied(denied, "AccessDeniedException", "ModelDeployerFunction", "sagemaker:AddTags", arn)
    tags = cloud.session.client("sagemaker").list_tags(ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "team", "Value": "other"}]  # nothing changed


def test_a_table_item_outside_the_granted_leading_keys_is_refused(cloud: LocalCloud):
    table = cloud.outputs["ConfigTableName"]
    dynamodb = as_function(cloud, "EndpointTesterFunction", "dynamodb")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "ENDPOINT#e1"}, "sk": {"S": "RUN#1"}})

    with pytest.raises(ClientError) as denied:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "PROJECT#churn"}, "sk": {"S": "META"}})
    assert_denied(
        denied,
        "AccessDeniedException",
        "EndpointTesterFunction",
        "dynamodb:PutItem",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}",
    )


def test_the_mlflow_watcher_queries_the_projects_index_and_cannot_scan_the_config_table(cloud: LocalCloud):
    table = cloud.outputs["ConfigTableName"]
    dynamodb = as_function(cloud, "MlflowAliasWatcherFunction", "dynamodb")
    dynamodb.query(
        TableName=table,
        IndexName="ProjectsByRegistry",
        KeyConditionExpression="registry_backend = :mlflow",
        ExpressionAttributeValues={":mlflow": {"S": "mlflow"}},
    )

    with pytest.raises(ClientError) as denied:
        dynamodb.scan(TableName=table)
    assert_denied(
        denied,
        "AccessDeniedException",
        "MlflowAliasWatcherFunction",
        "dynamodb:Scan",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}",
    )


def test_an_endpoint_the_stack_does_not_manage_cannot_be_invoked(cloud: LocalCloud):
    endpoint = name()
    operator_endpoint(cloud, endpoint, [{"Key": "mlops:managed-by", "Value": "another-stack"}])
    runtime = as_function(cloud, "EndpointTesterFunction", "sagemaker-runtime")

    with pytest.raises(ClientError) as denied:
        runtime.invoke_endpoint(EndpointName=endpoint, Body=b"1,2", ContentType="text/csv")
    assert_denied(
        denied,
        "AccessDeniedException",
        "EndpointTesterFunction",
        "sagemaker:InvokeEndpoint",
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{endpoint}",
    )


def test_a_slack_secret_of_another_stack_cannot_be_read(cloud: LocalCloud):
    secret = cloud.session.client("secretsmanager").create_secret(
        Name=f"slack/{name()}", SecretString="{}", Tags=[{"Key": "mlops:managed-by", "Value": "other"}]
    )["ARN"]
    secrets = as_function(cloud, "SlackNotifierFunction", "secretsmanager")

    with pytest.raises(ClientError) as denied:
        secrets.get_secret_value(SecretId=secret.rsplit(":", 1)[1].rsplit("-", 1)[0])  # by name
    assert_denied(
        denied, "AccessDeniedException", "SlackNotifierFunction", "secretsmanager:GetSecretValue", secret
    )


def test_s3_refuses_with_its_own_error_shape(cloud: LocalCloud):
    cloud.session.client("s3").create_bucket(Bucket="not-an-artifact-bucket")
    s3 = as_function(cloud, "ArtifactCopierFunction", "s3")

    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket="not-an-artifact-bucket", Key="model.tar.gz")
    assert_denied(
        denied,
        "AccessDenied",
        "ArtifactCopierFunction",
        "s3:GetObject",
        "arn:aws:s3:::not-an-artifact-bucket/model.tar.gz",
    )


def test_a_missing_object_is_404_only_with_list_bucket_on_its_bucket(cloud: LocalCloud):
    # S3 answers a read of a missing object with 404 only to a caller that may s3:ListBucket the bucket
    # (403 otherwise: tests/unit/test_iam_requests.py): the tester may (TellMissingAsyncInferenceAnswers),
    # so an answer not written yet is "not yet", not a refusal.
    bucket = cloud.outputs["AsyncInferenceBucketName"]
    tester = as_function(cloud, "EndpointTesterFunction", "s3")
    with pytest.raises(ClientError) as not_yet:
        tester.get_object(Bucket=bucket, Key="x-dev/outputs/not-yet.out")
    assert not_yet.value.response["Error"]["Code"] == "NoSuchKey"


def test_a_role_without_the_cloudwatch_permissions_cannot_deregister_a_scalable_target(cloud: LocalCloud):
    """Application Auto Scaling's user guide: deregistering a SageMaker target needs CloudWatch's
    DescribeAlarms and DeleteAlarms besides DeregisterScalableTarget."""
    endpoint = name()
    resource_id = f"endpoint/{endpoint}/variant/AllTraffic"
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": resource_id,
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    cloud.session.client("application-autoscaling").register_scalable_target(
        **target, MinCapacity=1, MaxCapacity=2
    )
    iam = cloud.session.client("iam")
    role = iam.create_role(
        RoleName=f"deregister-only-{endpoint}",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            }
        ),
    )["Role"]
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="deregister",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "application-autoscaling:DeregisterScalableTarget",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    credentials = cloud.iam.credentials_for(role["Arn"], "reaper")
    autoscaling = cloud.session.client(
        "application-autoscaling",
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
        config=ONE_ATTEMPT,
    )

    with pytest.raises(ClientError) as denied:
        autoscaling.deregister_scalable_target(**target)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    alarms = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:TargetTracking-{resource_id}-*"
    assert denied.value.response["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/reaper is not authorized to perform: "
        f"cloudwatch:DescribeAlarms on resource: {alarms} because no identity-based policy allows the "
        "cloudwatch:DescribeAlarms action"
    )
    registered = cloud.session.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[resource_id]
    )["ScalableTargets"]
    assert len(registered) == 1  # still registered


def test_the_reaper_deletes_autoscaled_feature_endpoints_under_enforcement(cloud: LocalCloud):
    endpoint = f"{name()}-feature"
    tags = [*MANAGED, {"Key": "mlops:stage", "Value": "feature"}, {"Key": "mlops:project", "Value": "p"}]
    operator_endpoint(cloud, endpoint, tags)
    cloud.settle()
    autoscaling = cloud.session.client("application-autoscaling")
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": f"endpoint/{endpoint}/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    autoscaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=2)
    denials_before = len(cloud.iam.denials)

    invocation = cloud.invoke("EndpointReaperFunction", scheduled())

    assert invocation.succeeded, invocation.response
    assert invocation.result["status"] == "reaped", invocation.result
    assert cloud.iam.denials[denials_before:] == []
    remaining = autoscaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[target["ResourceId"]]
    )
    assert remaining["ScalableTargets"] == []
    endpoints = cloud.session.client("sagemaker").list_endpoints(NameContains=endpoint)["Endpoints"]
    assert endpoints == [] or endpoints[0]["EndpointStatus"] == "Deleting"


def scheduled() -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-25T02:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/mlops-EndpointReaperFunctionNightly"],
        "detail": {},
    }


def test_the_operator_is_not_evaluated(cloud: LocalCloud):
    evaluated = cloud.iam.evaluated_calls
    cloud.session.client("sagemaker").create_model_package_group(ModelPackageGroupName=name())  # untagged
    assert cloud.iam.evaluated_calls == evaluated


TRUST_LAMBDA = json.dumps(
    {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
    }
)


def test_a_session_the_copier_assumes_is_evaluated_as_the_assumed_role(cloud: LocalCloud):
    iam = cloud.session.client("iam")
    role = iam.create_role(RoleName=f"mlops-promotion-{name()}", AssumeRolePolicyDocument=TRUST_LAMBDA)[
        "Role"
    ]
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="list",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sagemaker:ListModelPackages", "Resource": "*"}],
            }
        ),
    )
    sts = as_function(cloud, "ArtifactCopierFunction", "sts")
    credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="promotion")["Credentials"]
    sagemaker = cloud.session.client(
        "sagemaker",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=ONE_ATTEMPT,
    )

    sagemaker.list_model_packages()  # the assumed role's policy allows it
    group = name()
    with pytest.raises(ClientError) as denied:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    assert denied.value.response["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/promotion is not authorized to perform: "
        f"sagemaker:CreateModelPackageGroup on resource: arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
        f"model-package-group/{group} because no identity-based policy allows the "
        "sagemaker:CreateModelPackageGroup action"
    )


def test_the_copier_cannot_assume_a_role_outside_its_promotion_role_pattern(cloud: LocalCloud):
    role = cloud.session.client("iam").create_role(
        RoleName=f"admin-{name()}", AssumeRolePolicyDocument=TRUST_LAMBDA
    )
    sts = as_function(cloud, "ArtifactCopierFunction", "sts")

    with pytest.raises(ClientError) as denied:
        sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="promotion")
    assert_denied(denied, "AccessDenied", "ArtifactCopierFunction", "sts:AssumeRole", role["Role"]["Arn"])


def test_a_statement_in_a_shared_managed_policy_is_what_allows_the_call(cloud: LocalCloud):
    """PublishDomainEvents is in a managed policy that only the functions which publish attach: with the
    policy as deployed the reaper may publish; with a default version that lacks the statement it may
    not; the Slack notifier, which does not attach the policy, never may."""
    bus_arn = cloud.outputs["EventBusArn"]
    entry = {"EventBusName": bus_arn, "Source": "iam-test", "DetailType": "Nothing", "Detail": "{}"}
    reaper = as_function(cloud, "EndpointReaperFunction", "events")
    assert reaper.put_events(Entries=[entry])["FailedEntryCount"] == 0

    with pytest.raises(ClientError) as denied:
        as_function(cloud, "SlackNotifierFunction", "events").put_events(Entries=[entry])
    assert_denied(denied, "AccessDeniedException", "SlackNotifierFunction", "events:PutEvents", bus_arn)

    iam = cloud.session.client("iam")
    policy_arn = cloud.deployment.resources["PublishDomainEventsPolicy"].physical_id
    deployed_version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    another_bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    without_the_statement = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": another_bus}],
    }
    changed = iam.create_policy_version(
        PolicyArn=policy_arn, PolicyDocument=json.dumps(without_the_statement), SetAsDefault=True
    )["PolicyVersion"]["VersionId"]
    cloud.iam.forget_role_policies()
    try:
        with pytest.raises(ClientError) as denied:
            reaper.put_events(Entries=[entry])
        assert_denied(denied, "AccessDeniedException", "EndpointReaperFunction", "events:PutEvents", bus_arn)
    finally:
        iam.set_default_policy_version(PolicyArn=policy_arn, VersionId=deployed_version)
        iam.delete_policy_version(PolicyArn=policy_arn, VersionId=changed)
        cloud.iam.forget_role_policies()
    assert reaper.put_events(Entries=[entry])["FailedEntryCount"] == 0


def test_the_batch_schedules_role_starts_only_tagged_transform_jobs(cloud: LocalCloud):
    job = name()
    sagemaker = cloud.session.client("sagemaker")
    sagemaker.create_model(
        ModelName=f"{job}-model",
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sagemaker",
        PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/x:1"},
    )
    role = cloud.deployment.resources["BatchSchedulerRole"].physical_id
    role_arn = cloud.session.client("iam").get_role(RoleName=role)["Role"]["Arn"]
    as_scheduler = cloud.session_as_role(role_arn).client("sagemaker", config=ONE_ATTEMPT)
    request = {
        "TransformJobName": job,
        "ModelName": f"{job}-model",
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://in/x"}}},
        "TransformOutput": {"S3OutputPath": "s3://out/x"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }

    with pytest.raises(ClientError) as denied:
        as_scheduler.create_transform_job(**request)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "sagemaker:CreateTransformJob" in denied.value.response["Error"]["Message"]
    # Tagged as the stack's, it may (AddTags authorized only as part of the create).
    as_scheduler.create_transform_job(**request, Tags=MANAGED)
    with pytest.raises(ClientError) as retag:
        as_scheduler.add_tags(
            ResourceArn=f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:transform-job/{job}", Tags=MANAGED
        )
    assert retag.value.response["Error"]["Code"] == "AccessDeniedException"


def test_the_deployer_changes_schedules_in_the_batch_group_only(cloud: LocalCloud):
    scheduler = as_function(cloud, "ModelDeployerFunction", "scheduler")
    cloud.session.client("scheduler").create_schedule_group(Name="other")

    with pytest.raises(ClientError) as denied:
        scheduler.get_schedule(GroupName="other", Name="x-dev")
    assert_denied(
        denied,
        "AccessDeniedException",
        "ModelDeployerFunction",
        "scheduler:GetSchedule",
        f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/other/x-dev",
    )
