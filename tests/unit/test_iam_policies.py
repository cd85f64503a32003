"""The local cloud's IAM policy evaluator decides as AWS's identity-policy evaluation logic does."""

from typing import Any

import pytest
from mlops_local.iam_policies import AuthorizationRequest, PolicyError, condition_matches, evaluate

ENDPOINT = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-dev"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any = "sagemaker:*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def request(action: str = "sagemaker:DeleteEndpoint", resource: str = ENDPOINT, **context: Any):
    return AuthorizationRequest(action, resource, context)


def test_nothing_is_allowed_without_an_allowing_statement():
    result = evaluate([], request())
    assert not result.allowed and not result.explicit_deny


def test_an_allow_that_matches_action_and_resource_allows():
    result = evaluate([policy(allow("sagemaker:DeleteEndpoint", ENDPOINT, Sid="Delete"))], request())
    assert result.allowed and result.statement == "Delete"


def test_an_explicit_deny_wins_over_any_allow():
    deny = {"Effect": "Deny", "Action": "sagemaker:Delete*", "Resource": "*", "Sid": "NoDeletes"}
    result = evaluate([policy(allow()), policy(deny)], request())
    assert not result.allowed and result.explicit_deny and result.statement == "NoDeletes"


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [
        ("sagemaker:*", True),
        ("sagemaker:delete*", True),  # actions are compared without regard to case
        ("sagemaker:Delete?ndpoint", True),
        ("sagemaker:Describe*", False),
        ("*", True),
        ("s3:*", False),
    ],
)
def test_action_wildcards(pattern: str, allowed: bool):
    assert evaluate([policy(allow(pattern))], request()).allowed is allowed


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [
        ("arn:aws:sagemaker:us-east-1:123456789012:endpoint/*", True),
        ("arn:aws:sagemaker:*:*:endpoint/churn-???", True),
        ("arn:aws:sagemaker:us-east-1:123456789012:endpoint/Churn-dev", False),  # ARNs keep their case
        ("arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/*", False),
        ("arn:aws:sagemaker:us-east-1:123456789012:endpoint/${aws:PrincipalTag/team}-*", False),
    ],
)
def test_resource_wildcards_and_unresolved_variables(pattern: str, allowed: bool):
    assert evaluate([policy(allow(resource=pattern))], request()).allowed is allowed


def test_a_policy_variable_is_resolved_from_the_context():
    statement = allow(resource="arn:aws:sagemaker:us-east-1:123456789012:endpoint/${aws:PrincipalTag/team}-*")
    assert evaluate([policy(statement)], request(**{"aws:PrincipalTag/team": "churn"})).allowed


def test_an_action_without_resource_types_is_allowed_only_on_star():
    search = request("sagemaker:Search", "*")
    assert evaluate([policy(allow(resource="*"))], search).allowed
    assert not evaluate([policy(allow(resource="arn:aws:sagemaker:*:*:*"))], search).allowed


def test_not_action_allows_everything_but_the_actions_named():
    statement = {"Effect": "Allow", "NotAction": "sagemaker:Delete*", "Resource": "*"}
    assert not evaluate([policy(statement)], request()).allowed
    assert evaluate([policy(statement)], request("sagemaker:DescribeEndpoint")).allowed


def test_not_resource_applies_to_every_resource_but_the_ones_named():
    deny = {"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:sagemaker:*:*:endpoint/churn-*"}
    policies = [policy(allow(), deny)]
    assert evaluate(policies, request()).allowed
    assert evaluate(policies, request(resource=ENDPOINT.replace("churn", "upsell"))).explicit_deny


def test_every_condition_of_a_statement_must_hold():
    statement = allow(
        Condition={
            "StringEquals": {"aws:ResourceTag/mlops:managed-by": "mlops"},
            "StringLike": {"aws:RequestTag/stage": "d*"},
        }
    )
    both = {"aws:ResourceTag/mlops:managed-by": "mlops", "aws:RequestTag/stage": "dev"}
    assert evaluate([policy(statement)], request(**both)).allowed
    assert not evaluate([policy(statement)], request(**{**both, "aws:RequestTag/stage": "prod"})).allowed


def test_condition_keys_are_compared_without_regard_to_case_and_values_with_it():
    context = {"aws:resourcetag/MLOPS:Managed-By": "mlops"}
    assert condition_matches("StringEquals", "aws:ResourceTag/mlops:managed-by", "mlops", context)
    assert not condition_matches("StringEquals", "aws:ResourceTag/mlops:managed-by", "MLOPS", context)
    assert condition_matches("StringEqualsIgnoreCase", "aws:ResourceTag/mlops:managed-by", "MLOPS", context)


@pytest.mark.parametrize(
    ("operator", "values", "present", "missing"),
    [
        ("StringEquals", ["abc", "b"], True, False),
        ("StringNotEquals", ["x"], True, True),  # a missing key satisfies a negated operator
        ("StringLike", "a*", True, False),
        ("StringNotLike", "b*", True, True),
        ("StringEqualsIfExists", "abc", True, True),
        ("StringNotEqualsIfExists", "abc", False, True),
        ("Null", "true", False, True),
        ("Null", "false", True, False),
    ],
)
def test_string_operators_and_a_missing_key(operator: str, values: Any, present: bool, missing: bool):
    assert condition_matches(operator, "k", values, {"k": "abc"}) is present
    assert condition_matches(operator, "k", values, {}) is missing


def test_arn_operators_match_component_by_component():
    role = "arn:aws:iam::123456789012:role/service/deployer"
    assert condition_matches(
        "ArnLike", "aws:SourceArn", "arn:aws:iam::*:role/service/*", {"aws:SourceArn": role}
    )
    assert condition_matches("ArnEquals", "aws:SourceArn", role, {"aws:SourceArn": role})
    assert not condition_matches("ArnLike", "aws:SourceArn", "arn:aws:iam::*:user/*", {"aws:SourceArn": role})
    assert condition_matches("ArnNotLike", "aws:SourceArn", "arn:aws:iam::*:user/*", {"aws:SourceArn": role})
    assert not condition_matches("ArnLike", "aws:SourceArn", "arn:aws:iam::*", {"aws:SourceArn": role})


def test_bool_numeric_date_and_ip_operators():
    assert condition_matches("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": True})
    assert not condition_matches("Bool", "aws:SecureTransport", ["false"], {"aws:SecureTransport": "true"})
    assert condition_matches("NumericLessThanEquals", "s3:max-keys", "10", {"s3:max-keys": "10"})
    assert not condition_matches("NumericGreaterThan", "s3:max-keys", "10", {"s3:max-keys": "abc"})
    assert condition_matches(
        "DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z", {"aws:CurrentTime": "2026-12-05T10:00:00Z"}
    )
    assert condition_matches("IpAddress", "aws:SourceIp", "10.0.0.0/8", {"aws:SourceIp": "10.1.2.3"})
    assert condition_matches("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", {"aws:SourceIp": "192.0.2.1"})


def test_for_all_values_holds_when_every_value_matches_and_for_a_missing_key():
    keys = ["mlops:model-package-arn", "mlops:commit-id"]
    allowed = ["mlops:model-package-arn", "mlops:mlflow-model-version", "mlops:commit-id"]
    assert condition_matches("ForAllValues:StringEquals", "aws:TagKeys", allowed, {"aws:TagKeys": keys})
    assert not condition_matches(
        "ForAllValues:StringEquals", "aws:TagKeys", allowed, {"aws:TagKeys": [*keys, "mlops:managed-by"]}
    )
    assert condition_matches("ForAllValues:StringEquals", "aws:TagKeys", allowed, {})
    assert condition_matches("ForAllValues:StringLike", "dynamodb:LeadingKeys", ["ENDPOINT#*"], {})


def test_for_any_value_holds_when_one_value_matches_and_never_for_a_missing_key():
    assert condition_matches("ForAnyValue:StringEquals", "aws:TagKeys", "a", {"aws:TagKeys": ["b", "a"]})
    assert not condition_matches("ForAnyValue:StringEquals", "aws:TagKeys", "a", {"aws:TagKeys": ["b"]})
    assert not condition_matches("ForAnyValue:StringEquals", "aws:TagKeys", "a", {})
    assert condition_matches("ForAnyValue:StringNotEquals", "aws:TagKeys", "a", {"aws:TagKeys": ["a", "b"]})


def test_leading_keys_outside_the_granted_prefix_are_refused():
    statement = allow(
        "dynamodb:PutItem",
        "arn:aws:dynamodb:us-east-1:123456789012:table/config",
        Condition={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ENDPOINT#*"]}},
    )
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/config"
    put = "dynamodb:PutItem"
    assert evaluate(
        [policy(statement)], request(put, table, **{"dynamodb:LeadingKeys": ["ENDPOINT#x"]})
    ).allowed
    assert not evaluate(
        [policy(statement)], request(put, table, **{"dynamodb:LeadingKeys": ["PROJECT#x"]})
    ).allowed


def test_what_the_evaluator_cannot_read_is_an_error_not_a_guess():
    with pytest.raises(PolicyError):
        evaluate([policy(allow(Condition={"StringSortOf": {"k": "v"}}))], request())
    with pytest.raises(PolicyError):
        evaluate([policy(allow(Condition={"ForSomeValues:StringEquals": {"k": "v"}}))], request())
    with pytest.raises(PolicyError):
        evaluate([policy({"Effect": "Allow", "Resource": "*"})], request())
    with pytest.raises(PolicyError):
        evaluate([policy(allow(resource=[ENDPOINT, None]))], request())
