"""The endpoint tester's settings (its environment in template.yaml), validated at its cold start."""

from pydantic import Field

from mlops_core.settings import ControlPlaneSettings


class TesterSettings(ControlPlaneSettings):
    test_run_retention_days: int = Field(alias="TEST_RUN_RETENTION_DAYS", ge=1, le=3650)
