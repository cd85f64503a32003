"""Routing like EventBridge, running functions like Lambda, and cascading what they emit."""

import json
import os

from echo_stack import ping_event
from mlops_local import LocalCloud


def test_an_event_no_rule_matches_reaches_no_function(echo_cloud: LocalCloud) -> None:
    trace = echo_cloud.send({"source": "elsewhere", "detail-type": "Ping", "detail": {}})
    assert trace.invocations() == []
    assert [delivery.rules for delivery in trace] == [()]
    assert trace.timeline().endswith("-> no rule matched")


def test_a_matching_event_runs_the_function_with_its_deployed_environment(echo_cloud: LocalCloud) -> None:
    trace = echo_cloud.send(ping_event())
    [invocation] = trace.invocations(function="EchoFunction")
    assert invocation.succeeded
    assert invocation.result["bus"] == "mlops-bus"
    assert invocation.result["function_name"] == echo_cloud.functions["EchoFunction"].name
    assert 0 < invocation.result["remaining_ms"] <= 10_000
    assert invocation.event["source"] == "test"
    assert invocation.event["account"] == echo_cloud.account_id  # the envelope EventBridge adds
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ


def test_the_functions_logs_are_captured_as_json_and_text(echo_cloud: LocalCloud) -> None:
    invocation = echo_cloud.invoke("EchoFunction", ping_event())
    [structured, printed] = invocation.logs
    assert structured["message"] == "echoing"
    assert structured["service"] == "mlops-control-plane"
    assert structured["calls"] == 1
    assert printed == "a plain print"
    second = echo_cloud.invoke("EchoFunction", ping_event())
    assert [line["calls"] for line in second.logs if isinstance(line, dict)] == [2]  # no stale stream


def test_a_raising_function_is_retried_and_its_event_ends_in_the_on_failure_queue(
    echo_cloud: LocalCloud,
) -> None:
    event = ping_event(fail=True)
    trace = echo_cloud.send(event)
    [run] = trace.runs(function="EchoFunction")
    assert [attempt.error.type for attempt in run.attempts if attempt.error] == ["ValueError", "ValueError"]
    assert trace.failures() == [run]
    assert "raised ValueError: asked to fail (2 attempts) -> on-failure" in trace.timeline()

    sqs = echo_cloud.session.client("sqs")
    queue_url = echo_cloud.deployment.resources["FailedEvents"].physical_id
    [message] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"] == echo_cloud.functions["EchoFunction"].arn + ":$LATEST"
    assert record["requestPayload"]["detail"] == {"fail": True}
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "asked to fail"


def test_events_that_functions_emit_are_delivered_in_cascade(echo_cloud: LocalCloud) -> None:
    trace = echo_cloud.send(ping_event(echo="hello"))
    [ping, echoed] = trace.deliveries
    assert [event["detail-type"] for event in ping.runs[0].emitted] == ["Echoed"]
    assert echoed.bus == "mlops-bus"
    assert echoed.emitted_by == "EchoFunction"
    assert echoed.event["detail"] == {"echo": "hello"}
    assert [invocation.result for invocation in trace.invocations(function="ListenerFunction")] == [
        {"heard": "hello"}
    ]
    assert trace.events(detail_type="Echoed") == [echoed.event]
    assert echo_cloud.history.events() == trace.events()


def test_a_direct_invoke_leaves_emitted_events_for_settle(echo_cloud: LocalCloud) -> None:
    invocation = echo_cloud.invoke("EchoFunction", ping_event(echo="later"))
    assert [event["detail-type"] for event in invocation.emitted] == ["Echoed"]
    assert echo_cloud.pending_events == 1
    trace = echo_cloud.settle()
    assert [run.function for run in trace.runs()] == ["ListenerFunction"]
    assert echo_cloud.pending_events == 0


def test_put_events_from_test_code_waits_for_settle(echo_cloud: LocalCloud) -> None:
    echo_cloud.session.client("events").put_events(
        Entries=[{"Source": "test", "DetailType": "Ping", "Detail": json.dumps({"from": "boto3"})}]
    )
    assert echo_cloud.pending_events == 1
    [delivery] = echo_cloud.settle().deliveries
    assert delivery.emitted_by is None
    assert delivery.event["detail"] == {"from": "boto3"}
    assert [run.function for run in delivery.runs] == ["EchoFunction"]


def test_an_invalid_put_events_entry_is_reported_not_delivered(echo_cloud: LocalCloud) -> None:
    response = echo_cloud.session.client("events").put_events(
        Entries=[{"Source": "test", "DetailType": "Ping", "Detail": "[1, 2]"}]
    )
    assert response["FailedEntryCount"] == 1
    assert response["Entries"][0]["ErrorCode"] == "MalformedDetail"
    assert echo_cloud.pending_events == 0


def test_a_handler_that_cannot_be_found_fails_like_lambda(echo_cloud: LocalCloud) -> None:
    (echo_cloud.functions["EchoFunction"].code_dir / "app.py").write_text("def other(event, context): ...\n")
    invocation = echo_cloud.invoke("EchoFunction", {})
    assert invocation.error is not None
    assert invocation.error.type == "Runtime.HandlerNotFound"
    assert invocation.response["errorType"] == "Runtime.HandlerNotFound"


def test_a_rule_matches_only_events_that_arrive_after_it_exists(echo_cloud: LocalCloud) -> None:
    """EventBridge matches an event against the rules that exist when it arrives; the local cloud routes
    later (on settle), so an event put before the rule was created must not reach its target."""
    events = echo_cloud.session.client("events")
    late = {"Source": "late-test", "DetailType": "Arrived early", "Detail": json.dumps({"n": 1})}
    events.put_events(Entries=[late])
    events.put_rule(Name="late-rule", EventPattern=json.dumps({"detail-type": ["Arrived early"]}))
    events.put_targets(
        Rule="late-rule", Targets=[{"Id": "echo", "Arn": echo_cloud.functions["EchoFunction"].arn}]
    )
    try:
        assert echo_cloud.settle().invocations() == []

        events.put_events(Entries=[late])
        [invocation] = echo_cloud.settle().invocations(function="EchoFunction")
        assert invocation.event["detail"] == {"n": 1}
    finally:
        events.remove_targets(Rule="late-rule", Ids=["echo"])
        events.delete_rule(Name="late-rule")


def test_an_input_transformer_fills_its_template_from_the_event(echo_cloud: LocalCloud) -> None:
    events = echo_cloud.session.client("events")
    events.put_rule(Name="transformed", EventPattern=json.dumps({"detail-type": ["Transform me"]}))
    template = '{"commit": "<commit>", "quoted": "at <commit> on <branch>", "raw": <count>, "rule": "<aws.events.rule-name>"}'
    events.put_targets(
        Rule="transformed",
        Targets=[
            {
                "Id": "echo",
                "Arn": echo_cloud.functions["EchoFunction"].arn,
                "InputTransformer": {
                    "InputPathsMap": {
                        "commit": "$.detail.commit",
                        "branch": "$.detail.branch",
                        "count": "$.detail.count",
                    },
                    "InputTemplate": template,
                },
            }
        ],
    )
    try:
        trace = echo_cloud.send(
            {
                "source": "transform-test",  # not EchoFunction's own rule's source
                "detail-type": "Transform me",
                "detail": {"commit": "c0ffee", "branch": 'say "hi"', "count": 3},
            }
        )
        [invocation] = trace.invocations(function="EchoFunction")
        assert invocation.event == {
            "commit": "c0ffee",
            "quoted": 'at c0ffee on say "hi"',  # a string's text, escaped inside the JSON string
            "raw": 3,  # outside quotes: the value's JSON
            "rule": "transformed",
        }
    finally:
        events.remove_targets(Rule="transformed", Ids=["echo"])
        events.delete_rule(Name="transformed")
