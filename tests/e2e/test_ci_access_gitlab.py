"""A GitLab project's CI access through the local cloud: the stack creates the GitLab instance's OIDC
provider; creating a project creates the GitLab project with the seed code on ``prod`` and ``dev`` and
its CI/CD variables through GitLab's REST API v4 (a loopback fake), and the project's CI role trusts
only that project's branches; deleting the project removes the variables and the role, never the
code. What the role may do is the same policy as GitHub's (tests/e2e/test_ci_access.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from mlops_local import LocalCloud

from tests.e2e.conftest import expected_ci_variables
from tests.unit.test_gitlab_provider import TOKEN, FakeGitLab, FakeGitLabServer

pytestmark = pytest.mark.e2e

FUNCTION = "ProjectLifecycleFunction"
ISSUER = "gitlab.com"


@pytest.fixture(scope="module")
def gitlab() -> Iterator[tuple[FakeGitLab, str]]:
    with FakeGitLabServer(FakeGitLab()) as server:
        yield server.fake, server.base_url


@pytest.fixture
def cloud(gitlab: tuple[FakeGitLab, str]) -> Iterator[LocalCloud]:
    parameters = {
        "GitLabGroup": "acme/ml",
        "GitLabTokenSecretName": "gitlab/token",
        "GitLabApiUrl": f"{gitlab[1]}/api/v4",  # GitLabUrl stays https://gitlab.com: the OIDC issuer
    }
    with LocalCloud(parameters=parameters) as local_cloud:
        local_cloud.session.client("secretsmanager").create_secret(
            Name="gitlab/token", SecretString=json.dumps({"token": TOKEN})
        )
        yield local_cloud


def project(name: str) -> dict[str, Any]:
    return {"SageMakerProjectName": name, "SageMakerProjectId": f"p-{name}0001", "GitProvider": "gitlab"}


def test_a_gitlab_project_gets_its_repository_ci_role_and_variables_and_deleting_it_removes_them(
    cloud: LocalCloud, gitlab: tuple[FakeGitLab, str]
) -> None:
    fake, _ = gitlab
    environment = cloud.functions[FUNCTION].environment
    iam = cloud.session.client("iam")
    (provider,) = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert provider["Arn"].endswith(f":oidc-provider/{ISSUER}")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])["ClientIDList"] == [
        "sts.amazonaws.com"
    ]

    created = cloud.request_custom_resource(FUNCTION, "Create", project("churn"))

    assert created.status == "SUCCESS", created.reason
    repository = fake.projects["acme/ml/churn"]
    assert repository["topics"] == ["mlops-project-churn"] and repository["default_branch"] == "prod"
    seed = fake.files_on("acme/ml/churn", "prod")
    assert ".gitlab-ci.yml" in seed and "pipelines/run.py" in seed
    assert repository["branches"]["dev"] == repository["branches"]["prod"]
    role = iam.get_role(RoleName="mlops-ci-churn")["Role"]
    assert created.data["CiRoleArn"] == role["Arn"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == environment["CI_ROLE_POLICY_ARN"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": provider["Arn"]}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
        "StringLike": {
            f"{ISSUER}:sub": [
                "project_path:acme/ml/churn:ref_type:branch:ref:feature-*",
                "project_path:acme/ml/churn:ref_type:branch:ref:dev",
                "project_path:acme/ml/churn:ref_type:branch:ref:prod",
            ]
        },
    }
    assert fake.values("acme/ml/churn") == expected_ci_variables(cloud, "churn", role["Arn"])

    # The same Create again (Lambda may deliver it twice): GitLab is only read.
    calls = len(fake.calls)
    again = cloud.request_custom_resource(FUNCTION, "Create", project("churn"))
    assert again.status == "SUCCESS", again.reason
    assert [call for call in fake.calls[calls:] if not call.startswith("GET")] == []

    deleted = cloud.request_custom_resource(
        FUNCTION, "Delete", project("churn"), physical_id=created.physical_id
    )

    assert deleted.status == "SUCCESS", deleted.reason
    assert fake.values("acme/ml/churn") == {}
    assert fake.files_on("acme/ml/churn", "prod") == seed  # RepositoryRetention retain: the code stays
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="mlops-ci-churn")
    assert deleted.data["CiAccess"].startswith("CI variables removed: MLOPS_PROJECT, AWS_REGION")
    assert deleted.data["CiAccess"].endswith("CI role deleted")
    assert cloud.iam.denials == []


def test_a_self_managed_instance_with_an_existing_oidc_provider_is_reused(
    gitlab: tuple[FakeGitLab, str],
) -> None:
    """An account that has the instance's OIDC provider already: the stack creates none and the CI
    roles trust that one, with the instance's host as the claims' prefix and its own audience."""
    fake, base_url = gitlab
    host = "gitlab.example.com"
    provider_arn = f"arn:aws:iam::123456789012:oidc-provider/{host}"
    parameters = {
        "GitLabGroup": "acme",
        "GitLabTokenSecretName": "gitlab/token",
        "GitLabUrl": f"https://{host}",
        "GitLabApiUrl": f"{base_url}/api/v4",
        "GitLabOidcProviderArn": provider_arn,
        "GitLabOidcAudience": f"https://{host}",
    }
    with LocalCloud(parameters=parameters) as cloud:
        iam = cloud.session.client("iam")
        assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []  # none created
        assert cloud.functions[FUNCTION].environment["GITLAB_OIDC_PROVIDER_ARN"] == provider_arn
        iam.create_open_id_connect_provider(Url=f"https://{host}", ClientIDList=[f"https://{host}"])
        cloud.session.client("secretsmanager").create_secret(Name="gitlab/token", SecretString=TOKEN)

        created = cloud.request_custom_resource(FUNCTION, "Create", project("fraud"))

        assert created.status == "SUCCESS", created.reason
        (statement,) = iam.get_role(RoleName="mlops-ci-fraud")["Role"]["AssumeRolePolicyDocument"][
            "Statement"
        ]
        assert statement["Principal"] == {"Federated": provider_arn}
        assert statement["Condition"]["StringEquals"] == {f"{host}:aud": f"https://{host}"}
        assert statement["Condition"]["StringLike"][f"{host}:sub"][0] == (
            "project_path:acme/fraud:ref_type:branch:ref:feature-*"
        )
        assert fake.values("acme/fraud")["AWS_CI_ROLE_ARN"] == created.data["CiRoleArn"]
        assert cloud.iam.denials == []
