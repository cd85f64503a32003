"""Deploying templates into the embedded AWS, and leaving the process as it was found."""

import json
import os
from pathlib import Path

import pytest
from echo_stack import ECHO_TEMPLATE, write_echo_stack
from mlops_local import DeploymentError, LocalCloud


def test_the_projects_template_deploys_with_its_bus_table_and_rule() -> None:
    with LocalCloud() as cloud:
        events = cloud.session.client("events")
        assert (
            events.describe_event_bus(Name="mlops-bus")["Name"]
            == cloud.outputs["EventBusName"]
            == "mlops-bus"
        )
        table = cloud.session.client("dynamodb").describe_table(TableName=cloud.outputs["ConfigTableName"])
        assert [key["AttributeName"] for key in table["Table"]["KeySchema"]] == ["pk", "sk"]
        deployer_rules = [
            rule
            for rule in events.list_rules(EventBusName="default")["Rules"]
            if "ModelPackageStateChange" in rule["Name"]
        ]
        assert len(deployer_rules) == 1
        assert json.loads(deployer_rules[0]["EventPattern"])["detail-type"] == [
            "SageMaker Model Package State Change"
        ]
        targets = events.list_targets_by_rule(Rule=deployer_rules[0]["Name"])["Targets"]
        assert [target["Arn"] for target in targets] == [cloud.functions["ModelDeployerFunction"].arn]
        assert cloud.deployment.skipped_resources == ("FailedEventsQueuePolicy",)  # moto has no QueuePolicy


def test_ref_of_an_event_bus_is_the_bus_name_in_a_function_environment() -> None:
    with LocalCloud(stack_name="ci") as cloud:
        deployer = cloud.functions["ModelDeployerFunction"]
        configuration = cloud.session.client("lambda").get_function_configuration(FunctionName=deployer.name)
        assert configuration["Environment"]["Variables"]["EVENT_BUS_NAME"] == "ci-bus"
        assert deployer.environment["EVENT_BUS_NAME"] == "ci-bus"


def test_functions_know_their_code_layers_and_asynchronous_config() -> None:
    with LocalCloud() as cloud:
        deployer = cloud.functions["ModelDeployerFunction"]
        repository = Path(__file__).resolve().parents[2]
        assert deployer.code_dir == repository / "functions" / "model_deployer"
        assert deployer.layer_dirs == (repository / "layers" / "mlops_core",)
        assert deployer.max_retry_attempts == 2
        assert deployer.on_failure_destination is not None
        assert deployer.on_failure_destination.endswith(
            cloud.outputs["FailedEventsQueueUrl"].rsplit("/", 1)[-1]
        )
        assert deployer.log_group == "/aws/lambda/mlops/model-deployer"


def test_a_layer_is_on_the_path_of_its_functions_and_its_ref_is_its_arn(echo_cloud: LocalCloud) -> None:
    assert echo_cloud.invoke("EchoFunction", {}).result["greeting"] == "hello from the layer"
    layer_arn = echo_cloud.outputs["SharedLayerArn"]
    assert layer_arn.startswith("arn:aws:lambda:us-east-1:123456789012:layer:")
    assert layer_arn.endswith(":1")


def test_parameters_reach_the_deployed_environment() -> None:
    with LocalCloud(parameters={"DefaultInstanceType": "ml.c5.xlarge"}) as cloud:
        environment = cloud.functions["ModelDeployerFunction"].environment
        assert environment["DEFAULT_INSTANCE_TYPE"] == "ml.c5.xlarge"
        assert environment["DEFAULT_INSTANCE_COUNT"] == "1"  # a string, as in Lambda
        role_name = environment["SAGEMAKER_EXECUTION_ROLE_ARN"].rsplit("/", 1)[-1]
        assert cloud.session.client("iam").get_role(RoleName=role_name)["Role"]["Arn"].endswith(role_name)


@pytest.mark.parametrize(("parameter", "reserved"), [(None, 5), ("3", 3), ("0", None)])
def test_the_public_watcher_reserves_concurrency_unless_told_not_to(parameter, reserved) -> None:
    parameters = {} if parameter is None else {"MlflowWatcherReservedConcurrency": parameter}
    with LocalCloud(parameters=parameters) as cloud:
        watcher = cloud.functions["MlflowAliasWatcherFunction"].name
        concurrency = cloud.session.client("lambda").get_function_concurrency(FunctionName=watcher)
        assert concurrency.get("ReservedConcurrentExecutions") == reserved


def test_a_wiring_mistake_fails_the_deployment_with_its_reason(tmp_path: Path) -> None:
    template = write_echo_stack(tmp_path, ECHO_TEMPLATE.replace("!Ref Bus", "!GetAtt Buss.Arn"))
    with pytest.raises(DeploymentError, match=r"ROLLBACK_COMPLETE.*undefined resource Buss"):
        LocalCloud(template).open()
    assert "AWS_ENDPOINT_URL" not in os.environ


def test_an_unknown_parameter_is_refused(echo_template: Path) -> None:
    with pytest.raises(DeploymentError, match="NoSuchParameter"):
        LocalCloud(echo_template, parameters={"NoSuchParameter": "x"}).open()


def test_the_environment_is_restored_exactly_after_close(
    echo_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "someone-real")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://elsewhere")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    before = dict(os.environ)
    with LocalCloud(echo_template) as cloud:
        assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert "AWS_PROFILE" not in os.environ
        assert "AWS_ENDPOINT_URL_S3" not in os.environ
        assert os.environ["AWS_REGION"] == "us-east-1"
        cloud.send({"source": "test", "detail-type": "Ping", "detail": {}})
    assert dict(os.environ) == before


def test_a_second_cloud_starts_from_nothing(echo_template: Path) -> None:
    with LocalCloud(echo_template) as first:
        first.session.client("sagemaker").create_model_package_group(ModelPackageGroupName="left-behind")
        assert first.invoke("EchoFunction", {}).result["calls"] == 1
        assert first.invoke("EchoFunction", {}).result["calls"] == 2
    with LocalCloud(echo_template) as second:
        groups = second.session.client("sagemaker").list_model_package_groups()[
            "ModelPackageGroupSummaryList"
        ]
        assert groups == []
        assert second.invoke("EchoFunction", {}).result["calls"] == 1  # a cold start: a fresh module


def test_only_one_cloud_is_open_at_a_time(echo_cloud: LocalCloud, echo_template: Path) -> None:
    with pytest.raises(RuntimeError, match="another LocalCloud is open"):
        LocalCloud(echo_template).open()
    assert os.environ["AWS_ENDPOINT_URL"] == echo_cloud.session.client("s3").meta.endpoint_url
