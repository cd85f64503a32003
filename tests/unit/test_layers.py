"""The layout of mlops_core holds: the domain packages reach AWS (and Slack) only through their ports,
and the adapters know of each component only its ports."""

from __future__ import annotations

import ast
from pathlib import Path

import mlops_core
import pytest

PACKAGE = Path(mlops_core.__file__).parent
DOMAIN_PACKAGES = (
    "deployment",
    "integration_tests",
    "mlflow_aliases",
    "notifications",
    "projects",
    "promotion",
    "reaper",
)
SERVICE_CLIENTS = ("boto3", "botocore", "slack_sdk")
# What adapters may import of a component: its ports, and the values the ports speak that live in a
# module of their own (the suite schema the suite store keeps, the Slack message the sender posts).
COMPONENT_MODULES_FOR_ADAPTERS = {f"mlops_core.{package}.ports" for package in DOMAIN_PACKAGES} | {
    "mlops_core.integration_tests.suites",
    "mlops_core.notifications.slack_messages",
}


def imported_modules(path: Path) -> set[str]:
    """Every module the file imports, anywhere in it (function-local and type-checking imports too)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def modules_of(package: str) -> list[Path]:
    return sorted((PACKAGE / package).glob("*.py"))


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_domain_packages_import_no_aws_or_slack_client(package):
    offending = {
        f"{path.name}: {module}"
        for path in modules_of(package)
        for module in imported_modules(path)
        if module.split(".")[0] in SERVICE_CLIENTS
    }
    assert not offending


def test_adapters_import_only_the_ports_of_the_components():
    offending = {
        f"{path.name}: {module}"
        for path in modules_of("adapters")
        for module in imported_modules(path)
        if module.split(".")[:2] in [["mlops_core", package] for package in DOMAIN_PACKAGES]
        and module not in COMPONENT_MODULES_FOR_ADAPTERS
        and module.rpartition(".")[0] not in COMPONENT_MODULES_FOR_ADAPTERS  # a name from one of them
    }
    assert not offending


def _mlops_core_package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "mlops_core" and len(parts) > 1 else None


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_a_domain_package_imports_neither_adapters_nor_handlers_nor_another_component(package):
    """The dependency rule (docs/architecture.md): a component sees the contract, settings and
    observability, and reaches the outside only through its own ports, which the wiring fills."""
    offending = {
        f"{path.name}: {module}"
        for path in modules_of(package)
        for module in imported_modules(path)
        if _mlops_core_package(module) in {"adapters", "handlers", *DOMAIN_PACKAGES} - {package}
    }
    assert not offending


def test_the_contract_imports_nothing_of_mlops_core_but_itself():
    offending = {
        f"{path.name}: {module}"
        for path in modules_of("contract")
        for module in imported_modules(path)
        if _mlops_core_package(module) not in (None, "contract")
    }
    assert not offending
