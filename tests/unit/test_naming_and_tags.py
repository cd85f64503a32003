from __future__ import annotations

import pytest
from mlops_core.contract import tags
from mlops_core.contract.naming import (
    MAX_NAME_LENGTH,
    StageResource,
    parse_model_package_arn,
    parse_stage_resource,
    stage_resource_name,
    versioned_resource_name,
)
from mlops_core.contract.topology import Stage


def test_stage_resources_are_project_dash_stage():
    assert stage_resource_name("churn", Stage.DEV) == "churn-dev"
    assert parse_stage_resource("credit-risk-champion") == StageResource("credit-risk", Stage.CHAMPION)
    assert StageResource("credit-risk", Stage.CHAMPION).name == "credit-risk-champion"


@pytest.mark.parametrize(
    "name", ["churn", "churn-staging", "-dev", "churn--", "a" * 33 + "-dev", "ch_urn-dev"]
)
def test_names_outside_the_contract_are_not_stage_resources(name):
    assert parse_stage_resource(name) is None


def test_project_names_are_checked_against_sagemakers_rules():
    with pytest.raises(ValueError, match="1-32 letters"):
        stage_resource_name("bad_name", Stage.DEV)


def test_versioned_names_are_stable_unique_and_fit_63_characters():
    name = versioned_resource_name("churn-dev", 3, "arn-a", "role")
    assert name.startswith("churn-dev-v3-") and len(name) == len("churn-dev-v3-") + 6
    assert versioned_resource_name("churn-dev", 3, "arn-a", "role") == name
    assert versioned_resource_name("churn-dev", 3, "arn-b", "role") != name

    long_endpoint = "p" * 32 + "-challenger"
    long_name = versioned_resource_name(long_endpoint, 123456, "x")
    assert len(long_name) <= MAX_NAME_LENGTH
    assert long_name.endswith("-v123456-" + long_name[-6:])
    assert not long_name.startswith("-")


def test_model_package_arns_give_group_and_version():
    ref = parse_model_package_arn("arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/12")
    assert (ref.group, ref.version) == ("churn-dev", 12)
    with pytest.raises(ValueError, match="not a versioned model package ARN"):
        parse_model_package_arn("arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn-dev")


def test_contract_tags_with_optional_ones_only_when_known():
    assert tags.resource_tags(project="churn", stage=Stage.DEV, managed_by="mlops") == {
        "mlops:project": "churn",
        "mlops:stage": "dev",
        "mlops:managed-by": "mlops",
    }
    full = tags.resource_tags(
        project="churn", stage=Stage.PROD, managed_by="mlops", model_package_arn="arn", commit_id="c0ffee"
    )
    assert full[tags.MODEL_PACKAGE_ARN] == "arn" and full[tags.COMMIT_ID] == "c0ffee"


def test_tags_convert_to_and_from_the_aws_list_shape():
    aws = tags.to_aws({"a": "1", "b": "2"})
    assert aws == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    assert tags.from_aws(aws) == {"a": "1", "b": "2"}
