"""A throwaway SAM stack with two tiny functions, for the local cloud's own tests.

The throwaway stack keeps these tests independent of the control plane's handlers:
- EchoFunction (rule on the default bus, source `test`): counts its calls in a module global, raises
  when the detail says `fail`, and puts an `Echoed` event on the stack's bus when it says `echo`;
- ListenerFunction (rule on the stack's bus, detail-type `Echoed`): returns what it heard;
- SharedLayer, whose module `echo_shared` EchoFunction imports.
"""

import textwrap
from pathlib import Path

ECHO_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    Handler: app.handler
    Timeout: 10
    Layers:
      - !Ref SharedLayer
    Environment:
      Variables:
        POWERTOOLS_SERVICE_NAME: mlops-control-plane
        EVENT_BUS_NAME: !Ref Bus
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub ${AWS::StackName}-bus
  FailedEvents:
    Type: AWS::SQS::Queue
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: shared/
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Policies:
        - EventBridgePutEventsPolicy:
            EventBusName: !Ref Bus
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        DestinationConfig:
          OnFailure:
            Type: SQS
            Destination: !GetAtt FailedEvents.Arn
      Events:
        Test:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [test]
  ListenerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: listener/
      Events:
        Echoed:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern:
              detail-type: [Echoed]
Outputs:
  SharedLayerArn:
    Value: !Ref SharedLayer
"""

ECHO_FUNCTION = """\
import json
import os

import boto3
from aws_lambda_powertools import Logger
from echo_shared import GREETING

logger = Logger()
CALLS = 0


def handler(event, context):
    global CALLS
    CALLS += 1
    logger.info("echoing", extra={"calls": CALLS})
    print("a plain print")
    detail = event.get("detail", {})
    if detail.get("fail"):
        raise ValueError("asked to fail")
    if detail.get("echo"):
        boto3.client("events").put_events(
            Entries=[
                {
                    "Source": "mlops.echo",
                    "DetailType": "Echoed",
                    "Detail": json.dumps({"echo": detail["echo"]}),
                    "EventBusName": os.environ["EVENT_BUS_NAME"],
                }
            ]
        )
    return {
        "calls": CALLS,
        "bus": os.environ["EVENT_BUS_NAME"],
        "function_name": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        "remaining_ms": context.get_remaining_time_in_millis(),
        "greeting": GREETING,
    }
"""

LISTENER_FUNCTION = """\
def handler(event, context):
    return {"heard": event["detail"]["echo"]}
"""


def write_echo_stack(directory: Path, template: str = ECHO_TEMPLATE) -> Path:
    """Write the throwaway template and its functions into `directory`; return the template's path."""
    for name, module, code in (
        ("echo", "app.py", ECHO_FUNCTION),
        ("listener", "app.py", LISTENER_FUNCTION),
        ("shared", "echo_shared.py", 'GREETING = "hello from the layer"\n'),
    ):
        (directory / name).mkdir()
        (directory / name / module).write_text(code)
    template_path = directory / "template.yaml"
    template_path.write_text(textwrap.dedent(template))
    return template_path


def ping_event(**detail: object) -> dict[str, object]:
    """An event that EchoFunction's rule matches."""
    return {"source": "test", "detail-type": "Ping", "detail": detail}
