"""The demo's closing table: what exists in the local cloud at the end, and what was removed, by whom.

:func:`table` lays out rows in aligned columns (plain text); :func:`collect` reads the state from the
cloud (endpoints with their status and the version they serve, model groups with their versions and
approvals, repositories and branches, project records); :func:`summary_lines` puts both together with
the removals the story recorded (:class:`Removal`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_core.contract.naming import parse_model_package_arn
from mlops_local import LocalCloud

from mlops_demo.repository import branches

COLUMN_GAP = "  "


@dataclass(frozen=True)
class Removal:
    """Something the story saw go: what it was, which part of the control plane removed it, and why."""

    what: str
    by: str
    why: str


@dataclass(frozen=True)
class State:
    """What exists, as rows of the summary's tables."""

    endpoints: list[tuple[str, ...]]
    model_groups: list[tuple[str, ...]]
    repositories: list[tuple[str, ...]]
    projects: list[tuple[str, ...]]


ENDPOINT_HEADERS = ("endpoint", "status", "serves", "shadow", "last rollout")
GROUP_HEADERS = ("model group", "versions", "approval (v1, v2, ...)")
REPOSITORY_HEADERS = ("repository", "where", "branches")
PROJECT_HEADERS = ("project", "scenario", "status", "model groups")
REMOVAL_HEADERS = ("removed", "by", "why")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, indent: str = "   ") -> list[str]:
    """Rows under their headers in aligned columns (the last column is not padded); "-" for no rows."""
    widths = [len(header) for header in headers]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"a row has {len(row)} cells for {len(headers)} columns: {row!r}")
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells[:-1], widths, strict=False)]
        return (indent + COLUMN_GAP.join([*padded, cells[-1]])).rstrip()

    rule = [("-" * width) for width in widths]
    return (
        [line(headers), line(rule), *(line(row) for row in rows)] if rows else [line(headers), indent + "-"]
    )


def summary_lines(state: State, removals: Sequence[Removal]) -> list[str]:
    sections = [
        ("Endpoints", ENDPOINT_HEADERS, state.endpoints),
        ("Model groups", GROUP_HEADERS, state.model_groups),
        ("Repositories", REPOSITORY_HEADERS, state.repositories),
        ("Project records", PROJECT_HEADERS, state.projects),
    ]
    lines = ["What exists now:"]
    for title, headers, rows in sections:
        lines.append(f"  {title}")
        lines.extend(table(headers, rows))
    lines.append("What was removed:")
    lines.extend(table(REMOVAL_HEADERS, [(r.what, r.by, r.why) for r in removals]))
    return lines


def collect(cloud: LocalCloud) -> State:
    sagemaker = cloud.session.client("sagemaker")
    return State(
        endpoints=_endpoints(sagemaker),
        model_groups=_model_groups(sagemaker),
        repositories=_repositories(cloud.git_root),
        projects=_projects(cloud),
    )


def _endpoints(sagemaker: Any) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for summary in sorted(sagemaker.list_endpoints()["Endpoints"], key=lambda e: e["EndpointName"]):
        endpoint = sagemaker.describe_endpoint(EndpointName=summary["EndpointName"])
        config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        serves = [_served(sagemaker, variant) for variant in config["ProductionVariants"]]
        shadows = [_served(sagemaker, variant) for variant in config.get("ShadowProductionVariants") or []]
        rollout = endpoint.get("LastDeploymentConfig") or {}
        routing = rollout.get("BlueGreenUpdatePolicy", {}).get("TrafficRoutingConfiguration", {})
        alarms = rollout.get("AutoRollbackConfiguration", {}).get("Alarms", [])
        last = (
            f"blue/green {routing.get('Type', '?').lower()}, {len(alarms)} alarms"
            if routing
            else "all-at-once"
        )
        rows.append(
            (
                endpoint["EndpointName"],
                endpoint["EndpointStatus"],
                ", ".join(serves),
                ", ".join(shadows) or "-",
                last,
            )
        )
    return rows


def _served(sagemaker: Any, variant: dict[str, Any]) -> str:
    model = sagemaker.describe_model(ModelName=variant["ModelName"])
    package = (model.get("Containers") or [{}])[0].get("ModelPackageName") or model.get(
        "PrimaryContainer", {}
    ).get("ModelPackageName")
    ref = parse_model_package_arn(package) if package else None
    count = variant.get("InitialInstanceCount")
    instances = f" ({count} x {variant.get('InstanceType')})" if count else ""
    return (f"{ref.group} v{ref.version}" if ref else variant["ModelName"]) + instances


def _model_groups(sagemaker: Any) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    groups = sagemaker.list_model_package_groups(MaxResults=100)["ModelPackageGroupSummaryList"]
    for group in sorted(g["ModelPackageGroupName"] for g in groups):
        packages = sagemaker.list_model_packages(ModelPackageGroupName=group, MaxResults=100)[
            "ModelPackageSummaryList"
        ]
        packages = sorted(packages, key=lambda p: p.get("ModelPackageVersion", 0))
        statuses = [str(p.get("ModelApprovalStatus", "?")) for p in packages]
        counted = Counter(statuses)
        versions = f"{len(packages)}" + (
            " (" + ", ".join(f"{n} {status}" for status, n in sorted(counted.items())) + ")"
            if packages
            else ""
        )
        rows.append((group, versions, ", ".join(statuses) or "-"))
    return rows


def _repositories(git_root: Path) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for path in sorted(git_root.glob("*.git")) + sorted((git_root / "archived").glob("*.git")):
        heads = branches(path)
        where = "archived" if path.parent.name == "archived" else "active"
        listed = ", ".join(f"{name} {sha[:7]}" for name, sha in sorted(heads.items()))
        rows.append((path.name, where, listed or "-"))
    return rows


def _projects(cloud: LocalCloud) -> list[tuple[str, ...]]:
    table_name = cloud.outputs["ConfigTableName"]
    items = cloud.session.resource("dynamodb").Table(table_name).scan()["Items"]
    rows: list[tuple[str, ...]] = []
    for item in sorted(items, key=lambda i: str(i["pk"])):
        if not str(item["pk"]).startswith("PROJECT#") or item.get("sk") != "META":
            continue
        groups = item.get("model_groups") or []
        rows.append(
            (
                str(item["project"]),
                str(item.get("scenario", "?")),
                str(item.get("status", "?")),
                str(len(groups)),
            )
        )
    return rows
