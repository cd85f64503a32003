"""The Service Catalog product and the stack agree: the product's ServiceToken is the function the
stack exports, and the properties it sends (with the form's defaults) are what the function accepts."""

from __future__ import annotations

from pathlib import Path

from mlops_core.projects import ProjectProperties
from mlops_core.settings import ProjectLifecycleSettings
from mlops_local.cfn_yaml import load_template

REPO = Path(__file__).resolve().parents[2]
PRODUCT = load_template(REPO / "service-catalog" / "sagemaker-project.yaml")
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
    assert required <= set(environment)
    # Where local repositories live is configurable; the seed code is the SeedCodeLayer's.
    assert environment["LOCAL_GIT_ROOT"].startswith("/tmp/")
    assert environment["SEED_CODE_DIR"] == "/opt/seed-code"
    assert {"Ref": "SeedCodeLayer"} in function["Layers"]
    assert (
        REPO / STACK["Resources"]["SeedCodeLayer"]["Properties"]["ContentUri"] / "seed-code"
    ).resolve() == (REPO / "seed-code").resolve()
