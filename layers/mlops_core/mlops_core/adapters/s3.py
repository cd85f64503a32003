"""Model artifacts in S3 (the artifact copier's :class:`~mlops_core.promotion.ports.ArtifactStorePort`)."""

from __future__ import annotations

from typing import Any

from mlops_core.adapters import aws_errors
from mlops_core.promotion.ports import PromotionServiceError, split_s3_url


class S3ArtifactStore:
    def __init__(self, client: Any) -> None:
        self._client = client

    def size(self, url: str) -> int | None:
        """The object's size, or None when there is none."""
        bucket, key = split_s3_url(url)
        with aws_errors.reraised_with_retryable(PromotionServiceError):
            try:
                head = self._client.head_object(Bucket=bucket, Key=key)
            except aws_errors.SERVICE_ERRORS as error:
                if aws_errors.is_not_found(error):
                    return None
                raise
        return int(head.get("ContentLength", 0))

    def list_prefix(self, url: str) -> list[tuple[str, int]]:
        """Every object under an ``s3://bucket/prefix/`` (its key relative to the prefix, its size)."""
        bucket, prefix = split_s3_url(url)
        found: list[tuple[str, int]] = []
        with aws_errors.reraised_with_retryable(PromotionServiceError):
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                found += [
                    (item["Key"][len(prefix) :], int(item["Size"])) for item in page.get("Contents", [])
                ]
        return found

    def copy(self, source_url: str, target_url: str, *, kms_key_id: str | None) -> None:
        """A managed copy (multipart above 8 MB, so artifacts over 5 GB copy too)."""
        source_bucket, source_key = split_s3_url(source_url)
        bucket, key = split_s3_url(target_url)
        extra: dict[str, str] = {}
        if kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
        with aws_errors.reraised_with_retryable(PromotionServiceError):
            self._client.copy(
                {"Bucket": source_bucket, "Key": source_key}, bucket, key, ExtraArgs=extra or None
            )
