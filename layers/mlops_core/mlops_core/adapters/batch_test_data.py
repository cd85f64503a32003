"""What the endpoint tester needs to test a batch stage: its test data in the stack's bucket
(:class:`~mlops_core.integration_tests.ports.BatchTestDataPort`) and SageMaker transform jobs
(:class:`~mlops_core.integration_tests.ports.TransformJobsPort`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_core.adapters import aws_errors


class S3BatchTestData:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def uri(self, key: str) -> str:
        return f"s3://{self._bucket}/{key}"

    def put(self, key: str, body: bytes) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body)

    def get(self, key: str) -> bytes | None:
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=key)
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.is_not_found(error):
                return None
            raise
        body: bytes = answer["Body"].read()
        return body


class SageMakerTransformJobs:
    def __init__(self, client: Any) -> None:
        self._client = client

    def create_transform_job(self, request: Mapping[str, Any]) -> None:
        try:
            self._client.create_transform_job(**request)
        except aws_errors.SERVICE_ERRORS as error:
            # The job of this name started already (a retry after a failure that followed the create).
            if aws_errors.error_code(error) != "ResourceInUse":
                raise
