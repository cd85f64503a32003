"""Each function imports only what it uses: its own component, the adapters its wiring makes, the
handler shape, the contract, and of the domain events only those it emits or reads.

A function's cold start is its handler module's import (Lambda's Init Duration) plus its first
invocation, so a module another component uses (its logic, its ports, its events, its settings) is
pure cost there. Each function is imported in a fresh interpreter, as Lambda does, with its directory
and the layer on the path. The cold start benchmark (benchmarks/cold_start.py) counts, in a function's
first event, the modules its code imports only where it uses them: tests here check what it finds.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"
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
# What a function's code imports only where it uses it, on the routes that need it.
SLACK_WEBHOOK_CLIENT = {
    "slack_sdk.http_retry.builtin_handlers",
    "slack_sdk.http_retry.builtin_interval_calculators",
    "slack_sdk.http_retry.jitter",
    "slack_sdk.webhook",
}
FIRST_USE_IMPORTS = {
    "mlflow_alias_watcher": {"mlflow"},  # a poll or a webhook, with a tracking URI set
    "slack_notifier": SLACK_WEBHOOK_CLIENT,  # a message sent
    # a click: its signature checked, the message answered (the webhook module has both Slack adapters)
    "slack_approvals": {"slack_sdk.signature", *SLACK_WEBHOOK_CLIENT},
}


@functools.cache
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


def cold_start_benchmark(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # it imports its sibling benchstats
    spec = importlib.util.spec_from_file_location("cold_start", BENCHMARKS / "cold_start.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "cold_start", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_finds_the_imports_a_module_makes_where_it_uses_them(tmp_path, monkeypatch):
    source = tmp_path / "adapter.py"
    source.write_text(
        "import json\n"
        "def send():\n"
        "    import slack_sdk.webhook\n"
        "    from slack_sdk.signature import SignatureVerifier\n"
        "    from mlops_core.promotion.ports import RegisteredVersion\n"
        "    from . import sibling\n"
    )

    assert cold_start_benchmark(monkeypatch).first_use_imports(source) == {
        "slack_sdk.webhook",
        "slack_sdk.signature",
    }


@pytest.mark.parametrize("function", sorted(FUNCTION_IMPORTS))
def test_the_benchmark_counts_what_a_function_imports_at_first_use(function, monkeypatch):
    """A function's cold start in the benchmark is `import app` and its first event, which also loads
    what the function's code imports where it uses it: found in app.py and every layer module it loads."""
    benchmark = cold_start_benchmark(monkeypatch)

    found = benchmark.function_first_use_imports(FUNCTIONS / function, LAYER)

    assert found == FIRST_USE_IMPORTS.get(function, set())
