"""Function settings: the environment the template gives each function, validated at cold start.

A wrong or missing variable fails the first invocation with a message that names it, instead
of failing later in the middle of a deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from mlops_core.topology import Stage, parse_stages

StageSet = Annotated[
    frozenset[Stage], BeforeValidator(lambda v: parse_stages(v) if isinstance(v, str) else v)
]


class ControlPlaneSettings(BaseModel):
    """What every function of the control plane is given."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    stack_name: str = Field(alias="STACK_NAME", min_length=1)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    config_table_name: str = Field(alias="CONFIG_TABLE_NAME", min_length=1)
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME", min_length=1)
    deployed_stages: StageSet = Field(alias="DEPLOYED_STAGES")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        return cls.model_validate(dict(environ))


class DeployerSettings(ControlPlaneSettings):
    sagemaker_execution_role_arn: str = Field(
        alias="SAGEMAKER_EXECUTION_ROLE_ARN", pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$"
    )
    default_instance_type: str = Field(alias="DEFAULT_INSTANCE_TYPE", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    default_instance_count: int = Field(alias="DEFAULT_INSTANCE_COUNT", ge=1)
