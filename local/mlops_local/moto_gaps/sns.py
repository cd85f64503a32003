"""SNS's gaps in moto, filled: subscriptions declared in a template, and deliveries to Lambda.

- `AWS::SNS::Subscription` subscribes the endpoint (moto skips it; SAM's `SNS` event source makes one).
- A message to a `lambda` subscription is handed to the local cloud (`aws_events.deliver_sns`) as the
  event Lambda receives from SNS (Lambda Developer Guide, "Using Lambda with Amazon SNS": one record
  per invocation), instead of moto's Lambda in Docker. Lambda invokes the function asynchronously,
  with its retries and its on-failure destination.
"""

from datetime import UTC, datetime
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.sns.models import Subscription, sns_backends

from mlops_local import aws_events
from mlops_local.moto_gaps.template_resources import TemplateResource


class _SnsSubscription(TemplateResource, CloudFormationModel):
    """AWS::SNS::Subscription: AWS applies it with Subscribe; `Ref` gives the subscription ARN."""

    TYPE = "AWS::SNS::Subscription"

    @classmethod
    def create(
        cls, properties: Any, resource_name: str, account_id: str, region_name: str
    ) -> "_SnsSubscription":
        topic_arn = properties["TopicArn"]
        backend = sns_backends[account_id][topic_arn.split(":")[3]]
        subscription = backend.subscribe(topic_arn, properties["Endpoint"], properties["Protocol"])
        return cls(subscription.arn)


def lambda_event(
    subscription: Subscription, message: str, message_id: str, subject: str | None
) -> dict[str, Any]:
    """The event Lambda receives from SNS for one message."""
    now = datetime.now(UTC)
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription.arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": subscription.topic.arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "EXAMPLE",
                    "UnsubscribeUrl": "EXAMPLE",
                    "MessageAttributes": {},
                },
            }
        ]
    }


_moto_publish = Subscription.publish


def _publish(
    self: Subscription, message: str, message_id: str, subject: str | None = None, **kwargs: Any
) -> None:
    if self.protocol != "lambda":
        _moto_publish(self, message, message_id, subject=subject, **kwargs)
        return
    aws_events.deliver_sns(self.endpoint, lambda_event(self, message, message_id, subject))


def patch() -> None:
    Subscription.publish = _publish  # type: ignore[method-assign,assignment]
