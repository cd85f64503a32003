"""Render the catalog of domain events (``EVENTS.md``) from their models.

Run ``python -m mlops_core.catalog > layers/mlops_core/mlops_core/EVENTS.md``; a unit test fails
when the committed catalog differs from what the models say.
"""

from __future__ import annotations

import json

from mlops_core.contract.events.base import DomainEvent
from mlops_core.contract.events.ci import GitBranchUpdated
from mlops_core.contract.events.deployment import (
    DeploymentDeferred,
    DeploymentFailed,
    DeploymentRolledBack,
    DeploymentSkipped,
    DeploymentStarted,
    InServiceCheck,
)
from mlops_core.contract.events.integration_tests import IntegrationTestsCompleted, IntegrationTestsRequested
from mlops_core.contract.events.mlflow import MlflowModelAliasChanged
from mlops_core.contract.events.projects import ProjectCreated, ProjectDeleted
from mlops_core.contract.events.promotion import ModelPromoted, PromotionFailed
from mlops_core.contract.events.reaper import EndpointsReaped, EndpointsReapRequested

CATALOG: tuple[type[DomainEvent], ...] = (
    DeploymentStarted,
    DeploymentSkipped,
    DeploymentFailed,
    DeploymentDeferred,
    DeploymentRolledBack,
    InServiceCheck,
    IntegrationTestsRequested,
    IntegrationTestsCompleted,
    ProjectCreated,
    ProjectDeleted,
    GitBranchUpdated,
    ModelPromoted,
    PromotionFailed,
    EndpointsReapRequested,
    EndpointsReaped,
    MlflowModelAliasChanged,
)
"""Every domain event, in the catalog's order (the events are in one module per producer)."""


def render_event(event: type[DomainEvent]) -> str:
    schema = event.model_json_schema()
    required = set(schema.get("required", []))
    lines = [
        f"## {event.DETAIL_TYPE}",
        "",
        f"`source`: `{event.source()}`. {(event.__doc__ or '').strip()}",
        "",
        "| field | type | required | description |",
        "|---|---|---|---|",
    ]
    for name, field in schema["properties"].items():
        kind = field.get("type") or " or ".join(
            str(option.get("type", option.get("$ref", "").rsplit("/", 1)[-1]))
            for option in field.get("anyOf", [])
        )
        if "$ref" in field:
            kind = field["$ref"].rsplit("/", 1)[-1]
        description = field.get("description", "")
        lines.append(f"| `{name}` | {kind} | {'yes' if name in required else 'no'} | {description} |")
    example = event.model_validate(event.EXAMPLE).detail()
    lines += ["", "```json", json.dumps(example, indent=2), "```", ""]
    return "\n".join(lines)


def render_catalog() -> str:
    header = (
        "# Domain events\n\n"
        "Generated from `mlops_core/contract/events/` by `python -m mlops_core.catalog`; "
        "do not edit by hand.\nEvery event is put on the application bus (`EVENT_BUS_NAME`).\n\n"
    )
    return header + "\n".join(render_event(event) for event in CATALOG)


if __name__ == "__main__":
    print(render_catalog(), end="")
