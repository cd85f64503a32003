"""Each function calls AWS as its own execution role, whatever the process-wide caches hold.

Lambda runs each function in a process of its own; the local runtime runs them all in this one. A
client cached for the process (boto3's default session, Powertools Parameters' default providers)
must still never carry one function's credentials into another function's call.
"""

import textwrap
from pathlib import Path

import boto3
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from mlops_local import LocalCloud

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    Handler: app.handler
    CodeUri: who/
Resources:
  FirstFunction:
    Type: AWS::Serverless::Function
  SecondFunction:
    Type: AWS::Serverless::Function
"""

# Caches a default-session client and a Powertools secrets provider the first time it runs, as code
# that builds clients at its first call does, and reports whose credentials each of them signs with.
WHO = """\
import os

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS


def key_of(client):
    return client._request_signer._credentials.access_key


def handler(event, context):
    DEFAULT_PROVIDERS.setdefault("secrets", SecretsProvider())
    return {
        "environment": os.environ["AWS_ACCESS_KEY_ID"],
        "default_session": key_of(boto3.client("events")),
        "parameters": key_of(DEFAULT_PROVIDERS["secrets"].client),
    }
"""


def test_each_function_signs_with_its_own_role_and_the_process_caches_are_its_own(tmp_path: Path):
    (tmp_path / "who").mkdir()
    (tmp_path / "who" / "app.py").write_text(WHO)
    template = tmp_path / "template.yaml"
    template.write_text(textwrap.dedent(TEMPLATE))
    operator_session, operator_providers = boto3.DEFAULT_SESSION, dict(DEFAULT_PROVIDERS)

    with LocalCloud(template) as cloud:
        first = cloud.invoke("FirstFunction", {}).result
        second = cloud.invoke("SecondFunction", {}).result
        first_again = cloud.invoke("FirstFunction", {}).result

        for result in (first, second, first_again):
            assert result["default_session"] == result["parameters"] == result["environment"]
        assert first == first_again  # a warm function keeps its own caches
        assert first["environment"] != second["environment"]
        roles = {cloud.iam.identity(result["environment"]).role_name for result in (first, second)}
        assert {role.split("-")[1] for role in roles} == {"FirstFunctionRole", "SecondFunctionRole"}
        assert "testing" not in (first["environment"], second["environment"])  # not the operator's

    assert boto3.DEFAULT_SESSION is operator_session
    assert dict(DEFAULT_PROVIDERS) == operator_providers
