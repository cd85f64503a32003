"""Application Auto Scaling's gap in moto, filled: deregistering a scalable target deletes its scaling
policies (DeregisterScalableTarget's API reference: "Deregistering a scalable target deletes the
scaling policies and the scheduled actions that are associated with it"; moto keeps the policies).
Their alarms go with them. moto creates no target tracking alarms for SageMaker variants (AWS names
them `TargetTracking-endpoint/...`): a test cannot count them here.
"""

from moto.applicationautoscaling.models import ApplicationAutoscalingBackend

_moto_deregister = ApplicationAutoscalingBackend.deregister_scalable_target


def _deregister_scalable_target(
    self: ApplicationAutoscalingBackend, namespace: str, r_id: str, dimension: str
) -> None:
    _moto_deregister(self, namespace, r_id, dimension)
    for key, policy in list(self.policies.items()):
        if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (
            namespace,
            r_id,
            dimension,
        ):
            policy.delete_alarms(self.account_id, self.region_name)
            del self.policies[key]


def patch() -> None:
    ApplicationAutoscalingBackend.deregister_scalable_target = _deregister_scalable_target  # type: ignore[method-assign]
