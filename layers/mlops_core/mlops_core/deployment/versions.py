"""What a deployment deploys, and what each backend says about its versions.

The deployer's flow is one (roll out, roll back, pending deployments, housekeeping); what differs
between the backends a version can come from is said by the backend's :class:`VersionSource`: how a
version is checked as deployable now (and the container ``CreateModel`` gets), the tag that names it
on an endpoint, what a ``PENDING`` record stores and how it is rebuilt, and what undoing a live
version means (where it is live, whether it is still to be undone, what the endpoint goes back to).
Two sources exist: the SageMaker Model Registry (:mod:`mlops_core.deployment.registry_versions`) and
MLflow (:mod:`mlops_core.deployment.mlflow_versions`).

Also here: :class:`DeploymentRequest`, one deployment as every part of the deployer sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from mlops_core.contract.deployment_settings import ProjectDeploymentSettings
from mlops_core.contract.naming import StageResource, parse_versioned_resource_name
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.sagemaker_resources import Endpoint, EndpointConfig

Known = Mapping[str, "Endpoint | None"]
"""Endpoints already described strongly (DescribeEndpoint) in this invocation, by name; None = gone."""


class DeployableVersion(Protocol):
    """What a deployment puts on an endpoint. ``arn`` is its identity (a model package ARN, or
    ``models:/{model}/{version}``): the value of its ``identity_tag`` and the events'
    ``model_package_arn``."""

    identity_tag: ClassVar[str]
    newest_wins: ClassVar[bool]
    """True: a lower version number than the live one is stale, and the highest pending version
    wins. False: the backend says what is current (checked before anything is stored), and the
    last deployment deferred wins, so moving back to an older version is a deployment."""
    shadows: ClassVar[bool]
    """Whether a challenger in ``shadow`` mode becomes the champion's shadow variant."""

    @property
    def arn(self) -> str: ...
    @property
    def version(self) -> int: ...
    def pending_record(self) -> dict[str, Any]:
        """What the PENDING item stores to rebuild this version when it is applied."""
        ...

    def rollback_reason(self) -> tuple[str, str]:
        """(trigger, reason) of ``Deployment Rolled Back`` when this version is undone."""
        ...


@dataclass(frozen=True)
class CheckedVersion:
    """A version found deployable now: the ``CreateModel`` container (``{"Containers": [...]}`` or
    ``{"PrimaryContainer": ...}``), what the model's name is a fingerprint of, and its commit."""

    model_request: Mapping[str, Any]
    fingerprint: tuple[object, ...]
    commit_id: str | None = None


@dataclass(frozen=True)
class DeploymentRequest:
    """One deployment to carry out: ``version`` (from ``versions``) of ``source``'s group onto
    ``target``'s endpoint."""

    source: StageResource  # the stage whose group the version comes from
    target: StageResource  # the stage whose endpoint is changed (the champion, for a shadow)
    version: DeployableVersion
    versions: VersionSource  # the backend the version comes from
    rolled_back: DeployableVersion | None = None  # set when this deployment undoes another version
    pending_version: int | None = None  # carrying out the PENDING deployment stored with this version
    known: Known = field(default_factory=dict)  # endpoints described strongly in this invocation
    seen: Endpoint | None = None  # the target endpoint as already found (Search) in this invocation

    @property
    def shadow(self) -> bool:
        return self.source != self.target


@dataclass(frozen=True)
class LiveVersion:
    """Where a version to undo is live: on ``target``'s endpoint (the champion's, for a shadow),
    with that endpoint's config when it was read to find the version."""

    target: StageResource
    endpoint: Endpoint
    config: EndpointConfig | None = None


@dataclass(frozen=True)
class StoredDeployment:
    """A stored PENDING record, rebuilt by the source that wrote it: deploy ``version``, or (``undo``)
    roll it back if it is still live."""

    version: DeployableVersion
    versions: VersionSource
    undo: bool = False


class VersionSource(Protocol):
    """A backend's versions: what the deployer's one flow asks of the backend a version comes from."""

    @property
    def identity_tag(self) -> str:
        """The tag whose value names the version an endpoint (or an endpoint config) serves."""
        ...

    def check(
        self, request: DeploymentRequest, project: ProjectDeploymentSettings, record: Mapping[str, Any] | None
    ) -> CheckedVersion | Outcome:
        """Is ``request.version`` deployable now (read again from its backend: a pending deployment
        is checked again when applied)? Its container, or why not: ``failed``, or ``ignored`` and
        ``skipped`` for a version no longer current (which ends a pending deployment of it)."""
        ...

    def live_identity(
        self, request: DeploymentRequest, endpoint: Endpoint, config: EndpointConfig | None
    ) -> str | None:
        """The identity of this source's version live where ``request`` deploys: the endpoint's
        version, or for a shadow the champion's shadow (read from ``config``); None: unknown."""
        ...

    def rebuild(self, record: Mapping[str, Any]) -> StoredDeployment | None:
        """The deployment a PENDING record stores (None: the record is not one of this source's)."""
        ...

    def find_live(self, request: DeploymentRequest) -> LiveVersion | str:
        """Where ``request.version``, to be undone, is live; or why there is nothing to roll back."""
        ...

    def why_keep(self, undone: DeployableVersion) -> str | None:
        """Why a live version to be undone stays after all (approved again, named by its alias
        again: events come out of order); None: undo it."""
        ...

    def rollback_target(self, request: DeploymentRequest, live: LiveVersion) -> DeployableVersion | str:
        """The version the endpoint goes back to when ``request.version`` is undone, or why none exists."""
        ...

    def identity_in(self, tags: Mapping[str, str], group: str, version: int) -> str | None:
        """Version ``version`` of what an endpoint's tags name, if they name a version of this source
        (``group``: the endpoint's name, which is its registry group's name); else None."""
        ...

    def serves(self, identity: str, endpoint: Endpoint) -> bool:
        """Whether ``endpoint`` serves the version ``identity`` names (an identity tag's value: a
        config holding only a new shadow names the challenger's version, not the one it serves)."""
        ...


def version_of_config(endpoint_name: str, config_name: str | None) -> int | None:
    """The version an endpoint config named ``{endpoint}-v{version}-…`` serves (None: not ours)."""
    parsed = parse_versioned_resource_name(config_name) if config_name else None
    return parsed[1] if parsed is not None and parsed[0] == endpoint_name else None
