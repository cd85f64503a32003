"""EventBridge Scheduler's gaps in moto, filled: schedule groups in a template.

- `AWS::Scheduler::ScheduleGroup` creates the group with its tags (moto skips the resource type);
  `Ref` gives its name, as in AWS.

No schedule ever fires by itself here: the local cloud runs one when a test says its time has come
(`LocalCloud.run_schedule`, in `batch_transforms`).
"""

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.scheduler.models import scheduler_backends


class _ScheduleGroup(CloudFormationModel):
    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Scheduler::ScheduleGroup"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **_: Any,
    ) -> "_ScheduleGroup":
        properties = cloudformation_json.get("Properties", {})
        name = properties.get("Name") or resource_name
        scheduler_backends[account_id][region_name].create_schedule_group(name, properties.get("Tags") or [])
        return cls(name)

    def is_created(self) -> bool:
        return True


def patch() -> None:
    """Nothing to patch: defining the CloudFormation model registers it (cloudformation.patch clears
    moto's cache of the types it knows)."""
