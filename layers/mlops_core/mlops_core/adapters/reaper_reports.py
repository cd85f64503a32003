"""The reaper's full reports in S3 (:class:`~mlops_core.reaper.ports.ReportStorePort`): JSON objects
under ``endpoints-reaped/`` in the stack's ``ReaperReportBucket`` (encrypted by the bucket's default, expired
by its lifecycle rule)."""

from __future__ import annotations

from typing import Any

from mlops_core.adapters import aws_errors
from mlops_core.reaper.ports import ReaperServiceError

REPORT_PREFIX = "endpoints-reaped/"


def _reaper_error(error: Exception) -> ReaperServiceError:
    return ReaperServiceError(aws_errors.describe(error))


class S3ReaperReports:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put_report(self, name: str, report: bytes) -> str:
        key = REPORT_PREFIX + name
        with aws_errors.reraised_as(_reaper_error):
            self._client.put_object(Bucket=self._bucket, Key=key, Body=report, ContentType="application/json")
        return f"s3://{self._bucket}/{key}"
