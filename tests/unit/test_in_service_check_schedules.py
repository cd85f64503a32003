"""The in-service checks' schedule names: within Scheduler's 64 characters for the longest endpoint name,
one per endpoint change and attempt, so a redelivered event schedules nothing new."""

from __future__ import annotations

from mlops_core.adapters.scheduler import check_schedule_name
from mlops_core.contract.events.deployment import InServiceCheck

LONGEST_ENDPOINT = "churn-" + "x" * 53 + "-dev"  # SageMaker's endpoint names: at most 63 characters


def check(
    endpoint: str = "churn-dev", config: str = "churn-dev-v3-81d0e7", attempt: int = 1
) -> InServiceCheck:
    return InServiceCheck(
        project="churn", stage="dev", endpoint_name=endpoint, endpoint_config_name=config, attempt=attempt
    )


def test_a_checks_schedule_name_fits_and_names_its_endpoint_change_and_attempt():
    assert len(LONGEST_ENDPOINT) == 63
    longest = check_schedule_name(check(LONGEST_ENDPOINT))
    assert len(longest) <= 64 and longest.startswith(LONGEST_ENDPOINT[:47])
    assert check_schedule_name(check()) == check_schedule_name(check())
    names = {
        check_schedule_name(check()),
        check_schedule_name(check(attempt=2)),
        check_schedule_name(check(config="churn-dev-v4-1a2b3c")),
    }
    assert len(names) == 3
