"""Slack on the embedded cloud: what reaches a project's channel, deployed from the real template."""

from __future__ import annotations

import json

from mlops_local import LocalCloud
from mlops_local.moto_gaps.sagemaker_pipelines import fail_execution
from mlops_local.testing import failed_pipeline_run, put_project_record


def own_channel(cloud: LocalCloud, project: str) -> None:
    """``project``'s record naming a webhook secret of its own (the local cloud's Slack receiver)."""
    secret = cloud.session.client("secretsmanager").create_secret(
        Name=f"slack/{project}/webhook",
        SecretString=json.dumps({"webhook_url": cloud.slack_webhook_url + f"/{project}"}),
        Tags=[{"Key": "mlops:managed-by", "Value": cloud.deployment.stack_name}],
    )["ARN"]
    put_project_record(cloud.session, cloud.outputs["ConfigTableName"], project, slack_webhook_secret=secret)


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
