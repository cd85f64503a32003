"""What the sample events of ``events/`` name, made to exist on a fresh local cloud.

``python -m mlops_local invoke|send`` start here (unless ``--empty``), so that the README's examples
show the control plane at work rather than "does not exist": the samples are about project ``demo``
and version 1 of its model group ``demo-dev``, at commit `SAMPLE_COMMIT`.

- Project ``demo`` is created as its Service Catalog product creates it: the project lifecycle answers
  ``events/project-create.json``'s request (a local repository, model groups ``demo-feature``,
  ``demo-dev`` and ``demo-prod``, the project's record), and its ``Project Created`` is delivered.
- Version 1 of ``demo-dev`` is registered as a pipeline registers it (the demo model, lineage) and
  approved. Its events are not delivered: ``events/model-package-approved.json`` *is* that approval's
  event, which the example then sends or invokes with.
"""

import json
from pathlib import Path
from typing import Any

from mlops_local.cloud import LocalCloud
from mlops_local.demo_model import GOOD_MODEL, register_demo_version
from mlops_local.errors import LocalCloudError

EVENTS = Path(__file__).resolve().parents[2] / "events"
PROJECT_REQUEST = EVENTS / "project-create.json"
PROJECT_FUNCTION = "ProjectLifecycleFunction"
SAMPLE_GROUP = "demo-dev"
SAMPLE_COMMIT = "5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f"


def prepare(cloud: LocalCloud) -> list[str]:
    """Make what the samples name; what was made, one line each (for the CLI to say)."""
    request: dict[str, Any] = json.loads(PROJECT_REQUEST.read_text(encoding="utf-8"))
    properties = {k: v for k, v in request["ResourceProperties"].items() if k != "ServiceToken"}
    project = properties["SageMakerProjectName"]
    answer = cloud.request_custom_resource(
        PROJECT_FUNCTION,
        "Create",
        properties,
        logical_id=request["LogicalResourceId"],
        resource_type=request["ResourceType"],
    )
    if answer.status != "SUCCESS":
        raise LocalCloudError(f"could not create the sample project {project}: {answer.reason}")
    cloud.settle()  # Project Created
    arn = register_demo_version(
        cloud.session,
        SAMPLE_GROUP,
        GOOD_MODEL,
        commit_id=SAMPLE_COMMIT,
        repository=project,
        dataset=f"s3://data/{project}/train.csv",
    )
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    cloud.discard_pending_events()  # the sample event is this approval's
    return [
        f"project {project} ({PROJECT_REQUEST.relative_to(EVENTS.parent)}): model groups "
        f"{answer.data.get('ModelGroups', '')}",
        f"{arn}: the demo model, approved (its event is events/model-package-approved.json)",
    ]
