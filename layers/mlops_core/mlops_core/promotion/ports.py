"""What the artifact copier needs from outside, in its own terms: the model registry, the artifact
store, the project records, the repository's tags and the promotion ledger. The adapters
(:mod:`mlops_core.adapters.sagemaker`, :mod:`mlops_core.adapters.s3`,
:mod:`mlops_core.adapters.promotion_records`, :mod:`mlops_core.adapters.codecommit`) implement these
ports and raise :class:`PromotionServiceError` for a call that failed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlparse

from mlops_core.contract.aws_events import ModelApprovalStatus
from mlops_core.contract.events.integration_tests import TestOutcome
from mlops_core.contract.tags import METADATA_OUTCOME, METADATA_RUN_ID

# A claim on a promotion older than this is abandoned (the Lambda timeout is 15 minutes).
CLAIM_STALE_AFTER = timedelta(minutes=20)


class PromotionServiceError(RuntimeError):
    """A call of one of the copier's ports failed; the message says how (``Code: Message``).

    ``retryable``: throttling, a service-side failure or the connection, which a later attempt may get
    past (the copier raises, so Lambda retries); otherwise a retry would fail the same way (the copier
    reports ``Promotion Failed``)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class RegisteredVersion:
    """One model version, as much of it as the copier needs (``description`` is DescribeModelPackage's)."""

    arn: str
    group: str
    version: int
    approval_status: str
    description: Mapping[str, Any] = field(default_factory=dict)

    @property
    def commit_id(self) -> str | None:
        value = (self.description.get("MetadataProperties") or {}).get("CommitId")
        return str(value) if value else None

    @property
    def metadata(self) -> Mapping[str, str]:
        return self.description.get("CustomerMetadataProperties") or {}

    @property
    def test_outcome(self) -> str | None:
        return self.metadata.get(METADATA_OUTCOME)

    @property
    def test_run_id(self) -> str | None:
        return self.metadata.get(METADATA_RUN_ID)

    @property
    def approved(self) -> bool:
        return self.approval_status == ModelApprovalStatus.APPROVED.value

    @property
    def passed(self) -> bool:
        return self.test_outcome == TestOutcome.PASSED.value

    @property
    def identity(self) -> str:
        """A digest of the ARN and the creation time: a version of a re-created group (same ARN,
        version numbers restarted) has another identity."""
        created = self.description.get("CreationTime")
        stamp = created.isoformat() if isinstance(created, datetime) else str(created or "")
        return hashlib.sha256(f"{self.arn}|{stamp}".encode()).hexdigest()


class ProjectsPort(Protocol):
    def get_project(self, project: str) -> dict[str, Any] | None: ...


class RepositoryTagsPort(Protocol):
    def tags(self, repository_arn: str) -> Mapping[str, str] | None:
        """The tags, or None when they cannot be read (then the repository is treated as no project's)."""
        ...


class RegistryPort(Protocol):
    def approved_versions(self, group: str) -> Iterator[RegisteredVersion]:
        """The group's approved versions, newest first (none if there is no such group)."""
        ...

    def recent_versions(self, group: str) -> Iterator[RegisteredVersion]:
        """All the group's versions, newest first (none if there is no such group)."""
        ...

    def describe_version(self, arn: str) -> RegisteredVersion | None: ...

    def group_tags(self, group: str) -> Mapping[str, str] | None:
        """The model group's tags (its versions use them), or None when there is no such group."""
        ...

    def create_group(self, group: str, tags: Mapping[str, str]) -> bool:
        """Create the group with its tags; False when it exists already."""
        ...

    def register_version(self, request: dict[str, Any]) -> str:
        """CreateModelPackage's request → the new version's ARN."""
        ...


class ArtifactStorePort(Protocol):
    def size(self, url: str) -> int | None:
        """The object's size, or None when there is none."""
        ...

    def list_prefix(self, url: str) -> list[tuple[str, int]]:
        """Every object under an ``s3://bucket/prefix/`` (its key relative to the prefix, its size)."""
        ...

    def copy(self, source_url: str, target_url: str, *, kms_key_id: str | None) -> None: ...


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` → (bucket, key)."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an S3 URL: {url!r}")
    return parsed.netloc, parsed.path.lstrip("/")


@dataclass(frozen=True)
class LedgerEntry:
    copies: Mapping[str, str]  # target group → the copy's ARN
    owner: str | None = None


class PromotionLedgerPort(Protocol):
    def read(self, key: Mapping[str, str]) -> LedgerEntry | None: ...

    def claim(self, key: Mapping[str, str], *, owner: str, now: datetime, source_arn: str) -> bool:
        """Claim the promotion unless someone else holds a claim younger than
        :data:`CLAIM_STALE_AFTER`; True when claimed."""
        ...

    def record(self, key: Mapping[str, str], group: str, arn: str) -> None: ...
    def release(self, key: Mapping[str, str], *, owner: str) -> None: ...
