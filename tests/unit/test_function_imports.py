"""Each function imports only what it uses: its own component, the adapters its wiring makes, the
handler shape, the contract, and of the domain events only those it emits or reads.

A function's cold start is its handler module's import (Lambda's Init Duration), so a module another
component uses (its logic, its ports, its events, its settings) is pure cost there. Each function is
imported in a fresh interpreter, as Lambda does, with its directory and the layer on the path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO / "functions"
LAYER = REPO / "layers" / "mlops_core"

COMPONENTS = (
    "deployment",
    "integration_tests",
    "mlflow_aliases",
    "notifications",
    "projects",
    "promotion",
    "reaper",
)
# function directory -> (its component, the domain event modules it may load)
FUNCTION_IMPORTS = {
    "model_deployer": ("deployment", {"deployment", "mlflow"}),
    "endpoint_tester": ("integration_tests", {"integration_tests", "deployment"}),  # batch stages
    "artifact_copier": ("promotion", {"promotion", "ci", "integration_tests"}),  # a test run's outcome
    "endpoint_reaper": ("reaper", {"reaper"}),
    "project_lifecycle": ("projects", {"projects"}),
    "mlflow_alias_watcher": ("mlflow_aliases", {"mlflow"}),
    "slack_notifier": ("notifications", set()),  # renders every event from its JSON, imports none
    "slack_approvals": ("notifications", set()),  # Slack interactions: no domain event
}
EVENT_PACKAGE = "mlops_core.contract.events."


def loaded_modules(function: str) -> set[str]:
    code = "import json, sys, app; print(json.dumps(sorted(m for m in sys.modules if m.startswith('mlops_core'))))"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FUNCTIONS / function), str(LAYER)])}
    output = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(output))


def test_every_function_is_listed():
    assert {path.parent.name for path in FUNCTIONS.glob("*/app.py")} == set(FUNCTION_IMPORTS)


@pytest.mark.parametrize("function", sorted(FUNCTION_IMPORTS))
def test_a_function_loads_no_other_component_and_only_its_events(function):
    component, events = FUNCTION_IMPORTS[function]
    loaded = loaded_modules(function)

    other_components = {
        module
        for module in loaded
        if module.split(".")[1:2] and module.split(".")[1] in set(COMPONENTS) - {component}
    }
    assert not other_components
    loaded_events = {
        module.removeprefix(EVENT_PACKAGE) for module in loaded if module.startswith(EVENT_PACKAGE)
    }
    assert loaded_events - {"base"} <= events
    assert f"mlops_core.{component}" in loaded
