"""`make demo`: the control plane's first job, told step by step on the embedded cloud.

A data scientist's pipeline registers a model version in ``demo-dev`` and CI syncs the endpoint's
integration test suite; someone approves the version; the control plane deploys it to endpoint
``demo-dev``, which comes ``InService``; the tester runs the suite against the real model; Slack
hears of each step. Every step is checked, and the demo exits non-zero if one did not happen.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from mlops_core.suite_tool import write_suite

from mlops_local import LocalCloud
from mlops_local.demo_model import DEMO_SUITE, GOOD_MODEL, register_demo_version
from mlops_local.trace import Trace

PROJECT = "demo"
GROUP = ENDPOINT = f"{PROJECT}-dev"
COMMIT_ID = "5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f"


@dataclass
class Check:
    description: str
    passed: bool


def _say(step: str, text: str) -> None:
    heading = f"\033[1m{step}\033[0m" if sys.stdout.isatty() else step
    print(f"\n{heading} {text}")


def run(out: Callable[[str], None] = print) -> int:
    started = time.perf_counter()
    _say("1.", "Deploying template.yaml into the embedded AWS (SAM transform, then CloudFormation)...")
    with LocalCloud() as cloud:
        out(f"   stack {cloud.stack_name!r} is up: functions {', '.join(sorted(cloud.functions))}")
        story = _Story(cloud, out)
        package_arn = story.register()
        approved = story.approve(package_arn)
        endpoint = story.show_endpoint(package_arn)
        story.show_slack()
        if endpoint is not None:
            story.deliver_again(approved, endpoint)
    return _report(story.checks, started, out)


class _Story:
    """The demo's steps, each told and checked."""

    def __init__(self, cloud: LocalCloud, out: Callable[[str], None]) -> None:
        self.cloud = cloud
        self.out = out
        self.sagemaker = cloud.session.client("sagemaker")
        self.checks: list[Check] = []

    def check(self, description: str, passed: bool) -> None:
        self.checks.append(Check(description, passed))

    def register(self) -> str:
        _say("2.", f"A training pipeline uploads its model and registers version 1 in {GROUP!r};")
        self.out(f"   CI syncs the integration test suite of endpoint {ENDPOINT!r} into the config table.")
        package_arn = register_demo_version(self.cloud.session, GROUP, GOOD_MODEL, commit_id=COMMIT_ID)
        suite = write_suite(
            self.cloud.session.client("dynamodb"),
            self.cloud.outputs["ConfigTableName"],
            ENDPOINT,
            DEMO_SUITE,
            source="integration-tests/suite.yaml",
        )
        self.out(f"   suite: {len(suite.cases)} cases and a load phase")
        registered = self.cloud.settle()
        self.out(registered.timeline())
        self.check("registration reaches no deployer (it is not approved yet)", not registered.invocations())
        return package_arn

    def approve(self, package_arn: str) -> Trace:
        _say("3.", f"A reviewer approves {GROUP}/1 in the Model Registry.")
        self.sagemaker.update_model_package(ModelPackageArn=package_arn, ModelApprovalStatus="Approved")
        approved = self.cloud.settle()
        self.out(approved.timeline())
        self.check(
            "the deployer emitted Deployment Started",
            len(approved.events(detail_type="Deployment Started")) == 1,
        )
        in_service = [
            event
            for event in approved.events(detail_type="SageMaker Endpoint State Change")
            if event["detail"]["EndpointStatus"] == "IN_SERVICE"
        ]
        self.check(
            f"SageMaker Endpoint State Change IN_SERVICE was emitted for {ENDPOINT}", len(in_service) == 1
        )
        outcomes = [
            event["detail"]["outcome"] for event in approved.events(detail_type="Integration Tests Completed")
        ]
        self.check("the tester ran the suite against the live model, and it passed", outcomes == ["passed"])
        return approved

    def show_endpoint(self, package_arn: str) -> dict[str, Any] | None:
        _say("4.", "What now runs in the embedded SageMaker:")
        try:
            endpoint = self.sagemaker.describe_endpoint(EndpointName=ENDPOINT)
        except ClientError as error:
            self.out(f"   nothing: {error}")
            self.check(f"endpoint {ENDPOINT} exists", False)
            return None
        config = self.sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        variant = config["ProductionVariants"][0]
        model = self.sagemaker.describe_model(ModelName=variant["ModelName"])
        tags = {
            t["Key"]: t["Value"]
            for t in self.sagemaker.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]
        }
        serving = model["Containers"][0]["ModelPackageName"]
        self.out(f"   endpoint  {ENDPOINT}: {endpoint['EndpointStatus']}")
        instances = f"{variant['InitialInstanceCount']} x {variant['InstanceType']}"
        self.out(f"   config    {config['EndpointConfigName']}: {instances}")
        self.out(f"   model     {model['ModelName']} from {serving}")
        for key, value in sorted(tags.items()):
            self.out(f"   tag       {key} = {value}")
        self.check(f"endpoint {ENDPOINT} is InService", endpoint["EndpointStatus"] == "InService")
        self.check("the endpoint serves the approved version", serving == package_arn)
        self.check(
            "the endpoint carries the contract's tags",
            tags.get("mlops:project") == PROJECT
            and tags.get("mlops:stage") == "dev"
            and tags.get("mlops:managed-by") == self.cloud.stack_name
            and tags.get("mlops:model-package-arn") == package_arn
            and tags.get("mlops:commit-id") == COMMIT_ID,
        )
        return dict(endpoint)

    def show_slack(self) -> None:
        _say("5.", "What the team read in Slack:")
        for message in self.cloud.slack_messages:
            self.out(f"   {_headline(message)}")
        self.check(
            "Slack heard of the deployment and of the test results", len(self.cloud.slack_messages) >= 2
        )

    def deliver_again(self, approved: Trace, endpoint: dict[str, Any]) -> None:
        _say("6.", "EventBridge delivers at least once: the same approval arrives again.")
        [approval] = approved.events(detail_type="SageMaker Model Package State Change")
        again = self.cloud.send(approval)
        self.out(again.timeline())
        self.check(
            "the duplicate changed nothing",
            not again.events(detail_type="Deployment Started")
            and self.sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
            == endpoint["EndpointConfigName"],
        )


def _headline(message: dict[str, Any]) -> str:
    """A Slack message in one line: its header block's text, else its fallback text."""
    for block in message.get("blocks", []):
        if block.get("type") == "header":
            return str(block["text"]["text"])
    return str(message.get("text", ""))


def _report(checks: list[Check], started: float, out: Callable[[str], None]) -> int:
    _say("Checks", f"({time.perf_counter() - started:.1f} s)")
    for item in checks:
        out(f"   {'ok  ' if item.passed else 'FAIL'} {item.description}")
    failed = [item for item in checks if not item.passed]
    out(
        "\nThe control plane did everything it should." if not failed else f"\n{len(failed)} check(s) failed."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run())
