"""The config table adapter against moto: the PENDING deployment's conditions hold in DynamoDB."""

from __future__ import annotations

from mlops_core.adapters.config_table import ConfigTable


def test_the_newest_pending_version_wins_whatever_the_order_and_a_stale_delete_keeps_it(aws):
    table = ConfigTable(aws.client("dynamodb"), "mlops-config")
    deployment = {"model_package_arn": "arn", "project": "churn", "stage": "prod"}

    assert table.put_pending_deployment("churn-prod", deployment, version=3) is True
    assert table.put_pending_deployment("churn-prod", deployment, version=2) is False
    assert table.put_pending_deployment("churn-prod", deployment, version=3) is False
    table.delete_pending_deployment("churn-prod", version=2)  # an older deployment finishing

    pending = table.get_pending_deployment("churn-prod")
    assert pending is not None and pending["model_package_version"] == 3
    assert isinstance(pending["model_package_version"], int)  # no Decimal leaks out

    table.delete_pending_deployment("churn-prod", version=3)
    assert table.get_pending_deployment("churn-prod") is None
    assert table.get_project("churn") is None
