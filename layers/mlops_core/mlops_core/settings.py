"""What every function's settings have in common: the environment the template gives each function,
validated at its first invocation. A wrong or missing variable fails that invocation with a message
that names it, instead of failing later in the middle of a deployment. Each component's own settings
are in its package (``deployment.settings``, ``reaper.settings``, ...), so a function defines only its own.
"""

from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from mlops_core.contract.topology import Stage, parse_stages

StageSet = Annotated[
    frozenset[Stage], BeforeValidator(lambda v: parse_stages(v) if isinstance(v, str) else v)
]


class ControlPlaneSettings(BaseModel):
    """What every function of the control plane is given.

    ``defer_build``: the validator is built at the first invocation, not at the cold start's import.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    stack_name: str = Field(alias="STACK_NAME", min_length=1)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    config_table_name: str = Field(alias="CONFIG_TABLE_NAME", min_length=1)
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME", min_length=1)
    deployed_stages: StageSet = Field(alias="DEPLOYED_STAGES")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        return cls.model_validate(dict(environ))


def _comma_separated(value: object) -> object:
    if not isinstance(value, str):
        return value
    return frozenset(part.strip() for part in value.split(",") if part.strip())


IAM_ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$"
# EventBridge Scheduler's schedule group names (its API reference: ``[0-9a-zA-Z-_.]+``, 1-64).
SCHEDULE_GROUP_NAME_PATTERN = r"^[0-9a-zA-Z-_.]{1,64}$"


def or_empty(pattern: str) -> str:
    """``pattern``, or nothing: a setting the template leaves empty when its feature is off."""
    return f"^$|{pattern}"


AccountIds = Annotated[
    frozenset[Annotated[str, Field(pattern=r"^\d{12}$")]], BeforeValidator(_comma_separated)
]


def blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value
