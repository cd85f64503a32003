"""THE GAPS IN MOTO 5.2.5 THAT THE CONTROL PLANE RUNS INTO, FILLED IN-PROCESS, one module per service.

This package changes what moto does; `service_rules` adds what it refuses (`apply()` installs both).
The moto server runs in this process, so patching moto's model and response classes changes what the
embedded AWS answers. Each patch says what AWS does; the functions under test never know the
difference. `apply()` installs all of them, once per process.

- `template_resources`: what the resource types added to moto's CloudFormation share;
- `cloudformation`: resources the template declares that moto skips (EventInvokeConfig, a secret, a
  function URL) or refers to wrongly (`Ref` of a bus or a layer), and a failing resource failing the stack;
- `events`: PutEvents hands each valid entry to the local cloud's router (`aws_events`);
- `sagemaker`: endpoint statuses, UpdateEndpoint and its rollouts, names that exist refused, model
  package events, versions, tags, deletion, shadow variants, client tokens;
- `sagemaker_pipelines`: pipeline executions that fail at a step, their failure reasons, and
  ListPipelineExecutionSteps;
- `model_group_sharing`: model groups shared with other accounts (resource policies);
- `endpoint_search`: Search over endpoints by tags, and DeleteEndpoint refused while autoscaled;
- `codecommit`: repository tags, branches and commits, and their `CodeCommit Repository State Change`;
- `codebuild`: projects in a template, and StartBuild's overrides kept;
- `lambda_invoke`: a synchronous Invoke of a stack's function runs it (in a process of its own);
- `cloudwatch`: alarms in a template, and an alarm's state change (its EventBridge event, its SNS actions);
- `sns`: subscriptions in a template, and messages to Lambda subscriptions delivered by the local cloud;
- `application_autoscaling`: deregistering a target deletes its policies;
- `model_monitor`: monitoring schedules; data-quality job definitions refused in use, listed by endpoint;
- `scheduler`: schedule groups in a template;
- `transform_jobs`: batch transform jobs that run (`batch_transforms`); names in use and unknown
  models refused.
"""

from mlops_local import service_rules
from mlops_local.moto_gaps import (
    application_autoscaling,
    cloudformation,
    cloudwatch,
    codebuild,
    codecommit,
    endpoint_search,
    events,
    lambda_invoke,
    model_monitor,
    sagemaker,
    sagemaker_pipelines,
    scheduler,
    sns,
    transform_jobs,
)

_applied = False


def apply() -> None:
    """Install every patch of this package (idempotent)."""
    global _applied  # noqa: PLW0603 - moto's classes are patched once per process
    if _applied:
        return
    cloudformation.patch()
    events.patch()
    sagemaker.patch()  # model_group_sharing too
    model_monitor.patch()  # after sagemaker's: wraps its ARN lookup
    sagemaker_pipelines.patch()
    endpoint_search.patch()  # wraps sagemaker's DeleteEndpoint: after it
    codecommit.patch()
    codebuild.patch()
    lambda_invoke.patch()
    cloudwatch.patch()
    sns.patch()
    application_autoscaling.patch()
    scheduler.patch()
    transform_jobs.patch()
    service_rules.apply()  # what AWS refuses, installed over the gaps filled above
    _applied = True
