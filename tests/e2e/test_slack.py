"""Slack on the embedded cloud: what reaches a project's channel, deployed from the real template."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from mlops_core.contract.slack_approvals import APPROVE_ACTION_ID, REJECT_ACTION_ID
from mlops_local import LocalCloud
from mlops_local.moto_gaps.sagemaker_pipelines import fail_execution
from mlops_local.testing import failed_pipeline_run, put_project_record


def own_channel(cloud: LocalCloud, project: str, **fields: Any) -> None:
    """``project``'s record naming a webhook secret of its own (the local cloud's Slack receiver), and
    any other ``fields``."""
    secret = cloud.session.client("secretsmanager").create_secret(
        Name=f"slack/{project}/webhook",
        SecretString=json.dumps({"webhook_url": cloud.slack_webhook_url + f"/{project}"}),
        Tags=[{"Key": "mlops:managed-by", "Value": cloud.deployment.stack_name}],
    )["ARN"]
    put_project_record(
        cloud.session, cloud.outputs["ConfigTableName"], project, slack_webhook_secret=secret, **fields
    )


def test_a_projects_failed_pipeline_run_reaches_its_channel_with_the_failed_step_and_reason(cloud):
    own_channel(cloud, "churn")
    failed_pipeline_run(
        cloud.session, "churn", "dev", step="TrainModel", reason="AlgorithmError: <!channel> out of memory"
    )

    trace = cloud.settle()

    [run] = trace.runs(function="SlackNotifierFunction")
    assert run.succeeded and run.attempts[-1].result["status"] == "sent"
    [message] = [m for m in cloud.slack_messages if "Pipeline" in m["text"]]
    assert message["text"] == ":x: Pipeline churn-dev-build failed"
    text = json.dumps(message["blocks"])
    assert "*Failed step* `TrainModel`: AlgorithmError: &lt;!channel&gt; out of memory" in text
    assert "*Why:* Step TrainModel failed" in text


def test_a_failed_run_of_another_pipeline_in_the_account_matches_no_rule(cloud):
    sagemaker = cloud.session.client("sagemaker")
    sagemaker.create_pipeline(
        PipelineName="nightly-etl",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn="arn:aws:iam::123456789012:role/sagemaker-execution",
    )
    execution = sagemaker.start_pipeline_execution(PipelineName="nightly-etl")["PipelineExecutionArn"]
    fail_execution(
        account=cloud.account_id, region=cloud.region, execution_arn=execution, step="Extract", reason="x"
    )

    trace = cloud.settle()

    assert trace.runs(function="SlackNotifierFunction") == []


# ------------------------------------------------------------------------- approvals from Slack

APPROVER = "U0PRODAPPR"
DEV_APPROVER = "U0DEVAPPR1"
PROMOTED_LINEAGE = {
    "MetadataProperties": {"CommitId": "5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f", "Repository": "churn"},
    "CustomerMetadataProperties": {
        "mlops:dataset": "s3://data/churn/train.csv",
        "mlops:dataset-version": "v42",
        "mlops:metric-auc": "0.91",
        "mlops:source-model-package-arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/7",
        "mlops:source-integration-tests": "passed",
        "mlops:source-test-run-id": "2026-11-25T18:30:00.000000Z",
    },
    "ModelMetrics": {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m/q"}}
    },
}


@pytest.fixture
def prod_cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"DeployedStages": "prod,champion,challenger"}) as local_cloud:
        yield local_cloud


def pending_prod_version(cloud: LocalCloud, approvers: dict[str, list[str]]) -> tuple[str, dict[str, Any]]:
    """A promoted version waiting in ``churn-prod``, announced in the project's channel: (ARN, message)."""
    own_channel(cloud, "churn", slack_approvers=approvers)
    sagemaker = cloud.session.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-prod")
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName="churn-prod",
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        **PROMOTED_LINEAGE,
    )["ModelPackageArn"]
    cloud.settle()
    [message] = [m for m in cloud.slack_messages if "waits for approval" in m["text"]]
    return arn, message


def approval(cloud: LocalCloud, arn: str) -> tuple[str, str | None]:
    described = cloud.session.client("sagemaker").describe_model_package(ModelPackageName=arn)
    return described["ModelApprovalStatus"], described.get("ApprovalDescription")


def test_a_pending_version_is_announced_once_with_lineage_test_evidence_and_buttons(prod_cloud):
    arn, message = pending_prod_version(prod_cloud, {"prod": [APPROVER]})
    text = json.dumps(message["blocks"])

    assert message["text"] == ":raising_hand: churn-prod v1 waits for approval"
    assert "commit `5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f`" in text and "dataset_version `v42`" in text
    assert "metric auc `0.91`" in text
    assert "*Tested in dev:* `churn-dev` v7: integration tests *passed*" in text
    [actions] = [block for block in message["blocks"] if block["type"] == "actions"]
    assert [(b["action_id"], b["value"]) for b in actions["elements"]] == [
        (APPROVE_ACTION_ID, arn),
        (REJECT_ACTION_ID, arn),
    ]
    # a change while pending (metadata) is not announced again
    prod_cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, CustomerMetadataProperties={"mlops:note": "x"}
    )
    prod_cloud.settle()
    assert len([m for m in prod_cloud.slack_messages if "waits for approval" in m["text"]]) == 1


def test_a_signed_approve_from_a_prod_approver_deploys_prod_and_updates_the_message(prod_cloud):
    arn, message = pending_prod_version(prod_cloud, {"prod": [APPROVER], "dev": [DEV_APPROVER]})

    status = prod_cloud.click_in_slack(message, APPROVE_ACTION_ID, user_id=APPROVER, user_name="jane")

    assert status == 200
    approved, description = approval(prod_cloud, arn)
    assert approved == "Approved"
    assert description is not None and description.startswith(f"Approved in Slack by jane ({APPROVER}) at ")
    [(_, reply)] = prod_cloud.slack_responses
    assert reply["replace_original"] is True
    assert f"*Approved* by <@{APPROVER}>" in reply["text"]
    assert all(block["type"] != "actions" for block in reply["blocks"])  # the buttons are gone
    trace = prod_cloud.settle()
    [started] = trace.events(detail_type="Deployment Started")
    assert started["detail"]["endpoint_name"] == "churn-prod"
    assert started["detail"]["model_package_arn"] == arn


def test_a_replayed_or_double_click_changes_nothing_more(prod_cloud):
    arn, message = pending_prod_version(prod_cloud, {"prod": [APPROVER]})
    assert prod_cloud.click_in_slack(message, APPROVE_ACTION_ID, user_id=APPROVER, user_name="jane") == 200
    first = approval(prod_cloud, arn)
    prod_cloud.settle()

    again = prod_cloud.click_in_slack(message, REJECT_ACTION_ID, user_id=APPROVER, user_name="jane")

    assert again == 200
    assert approval(prod_cloud, arn) == first
    assert prod_cloud.settle().events(source="aws.sagemaker") == []  # no state change, no deployment
    _, reply = prod_cloud.slack_responses[-1]
    assert "is no longer pending: *Approved*" in reply["text"] and "Nothing was changed" in reply["text"]


def test_a_member_who_is_not_an_approver_of_the_stage_is_refused_with_a_reply_only_they_see(prod_cloud):
    arn, message = pending_prod_version(prod_cloud, {"prod": [APPROVER], "dev": [DEV_APPROVER]})

    status = prod_cloud.click_in_slack(message, APPROVE_ACTION_ID, user_id=DEV_APPROVER, user_name="dev")

    assert status == 200
    assert approval(prod_cloud, arn) == ("PendingManualApproval", None)
    [(_, reply)] = prod_cloud.slack_responses
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert f"<@{DEV_APPROVER}> is not an approver of `churn` `prod`" in reply["text"]
    assert prod_cloud.settle().events(source="aws.sagemaker") == []


@pytest.mark.parametrize(
    ("forgery", "expected"),
    [
        ({"signing_secret": "not-the-apps-secret"}, 401),
        ({"seconds_off": -6 * 60}, 401),  # stale: a replay of an old request
        ({"body": b"payload=%7B%22type%22%3A%22block_actions%22%7D"}, 401),  # tampered after signing
    ],
    ids=["wrong-signature", "stale-timestamp", "tampered-body"],
)
def test_a_request_slack_did_not_sign_now_is_refused_and_changes_nothing(prod_cloud, forgery, expected):
    arn, message = pending_prod_version(prod_cloud, {"prod": [APPROVER]})

    if "seconds_off" in forgery:
        forgery = {"timestamp": int(time.time()) + forgery["seconds_off"]}
    status = prod_cloud.click_in_slack(message, APPROVE_ACTION_ID, user_id=APPROVER, **forgery)

    assert status == expected
    assert approval(prod_cloud, arn) == ("PendingManualApproval", None)
    assert prod_cloud.slack_responses == []
    assert prod_cloud.settle().events(source="aws.sagemaker") == []
