"""Stages and scenarios: which model groups and endpoints a project has, and where promotion goes.

Baseline projects have ``feature``, ``dev`` and ``prod``; advanced projects replace ``prod`` by
``champion`` and ``challenger``. Each stage has one model group and one endpoint, both named
``{project}-{stage}`` (see :mod:`mlops_core.contract.naming`).
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    FEATURE = "feature"
    DEV = "dev"
    PROD = "prod"
    CHAMPION = "champion"
    CHALLENGER = "challenger"

    @property
    def is_production(self) -> bool:
        """Production stages are deployed by a prod account and never reaped."""
        return self in PRODUCTION_STAGES


class Scenario(StrEnum):
    BASELINE = "baseline"
    ADVANCED = "advanced"


PRODUCTION_STAGES = frozenset({Stage.PROD, Stage.CHAMPION, Stage.CHALLENGER})

SCENARIO_STAGES: dict[Scenario, tuple[Stage, ...]] = {
    Scenario.BASELINE: (Stage.FEATURE, Stage.DEV, Stage.PROD),
    Scenario.ADVANCED: (Stage.FEATURE, Stage.DEV, Stage.CHAMPION, Stage.CHALLENGER),
}

# A merge into the `prod` branch promotes the tested `dev` version into these stages' groups.
PROMOTION_TARGETS: dict[Scenario, tuple[Stage, ...]] = {
    Scenario.BASELINE: (Stage.PROD,),
    Scenario.ADVANCED: (Stage.CHAMPION, Stage.CHALLENGER),
}

PROMOTION_SOURCE = Stage.DEV


def stages_of(scenario: Scenario) -> tuple[Stage, ...]:
    """The stages (and so the model groups and endpoints) of a project in this scenario."""
    return SCENARIO_STAGES[scenario]


def promotion_targets(scenario: Scenario) -> tuple[Stage, ...]:
    """Where a merge into `prod` copies the tested dev version, in this scenario."""
    return PROMOTION_TARGETS[scenario]


def parse_stages(value: str) -> frozenset[Stage]:
    """Parse a comma-separated stage list (the `DeployedStages` stack parameter).

    Raises ValueError naming the unknown stage, so a misconfigured stack fails at cold start.
    """
    names = [part.strip() for part in value.split(",") if part.strip()]
    if not names:
        raise ValueError("no stages given")
    stages = set()
    for name in names:
        try:
            stages.add(Stage(name))
        except ValueError:
            allowed = ", ".join(stage.value for stage in Stage)
            raise ValueError(f"unknown stage {name!r} (allowed: {allowed})") from None
    return frozenset(stages)
