"""The Service Catalog product and the stack agree: the product's ServiceToken is the function the
stack exports, and the properties it sends (with the form's defaults) are what the function accepts."""

from __future__ import annotations

from pathlib import Path

from mlops_core.contract.project_record import ProjectProperties
from mlops_core.projects.settings import ProjectLifecycleSettings
from mlops_local.cfn_yaml import load_template

REPO = Path(__file__).resolve().parents[2]
PRODUCT = load_template(REPO / "service-catalog" / "sagemaker-project.yaml")
# Lambda sets these itself (reserved variables: a template cannot set them).
LAMBDA_SETS = {"AWS_REGION"}
STACK = load_template(REPO / "template.yaml")


def test_the_product_imports_the_lifecycle_function_the_stack_exports():
    service_token = PRODUCT["Resources"]["Project"]["Properties"]["ServiceToken"]
    assert service_token == {
        "Fn::ImportValue": {"Fn::Sub": "${ControlPlaneStackName}-ProjectLifecycleFunctionArn"}
    }
    output = STACK["Outputs"]["ProjectLifecycleFunctionArn"]
    assert output["Export"]["Name"] == {"Fn::Sub": "${AWS::StackName}-ProjectLifecycleFunctionArn"}
    assert output["Value"] == {"Fn::GetAtt": ["ProjectLifecycleFunction", "Arn"]}


def test_the_products_default_form_is_a_valid_request():
    parameters = {name: spec.get("Default") for name, spec in PRODUCT["Parameters"].items()} | {
        "SageMakerProjectName": "churn",
        "SageMakerProjectId": "p-1a2b3c",
    }
    properties = {
        name: parameters[value["Ref"]] if isinstance(value, dict) and "Ref" in value else value
        for name, value in PRODUCT["Resources"]["Project"]["Properties"].items()
        if name != "ServiceToken"
    }
    parsed = ProjectProperties.model_validate(properties)
    assert parsed.project == "churn"
    assert parsed.deployment_defaults == {}
    # Every property the product sends is one the function reads (no typo silently ignored).
    aliases = {field.alias for field in ProjectProperties.model_fields.values()}
    assert set(properties) <= aliases


def test_the_optional_product_is_tagged_for_studio_and_behind_its_condition():
    product = STACK["Resources"]["ProjectProduct"]
    assert product["Condition"] == "CreatesServiceCatalogProduct"
    assert {"Key": "sagemaker:studio-visibility", "Value": "true"} in product["Properties"]["Tags"]
    for name in (
        "ProjectPortfolio",
        "ProjectPortfolioProduct",
        "ProjectLaunchRole",
        "ProjectLaunchRoleConstraint",
    ):
        assert STACK["Resources"][name]["Condition"] == "CreatesServiceCatalogProduct"


def test_the_template_gives_the_lifecycle_function_every_setting_it_requires():
    function = STACK["Resources"]["ProjectLifecycleFunction"]["Properties"]
    environment = {
        **STACK["Globals"]["Function"]["Environment"]["Variables"],
        **function["Environment"]["Variables"],
    }
    required = {
        field.alias for field in ProjectLifecycleSettings.model_fields.values() if field.is_required()
    }
    assert required <= set(environment) | LAMBDA_SETS
    # The seed code is the SeedCodeLayer's; nothing of the local cloud's git provider is configured here.
    assert not [name for name in environment if name.startswith("LOCAL_")]
    assert environment["SEED_CODE_DIR"] == "/opt/seed-code"
    assert {"Ref": "SeedCodeLayer"} in function["Layers"]
    assert (
        REPO / STACK["Resources"]["SeedCodeLayer"]["Properties"]["ContentUri"] / "seed-code"
    ).resolve() == (REPO / "seed-code").resolve()


def test_the_template_passes_every_setting_the_lifecycle_function_reads():
    function = STACK["Resources"]["ProjectLifecycleFunction"]["Properties"]
    environment = {
        **STACK["Globals"]["Function"]["Environment"]["Variables"],
        **function["Environment"]["Variables"],
    }
    read = {field.alias for field in ProjectLifecycleSettings.model_fields.values()}
    assert read <= set(environment) | LAMBDA_SETS
    assert environment["GITHUB_API_URL"] == {"Ref": "GitHubApiUrl"}
    assert environment["GITHUB_PROTECT_PROD"] == {"Ref": "GitHubProtectProd"}
    assert STACK["Parameters"]["GitHubApiUrl"]["Default"] == "https://api.github.com"
    assert STACK["Parameters"]["GitHubProtectProd"]["Default"] == "true"


def test_the_product_cannot_be_created_without_its_template_url():
    rule = STACK["Rules"]["ServiceCatalogProductNeedsItsTemplate"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "CreateServiceCatalogProduct"}, "true"]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ServiceCatalogProductTemplateUrl"}, ""]}]
    }


def statements(resource: str) -> dict[str, dict]:
    properties = STACK["Resources"][resource]["Properties"]
    documents = [
        policy["PolicyDocument"] for policy in properties.get("Policies", []) if "PolicyDocument" in policy
    ]
    documents += [policy for policy in properties.get("Policies", []) if "Statement" in policy]
    return {statement["Sid"]: statement for document in documents for statement in document["Statement"]}


def actions(statement: dict) -> set[str]:
    return {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])


def test_the_lifecycle_function_changes_only_what_its_stack_manages():
    granted = statements("ProjectLifecycleFunction")
    managed_by = {"Ref": "AWS::StackName"}
    for sid, statement in granted.items():
        changes = {
            action
            for action in actions(statement)
            if not action.split(":")[1].startswith(("Get", "List", "Describe"))
        }
        codecommit_or_sagemaker = {
            action for action in changes if action.startswith(("codecommit:", "sagemaker:"))
        }
        if not codecommit_or_sagemaker:
            continue
        condition = statement.get("Condition", {}).get("StringEquals", {})
        creates = all(action.split(":")[1].startswith("Create") for action in codecommit_or_sagemaker)
        key = "aws:RequestTag/mlops:managed-by" if creates else "aws:ResourceTag/mlops:managed-by"
        if "sagemaker:AddTags" in codecommit_or_sagemaker:  # tags only as part of creating a group
            key = "aws:RequestTag/mlops:managed-by"
            assert condition["sagemaker:TaggingAction"] == "CreateModelPackageGroup", sid
        assert condition.get(key) == managed_by, (
            f"{sid} grants {sorted(codecommit_or_sagemaker)} unconditioned"
        )
    assert "codecommit:DeleteRepository" in actions(granted["ChangeOnlyManagedRepositories"])
    assert "codecommit:ListTagsForResource" in actions(granted["ReadRepositories"])


def test_the_launch_role_changes_only_service_catalog_stacks():
    granted = statements("ProjectLaunchRole")
    stacks = granted["ProductStacks"]
    assert {"cloudformation:UpdateStack", "cloudformation:DeleteStack"} <= actions(stacks)
    assert stacks["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/SC-*"
    }
    wide = [
        sid
        for sid, statement in granted.items()
        if statement["Resource"] == "*" and "Condition" not in statement
    ]
    assert all(
        action in ("cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate")
        for sid in wide
        for action in actions(granted[sid])
    )


def test_the_products_options_reach_the_project_record():
    parameters = PRODUCT["Parameters"]
    assert parameters["RejectOnTestFailure"]["AllowedValues"] == ["false", "true"]
    properties = ProjectProperties.model_validate(
        {
            "SageMakerProjectName": "ranker",
            "SageMakerProjectId": "p-1",
            "RegistryBackend": "mlflow",
            "RejectOnTestFailure": "true",
            "MlflowModelName": "ranker-model",
            "MlflowServingImage": "",
        }
    )
    assert properties.reject_on_test_failure is True
    assert properties.mlflow_model_name == "ranker-model"
    assert properties.mlflow_serving_image is None
