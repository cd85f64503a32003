"""EventBridge Scheduler's gaps in moto, filled: schedule groups in a template.

- `AWS::Scheduler::ScheduleGroup` creates the group with its tags (moto skips the resource type);
  `Ref` gives its name and `GetAtt ... Arn` its ARN, as in AWS.

No schedule ever fires by itself here: the local cloud runs one when a test says its time has come
(`LocalCloud.run_schedule`, `LocalCloud.run_schedules_due`, in `schedules`).
"""

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.scheduler.models import scheduler_backends

from mlops_local.moto_gaps.template_resources import TemplateResourceWithArn


class _ScheduleGroup(TemplateResourceWithArn, CloudFormationModel):
    TYPE = "AWS::Scheduler::ScheduleGroup"
    NAME_PROPERTY = "Name"

    @classmethod
    def create(
        cls, properties: Any, resource_name: str, account_id: str, region_name: str
    ) -> "_ScheduleGroup":
        name = properties.get("Name") or resource_name
        group = scheduler_backends[account_id][region_name].create_schedule_group(
            name, properties.get("Tags") or []
        )
        return cls(name, group.arn)


def patch() -> None:
    """Nothing to patch: defining the CloudFormation model registers it (cloudformation.patch clears
    moto's cache of the types it knows)."""
