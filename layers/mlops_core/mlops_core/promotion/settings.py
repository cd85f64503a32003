"""The artifact copier's settings (its environment in template.yaml), validated at its cold start."""

from typing import Literal

from pydantic import Field

from mlops_core.settings import ControlPlaneSettings


class ArtifactCopierSettings(ControlPlaneSettings):
    """The artifact copier: where promoted artifacts go by default, and the copies' approval status."""

    promoted_artifact_bucket: str = Field(alias="PROMOTED_ARTIFACT_BUCKET", min_length=3)
    promotion_approval_status: Literal["PendingManualApproval", "Approved"] = Field(
        default="PendingManualApproval", alias="PROMOTION_APPROVAL_STATUS"
    )
