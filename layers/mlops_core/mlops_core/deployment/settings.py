"""The model deployer's settings (its environment in template.yaml), validated at its cold start."""

from pydantic import Field

from mlops_core.settings import (
    IAM_ROLE_ARN_PATTERN,
    SCHEDULE_GROUP_NAME_PATTERN,
    AccountIds,
    ControlPlaneSettings,
    or_empty,
)


class DeployerSettings(ControlPlaneSettings):
    """The deployer. ``registry_account_ids``: the accounts whose model versions it deploys (its own,
    and ``RegistryAccountId``'s when the registry is elsewhere); ``region``: its own (Lambda's
    ``AWS_REGION``): a version's ARN must name both."""

    sagemaker_execution_role_arn: str = Field(
        alias="SAGEMAKER_EXECUTION_ROLE_ARN", pattern=IAM_ROLE_ARN_PATTERN
    )
    registry_account_ids: AccountIds = Field(alias="REGISTRY_ACCOUNT_IDS", min_length=1)
    region: str = Field(alias="AWS_REGION", min_length=1)
    default_instance_type: str = Field(alias="DEFAULT_INSTANCE_TYPE", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    default_instance_count: int = Field(alias="DEFAULT_INSTANCE_COUNT", ge=1)
    async_inference_bucket: str = Field(
        default="",
        alias="ASYNC_INFERENCE_BUCKET",
        pattern=r"^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        description="the stack's bucket of asynchronous inference inputs, outputs and failures",
    )
    model_monitor_image_uri: str = Field(
        default="",
        alias="MODEL_MONITOR_IMAGE_URI",
        pattern=r"^$|^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/.+$",
        description="Model Monitor's analyzer image in this region (empty: no monitoring schedules)",
    )
    batch_schedule_group_name: str = Field(
        default="",
        alias="BATCH_SCHEDULE_GROUP_NAME",
        pattern=or_empty(SCHEDULE_GROUP_NAME_PATTERN),
        description="the Scheduler group of the batch stages' schedules (empty: batch stages are refused)",
    )
    batch_scheduler_role_arn: str = Field(
        default="",
        alias="BATCH_SCHEDULER_ROLE_ARN",
        pattern=or_empty(IAM_ROLE_ARN_PATTERN),
        description="the role the batch schedules start transform jobs as",
    )
    in_service_check_schedule_group_name: str = Field(
        default="",
        alias="IN_SERVICE_CHECK_SCHEDULE_GROUP_NAME",
        pattern=or_empty(SCHEDULE_GROUP_NAME_PATTERN),
        description="the Scheduler group of the in-service checks (empty: no checks are scheduled)",
    )
    in_service_check_role_arn: str = Field(
        default="",
        alias="IN_SERVICE_CHECK_ROLE_ARN",
        pattern=or_empty(IAM_ROLE_ARN_PATTERN),
        description="the role the in-service checks' schedules put their event on the bus as",
    )
    event_bus_arn: str = Field(
        default="",
        alias="EVENT_BUS_ARN",
        pattern=r"^$|^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/.+$",
        description="the application's bus, where the in-service checks arrive",
    )
    in_service_check_minutes: int = Field(
        default=20,
        alias="IN_SERVICE_CHECK_MINUTES",
        ge=1,
        le=24 * 60,
        description="minutes from an endpoint change to its in-service check, and between checks",
    )
    in_service_check_attempts: int = Field(
        default=6,
        alias="IN_SERVICE_CHECK_ATTEMPTS",
        ge=1,
        le=100,
        description="checks of one change at most, while the endpoint is still changing",
    )
