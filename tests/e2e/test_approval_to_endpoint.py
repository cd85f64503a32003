"""An approval in the Model Registry becomes an endpoint, through the template's own wiring."""

from __future__ import annotations

import copy


def endpoint_state(cloud, name: str) -> dict:
    sagemaker = cloud.session.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=name)
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]}
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    return {
        "status": endpoint["EndpointStatus"],
        "config": endpoint["EndpointConfigName"],
        "serving": model["Containers"][0]["ModelPackageName"],
        "tags": tags,
    }


def test_an_approval_in_x_dev_deploys_endpoint_x_dev_with_the_contract_tags(cloud, register, approve):
    arn = register("x-dev")
    cloud.settle()

    approve(arn)
    trace = cloud.settle()

    state = endpoint_state(cloud, "x-dev")
    assert state["status"] == "InService"
    assert state["serving"] == arn
    assert state["tags"] == {
        "mlops:project": "x",
        "mlops:stage": "dev",
        "mlops:managed-by": cloud.stack_name,
        "mlops:model-package-arn": arn,
        "mlops:commit-id": "c0ffee",
    }
    [started] = trace.events(detail_type="Deployment Started")
    assert started["source"] == "mlops.model-deployer"
    statuses = [
        e["detail"]["EndpointStatus"] for e in trace.events(detail_type="SageMaker Endpoint State Change")
    ]
    assert statuses == ["CREATING", "IN_SERVICE"]


def test_the_same_approval_sent_again_changes_nothing(cloud, register, approve):
    arn = register("x-dev")
    approve(arn)
    first = cloud.settle()
    before = endpoint_state(cloud, "x-dev")
    [approval] = [
        e
        for e in first.events(detail_type="SageMaker Model Package State Change")
        if e["detail"]["ModelApprovalStatus"] == "Approved"
    ]

    again = cloud.send(copy.deepcopy(approval))

    assert endpoint_state(cloud, "x-dev") == before
    assert again.events(detail_type="Deployment Started") == []
    assert len(cloud.session.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]) == 1


def test_a_newer_approval_updates_the_endpoint_and_a_late_older_one_is_skipped(cloud, register, approve):
    first, second = register("x-dev"), register("x-dev")
    approve(first)
    cloud.settle()
    approve(second)
    cloud.settle()
    assert endpoint_state(cloud, "x-dev")["serving"] == second

    [late] = [
        e
        for e in cloud.history.events(detail_type="SageMaker Model Package State Change")
        if e["detail"]["ModelPackageArn"] == first and e["detail"]["ModelApprovalStatus"] == "Approved"
    ]
    late = copy.deepcopy(late)
    late["id"] = "redelivered-late"
    trace = cloud.send(late)

    assert endpoint_state(cloud, "x-dev")["serving"] == second
    [skipped] = trace.events(detail_type="Deployment Skipped")
    assert skipped["detail"]["reason"] == "stale"


def test_the_templates_rule_is_what_routes_events(cloud, register, approve):
    """Events that the rule's pattern does not match reach no function."""
    arn = register("x-dev")
    registered = cloud.settle()
    # PendingManualApproval: the deployer's pattern wants Approved (the notifier's announces pending
    # versions of projects; x has no record, so nothing is announced)
    assert registered.invocations(function="ModelDeployerFunction") == []
    assert [i.result["status"] for i in registered.invocations()] == ["not-announced"]

    approve(arn)
    [approval] = cloud.settle().events(detail_type="SageMaker Model Package State Change")
    impostor = copy.deepcopy(approval)
    impostor["id"] = "impostor"
    impostor["source"] = "custom.sagemaker"  # same detail, another source
    assert cloud.send(impostor).invocations() == []
    pending = copy.deepcopy(approval)
    pending["id"] = "pending"
    pending["detail"]["ModelApprovalStatus"] = "PendingManualApproval"  # Approved and Rejected only
    assert cloud.send(pending).invocations(function="ModelDeployerFunction") == []


def test_a_stage_the_stack_does_not_deploy_creates_no_endpoint(cloud, register, approve):
    arn = register("x-prod")  # the default stack deploys feature and dev
    approve(arn)
    trace = cloud.settle()

    [invocation] = trace.invocations(function="ModelDeployerFunction")
    assert invocation.result["status"] == "ignored"
    assert "not deployed by this stack" in invocation.result["reason"]
    assert cloud.session.client("sagemaker").list_endpoints()["Endpoints"] == []


def test_a_malformed_event_through_the_rule_is_logged_and_changes_nothing(cloud):
    event = {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Package State Change",
        "detail": {"ModelApprovalStatus": "Approved", "ModelPackageGroupName": "x-dev"},
    }
    trace = cloud.send(event)

    [invocation] = trace.invocations(function="ModelDeployerFunction")
    assert invocation.result == {"status": "invalid"}
    assert any("Invalid event" in str(line) for line in invocation.logs)
    assert cloud.session.client("sagemaker").list_models()["Models"] == []
    assert trace.events(source="mlops.model-deployer") == []


def test_an_approval_of_a_version_in_an_account_the_stack_does_not_read_fails_once_and_changes_nothing(cloud):
    """Forwarded by a misconfigured rule: answered at once with the reason, not retried into the queue."""
    foreign = "arn:aws:sagemaker:us-east-1:333333333333:model-package/x-dev/1"
    approval = {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Package State Change",
        "account": "333333333333",
        "resources": [foreign],
        "detail": {
            "ModelPackageGroupName": "x-dev",
            "ModelPackageVersion": 1,
            "ModelPackageArn": foreign,
            "ModelApprovalStatus": "Approved",
            "CreationTime": 1700000000000,
        },
    }
    with cloud.recording_aws_requests() as requests:
        trace = cloud.send(approval)

    [run] = [
        run
        for delivery in trace.deliveries
        for run in delivery.runs
        if run.function == "ModelDeployerFunction"
    ]
    assert len(run.attempts) == 1  # no retries
    [failed] = trace.events(detail_type="Deployment Failed")
    assert "whose registry this stack does not read" in failed["detail"]["reason"]
    assert not [r for r in requests if r.service == "sagemaker"]
    queue = cloud.session.client("sqs").receive_message(QueueUrl=cloud.outputs["FailedEventsQueueUrl"])
    assert queue.get("Messages", []) == []
