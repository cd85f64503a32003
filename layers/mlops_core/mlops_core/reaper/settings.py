"""The endpoint reaper's settings (its environment in template.yaml), validated at its cold start."""

from pydantic import Field

from mlops_core.settings import ControlPlaneSettings, StageSet


class ReaperSettings(ControlPlaneSettings):
    """The endpoint reaper. Production stages in ``REAPABLE_STAGES`` are ignored, never reaped."""

    reapable_stages: StageSet = Field(alias="REAPABLE_STAGES")
    dry_run: bool = Field(default=False, alias="REAPER_DRY_RUN")
    # Where a run's full report goes when it does not fit in its event (ReaperReportBucket).
    report_bucket: str | None = Field(default=None, alias="REAPER_REPORT_BUCKET")
