"""The MLflow alias watcher's state: compare-and-set writes that survive a lost answer."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from mlops_core.adapters.mlflow_alias_table import AliasStateTable
from moto import mock_aws

CONFIG, IDEMPOTENCY = "config", "idempotency"


class LostFirstAnswer:
    """A DynamoDB client whose PutItem is applied, its answer lost, and sent again (what botocore
    does after a 500 that came once DynamoDB had written)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def put_item(self, **request: Any) -> Any:
        self._client.put_item(**request)
        return self._client.put_item(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=CONFIG,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.create_table(
            TableName=IDEMPOTENCY,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_a_change_whose_answer_was_lost_is_still_the_writers(dynamodb):
    state = AliasStateTable(LostFirstAnswer(dynamodb), CONFIG, IDEMPOTENCY)

    assert state.record("churn", "dev", old=None, new=1)
    assert state.record("churn", "dev", old=1, new=2)
    assert state.seen("churn") == {"dev": 2}
    assert state.record("churn", "dev", old=2, new=None)  # removed
    assert state.seen("churn") == {}
    assert state.record("churn", "dev", old=None, new=3)  # set again after its removal
    assert state.seen("churn") == {"dev": 3}


def test_a_writer_that_read_an_older_state_loses(dynamodb):
    state = AliasStateTable(dynamodb, CONFIG, IDEMPOTENCY)
    assert state.record("churn", "dev", old=None, new=1)

    assert not state.record("churn", "dev", old=None, new=1)  # another watcher saw "no alias" too
    assert state.record("churn", "dev", old=1, new=2)
    assert not state.record("churn", "dev", old=1, new=None)  # it read version 1: stale
    assert state.seen("churn") == {"dev": 2}


def test_a_webhook_delivery_claim_whose_answer_was_lost_is_still_the_claimants(dynamodb):
    assert AliasStateTable(LostFirstAnswer(dynamodb), CONFIG, IDEMPOTENCY).claim_delivery("d-1")
    assert not AliasStateTable(dynamodb, CONFIG, IDEMPOTENCY).claim_delivery("d-1")  # a redelivery
