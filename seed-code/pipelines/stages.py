"""Which model group a branch trains into: the branching model in code.

``feature-*`` branches train into ``{project}-feature`` and ``dev`` into ``{project}-dev``. ``prod``
never trains: a merge into ``prod`` promotes the tested dev version (the control plane copies it), so
asking for a prod pipeline is a mistake this module refuses loudly. Kept free of the SageMaker SDK so
CI can answer "what does this push do?" in milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

PROD_BRANCH = "prod"
DEV_BRANCH = "dev"
FEATURE_PREFIX = "feature-"
_PROJECT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")  # the control plane's own rule
_MAX_PROJECT_LENGTH = 32  # leaves room for "-challenger" and version suffixes in 63-character names


class Stage(StrEnum):
    FEATURE = "feature"
    DEV = "dev"


class BranchAction(StrEnum):
    """What CI does on a push to a branch."""

    TRAIN = "train"  # feature-* and dev: unit tests, then upsert and start the pipeline
    PROMOTE = "promote"  # prod: put `Git Branch Updated` on the application bus, no training
    NONE = "none"  # any other branch: unit tests only


class BranchError(ValueError):
    """A branch that does not train (prod, or a name outside the branching model)."""


def branch_name(ref: str) -> str:
    """``refs/heads/feature-x`` (what CI gives) or ``feature-x`` → ``feature-x``."""
    return ref.removeprefix("refs/heads/").strip()


def action_for(ref: str) -> BranchAction:
    branch = branch_name(ref)
    if branch == PROD_BRANCH:
        return BranchAction.PROMOTE
    if branch == DEV_BRANCH or (branch.startswith(FEATURE_PREFIX) and len(branch) > len(FEATURE_PREFIX)):
        return BranchAction.TRAIN
    return BranchAction.NONE


def stage_for(ref: str) -> Stage:
    """The stage a branch trains for; raises :class:`BranchError` for ``prod`` and unknown branches."""
    branch = branch_name(ref)
    if branch == DEV_BRANCH:
        return Stage.DEV
    if branch.startswith(FEATURE_PREFIX) and len(branch) > len(FEATURE_PREFIX):
        return Stage.FEATURE
    if branch == PROD_BRANCH:
        raise BranchError(
            "prod does not train: merging dev into prod promotes the tested dev model version "
            "(the control plane copies it into the prod model group)"
        )
    raise BranchError(f"branch {branch!r} trains nothing: name it feature-<something>, or merge it into dev")


def validate_project(project: str) -> str:
    if not _PROJECT_NAME.match(project) or len(project) > _MAX_PROJECT_LENGTH:
        raise ValueError(
            f"project name {project!r} must be 1-{_MAX_PROJECT_LENGTH} letters, digits and hyphens"
        )
    return project


@dataclass(frozen=True)
class Target:
    """Where a branch's pipeline runs and registers: all names derive from project and stage."""

    project: str
    stage: Stage

    @classmethod
    def for_branch(cls, project: str, ref: str) -> Target:
        return cls(validate_project(project), stage_for(ref))

    @property
    def model_package_group(self) -> str:
        """``{project}-{stage}``: the group the control plane watches for approvals of this stage."""
        return f"{self.project}-{self.stage}"

    @property
    def pipeline_name(self) -> str:
        return f"{self.project}-{self.stage}-build"
