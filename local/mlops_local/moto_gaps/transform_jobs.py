"""SageMaker batch transform jobs' gaps in moto, filled: a job runs, and a name or a model is checked.

- CreateTransformJob leaves the job `InProgress` (moto: `Completed` at once, having done nothing); the
  local cloud runs it at its next `settle()` (`batch_transforms`): it reads the input from the embedded
  S3, runs the model, writes the output, and ends `Completed` or `Failed` with its state-change event.
- A job name in use is refused, `ResourceInUse` (SageMaker API reference, CreateTransformJob:
  "The name must be unique within an Amazon Web Services Region in an Amazon Web Services account";
  moto replaces the job).
- A model that does not exist is refused, `ValidationException` (CreateTransformJob's `ModelName`:
  "The name of the model that you want to use for the transform job. ModelName must be the name of an
  existing Amazon SageMaker model within an Amazon Web Services Region in an Amazon Web Services
  account."; moto accepts any name).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeTransformJob, SageMakerModelBackend

from mlops_local.moto_gaps.model_monitor import ResourceInUseError

IN_PROGRESS = "InProgress"


def _checked_and_in_progress(create: Callable[..., FakeTransformJob]) -> Callable[..., FakeTransformJob]:
    @functools.wraps(create)
    def create_transform_job(self: SageMakerModelBackend, **kwargs: Any) -> FakeTransformJob:
        name, model = kwargs["transform_job_name"], kwargs["model_name"]
        if name in self.transform_jobs:
            raise ResourceInUseError(f"Job name {name} must be unique within an AWS account and region")
        if model not in self._models:
            raise ValidationError(message=f'Could not find model "{model}".')
        job = create(self, **kwargs)
        job.transform_job_status = IN_PROGRESS
        job.transform_end_time = None  # type: ignore[assignment]
        return job

    return create_transform_job


def patch() -> None:
    SageMakerModelBackend.create_transform_job = _checked_and_in_progress(  # type: ignore[method-assign]
        SageMakerModelBackend.create_transform_job
    )
