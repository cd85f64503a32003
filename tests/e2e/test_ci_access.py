"""A GitHub project's CI access through the local cloud: creating the project makes its CI role (trust
limited to the repository's branches through GitHub's OIDC provider, permissions bounded by the stack's
CI policy) and sets the repository's Actions variables through GitHub's REST API (a loopback fake);
deleting the project removes both and keeps the code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from mlops_local import LocalCloud

from tests.e2e.conftest import expected_ci_variables
from tests.unit.test_git_providers import TOKEN, FakeGitHub, FakeGitHubServer

pytestmark = pytest.mark.e2e

FUNCTION = "ProjectLifecycleFunction"
ISSUER = "token.actions.githubusercontent.com"


@pytest.fixture(scope="module")
def github() -> Iterator[tuple[FakeGitHub, str]]:
    with FakeGitHubServer(FakeGitHub()) as server:
        yield server.fake, server.base_url


@pytest.fixture(scope="module")
def cloud(github: tuple[FakeGitHub, str]) -> Iterator[LocalCloud]:
    parameters = {
        "GitHubOrganization": "acme",
        "GitHubTokenSecretName": "github/token",
        "GitHubApiUrl": github[1],
    }
    with LocalCloud(parameters=parameters) as local_cloud:
        local_cloud.session.client("secretsmanager").create_secret(
            Name="github/token", SecretString=json.dumps({"token": TOKEN})
        )
        yield local_cloud


def project(name: str, **properties: Any) -> dict[str, Any]:
    return {
        "SageMakerProjectName": name,
        "SageMakerProjectId": f"p-{name}0001",
        "GitProvider": "github",
        **properties,
    }


def test_a_github_project_gets_its_ci_role_and_variables_and_deleting_it_removes_them(
    cloud: LocalCloud, github: tuple[FakeGitHub, str]
) -> None:
    fake, _ = github
    environment = cloud.functions[FUNCTION].environment
    policy_arn = environment["CI_ROLE_POLICY_ARN"]
    iam = cloud.session.client("iam")
    (provider,) = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert provider["Arn"].endswith(f":oidc-provider/{ISSUER}")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])["ClientIDList"] == [
        "sts.amazonaws.com"
    ]

    created = cloud.request_custom_resource(FUNCTION, "Create", project("churn"))

    assert created.status == "SUCCESS", created.reason
    role = iam.get_role(RoleName="mlops-ci-churn")["Role"]
    assert created.data["CiRoleArn"] == role["Arn"]
    assert role["Path"] == f"/mlops-ci/{cloud.stack_name}/"
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == policy_arn
    assert {tag["Key"]: tag["Value"] for tag in role["Tags"]} == {
        "mlops:project": "churn",  # what the CI policy's ${aws:PrincipalTag/mlops:project} reads
        "mlops:managed-by": cloud.stack_name,
    }
    attached = iam.list_attached_role_policies(RoleName="mlops-ci-churn")["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == [policy_arn]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": provider["Arn"]}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
        "StringLike": {
            f"{ISSUER}:sub": [
                "repo:acme/churn:ref:refs/heads/feature-*",
                "repo:acme/churn:ref:refs/heads/dev",
                "repo:acme/churn:ref:refs/heads/prod",
            ]
        },
    }
    variables = fake.repositories["churn"]["variables"]
    assert variables == expected_ci_variables(cloud, "churn", role["Arn"])

    # The same Create again (Lambda may deliver it twice): nothing new is written to GitHub.
    calls = len(fake.calls)
    again = cloud.request_custom_resource(FUNCTION, "Create", project("churn"))
    assert again.status == "SUCCESS", again.reason
    changes = [call for call in fake.calls[calls:] if not call.startswith("GET")]
    assert [call for call in changes if "/actions/variables" in call] == []

    deleted = cloud.request_custom_resource(
        FUNCTION, "Delete", project("churn"), physical_id=created.physical_id
    )

    assert deleted.status == "SUCCESS", deleted.reason
    assert fake.repositories["churn"]["variables"] == {}
    assert "churn" in fake.repositories  # RepositoryRetention retain: the code stays
    assert fake.repositories["churn"]["refs"]["prod"]
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="mlops-ci-churn")
    assert deleted.data["CiAccess"].startswith("CI variables removed: MLOPS_PROJECT, AWS_REGION")
    assert deleted.data["CiAccess"].endswith("CI role deleted")
    assert cloud.iam.denials == []


def ci_session(cloud: LocalCloud, role_arn: str) -> boto3.Session:
    """A session of the CI role, as GitHub Actions gets one (AssumeRoleWithWebIdentity): its calls are
    evaluated against the role's policies, its boundary and its tags as the local cloud deployed them."""
    credentials = cloud.iam.credentials_for(role_arn, "GitHubActions")
    return boto3.Session(
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
        region_name=cloud.region,
    )


def test_the_ci_role_may_act_on_its_own_project_only(cloud: LocalCloud) -> None:
    for name in ("fraud", "credit"):
        answer = cloud.request_custom_resource(FUNCTION, "Create", project(name))
        assert answer.status == "SUCCESS", answer.reason
    bucket = f"sagemaker-{cloud.region}-{cloud.account_id}"
    cloud.session.client("s3").create_bucket(Bucket=bucket)
    pipeline_role = cloud.functions[FUNCTION].environment["SAGEMAKER_PIPELINE_ROLE_ARN"]
    fraud = ci_session(cloud, cloud.session.client("iam").get_role(RoleName="mlops-ci-fraud")["Role"]["Arn"])
    s3, sagemaker, events = fraud.client("s3"), fraud.client("sagemaker"), fraud.client("events")
    definition = json.dumps({"Version": "2020-12-01", "Steps": []})

    def denied(call: Any, **request: Any) -> str:
        with pytest.raises(ClientError) as refused:
            call(**request)
        return str(refused.value.response["Error"]["Code"])

    # Its own project: artifacts under fraud/, its pipelines (passing the pipeline role), its events.
    s3.put_object(Bucket=bucket, Key="fraud/code/preprocess.py", Body=b"print(1)")
    assert s3.list_objects_v2(Bucket=bucket, Prefix="fraud/")["KeyCount"] == 1
    sagemaker.create_pipeline(
        PipelineName="fraud-feature-build", PipelineDefinition=definition, RoleArn=pipeline_role
    )
    sagemaker.start_pipeline_execution(PipelineName="fraud-feature-build")
    events.put_events(
        Entries=[
            {
                "EventBusName": cloud.outputs["EventBusName"],
                "Source": "mlops.ci",
                "DetailType": "Git Branch Updated",
                "Detail": json.dumps({"project": "fraud"}),
            }
        ]
    )
    # Another project's: its prefix, its pipelines; and no other role than the pipeline role.
    assert denied(s3.put_object, Bucket=bucket, Key="credit/code/preprocess.py", Body=b"x") == "AccessDenied"
    assert denied(s3.list_objects_v2, Bucket=bucket, Prefix="credit/") == "AccessDenied"
    assert (
        denied(
            sagemaker.create_pipeline,
            PipelineName="credit-feature-build",
            PipelineDefinition=definition,
            RoleArn=pipeline_role,
        )
        == "AccessDeniedException"
    )
    fraud_role = cloud.session.client("iam").get_role(RoleName="mlops-ci-fraud")["Role"]["Arn"]
    assert (
        denied(
            sagemaker.create_pipeline,
            PipelineName="fraud-dev-build",
            PipelineDefinition=definition,
            RoleArn=fraud_role,
        )
        == "AccessDeniedException"
    )
    assert {(denial.action, denial.resource.rsplit(":", 1)[-1]) for denial in cloud.iam.denials} >= {
        ("s3:PutObject", f"{bucket}/credit/code/preprocess.py"),
        ("sagemaker:CreatePipeline", "pipeline/credit-feature-build"),
        ("iam:PassRole", f"role/mlops-ci/{cloud.stack_name}/mlops-ci-fraud"),
    }

    # Whatever else is attached to the role, its boundary (the CI policy) still limits it to its project.
    iam = cloud.session.client("iam")
    broad = iam.create_policy(
        PolicyName="AllS3",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="mlops-ci-fraud", PolicyArn=broad)
    cloud.iam.forget_role_policies()
    assert denied(s3.put_object, Bucket=bucket, Key="credit/code/preprocess.py", Body=b"x") == "AccessDenied"
    s3.put_object(Bucket=bucket, Key="fraud/code/evaluate.py", Body=b"print(2)")


def test_a_role_of_that_name_elsewhere_is_refused_and_a_failing_cleanup_never_blocks_deletion(
    cloud: LocalCloud, github: tuple[FakeGitHub, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, _ = github
    iam = cloud.session.client("iam")
    iam.create_role(RoleName="mlops-ci-scoring", AssumeRolePolicyDocument=json.dumps({"Statement": []}))
    refused = cloud.request_custom_resource(FUNCTION, "Create", project("scoring"))
    assert refused.status == "FAILED"
    assert "IAM role mlops-ci-scoring exists but is not this stack's CI role (path /," in refused.reason
    assert iam.get_role(RoleName="mlops-ci-scoring")["Role"]["Path"] == "/"  # left as it was
    assert "AWS_CI_ROLE_ARN" not in fake.repositories["scoring"].get("variables", {})

    iam.delete_role(RoleName="mlops-ci-scoring")
    created = cloud.request_custom_resource(FUNCTION, "Create", project("scoring"))  # the retry
    assert created.status == "SUCCESS", created.reason
    original = fake.handle

    def variables_unavailable(method: str, path: str, body: Any, token: str) -> tuple[int, Any]:
        if "/actions/variables" in path and method == "DELETE":
            return 503, {"message": "Service Unavailable"}
        return original(method, path, body, token)

    monkeypatch.setattr(fake, "handle", variables_unavailable)
    deleted = cloud.request_custom_resource(
        FUNCTION, "Delete", project("scoring"), physical_id=created.physical_id
    )

    assert deleted.status == "SUCCESS", deleted.reason
    assert "the CI access of project scoring is left as it was: GitHub DELETE" in deleted.reason
    assert iam.get_role(RoleName="mlops-ci-scoring")["Role"]  # kept while its variables are
