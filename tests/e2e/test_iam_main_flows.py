"""IAM enforcement over the main flows: every call the functions make is mapped and allowed.

Both demo scenarios run (deployment, integration tests, promotion, rollback, the reaper, the project
lifecycle); every AWS call the functions make must map to IAM (or be on the short documented
allow-list, each entry with its reason) and be allowed by the template's policies.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from mlops_demo import ALL_STAGES, SCENARIOS
from mlops_local import LocalCloud
from mlops_local.demo_model import DEMO_BUCKET
from mlops_local.iam import ALLOWED_UNMAPPED_CALLS

pytestmark = pytest.mark.e2e


def test_the_main_flows_make_no_call_that_iam_enforcement_cannot_map() -> None:
    """Both demo scenarios (deployment, tests, promotion, rollback, reaper, project lifecycle): every
    call the functions make is mapped to IAM and allowed, but for the short documented allow-list."""
    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalCloud(
            parameters={"DeployedStages": ALL_STAGES, "ModelArtifactBucketPattern": DEMO_BUCKET}
        ) as cloud,
    ):
        for scenario, story_class in SCENARIOS.items():
            story = story_class(
                name=scenario, cloud=cloud, out=lambda _line: None, ansi=False, workdir=Path(workdir)
            )
            story.tell()
            assert all(check.passed for check in story.checks), [c for c in story.checks if not c.passed]

    assert len(ALLOWED_UNMAPPED_CALLS) <= 3
    assert all(reason for reason in ALLOWED_UNMAPPED_CALLS.values())
    assert [call for call in cloud.iam.unmapped_calls if not call.allowed] == []
    assert cloud.iam.denials == []
    assert cloud.iam.evaluated_calls > 500
