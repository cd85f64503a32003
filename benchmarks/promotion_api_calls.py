"""AWS API calls of ArtifactCopierFunction per promotion, against the embedded cloud.

    .venv/bin/python benchmarks/promotion_api_calls.py     # or: make bench (all benchmarks)

A stack that deploys every stage is opened in the local cloud, with two projects whose record the
project lifecycle would have written: `pb` (baseline: dev is promoted into `pb-prod`) and `pa`
(advanced, repository `pa-model`: into `pa-champion` and `pa-challenger`). Each gets one approved
dev version registered as a pipeline does (a model.tar.gz in S3, full lineage); the local cloud
deploys and tests it on `{project}-dev` (no suite: `no-tests-configured`), then the benchmark
records a passed test outcome on it, as the tester does for a suite that passes. Then, counted by
operation exactly as benchmarks/deployer_api_calls.py counts (botocore calls made while the copier's
invocation runs, split into the promotion's own, "domain", and the framework's: the idempotency
record and PutEvents):
- baseline: a CodeCommit merge into `prod` of `pb` (the repository named after the project);
- advanced: the `Git Branch Updated` event GitHub CI puts on the bus for `pa-model`, naming the project
  and the merged dev commit;
- each once more with a new event id (a redelivery EventBridge may make, or the same merge reported
  twice): the copies are found in the PROMOTION# record, nothing is copied again.
The model artifact is 1 KB: one CopyObject per artifact (boto3's managed copy switches to a multipart
copy above 8 MB, with one UploadPartCopy per 8 MB part).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from deployer_api_calls import CallRecorder, Measured, measure
from mlops_local import LocalCloud

COPIER = "ArtifactCopierFunction"
SOURCE_BUCKET = "sagemaker-us-east-1-123456789012"
PASSED = {
    "mlops:integration-tests": "passed",
    "mlops:integration-tests-run-id": "2026-11-25T18:30:00.000000Z",
}
LINEAGE: dict[str, Any] = {
    "ModelMetrics": {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m/metrics.json"}}
    },
    "DriftCheckBaselines": {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m/baseline.json"}}
    },
}


@dataclass
class PromotionCalls:
    """One run: the copier's invocations, in order (baseline, its redelivery, advanced, its redelivery)."""

    invocations: list[Measured]


def _register_dev_version(cloud: LocalCloud, project: str, commit: str) -> str:
    sagemaker, s3 = cloud.session.client("sagemaker"), cloud.session.client("s3")
    sagemaker.create_model_package_group(ModelPackageGroupName=f"{project}-dev")
    key = f"{project}/{commit}/model.tar.gz"
    s3.put_object(Bucket=SOURCE_BUCKET, Key=key, Body=b"m" * 1024)
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=f"{project}-dev",
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [
                {
                    "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
                    "ModelDataUrl": f"s3://{SOURCE_BUCKET}/{key}",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        MetadataProperties={"CommitId": commit, "Repository": project},
        CustomerMetadataProperties={"mlops:dataset": f"s3://data/{project}/train.csv"},
        **LINEAGE,
    )["ModelPackageArn"]
    return arn


def _codecommit_merge(repository: str, commit: str, event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "source": "aws.codecommit",
        "detail-type": "CodeCommit Repository State Change",
        "resources": [f"arn:aws:codecommit:us-east-1:123456789012:{repository}"],
        "detail": {
            "event": "referenceUpdated",
            "repositoryName": repository,
            "referenceType": "branch",
            "referenceName": "prod",
            "referenceFullName": "refs/heads/prod",
            "commitId": commit,
            "oldCommitId": "0" * 40,
        },
    }


def _git_branch_updated(repository: str, commit: str, merged: str, project: str) -> dict[str, Any]:
    detail = {
        "repository": repository,
        "branch": "prod",
        "commit_id": commit,
        "merged_commit_id": merged,
        "provider": "github",
        "project": project,
    }
    return {"source": "mlops.ci", "detail-type": "Git Branch Updated", "detail": detail}


def run() -> PromotionCalls:
    with LocalCloud(parameters={"DeployedStages": "feature,dev,prod,champion,challenger"}) as cloud:
        cloud.session.client("s3").create_bucket(Bucket=SOURCE_BUCKET)
        table = cloud.session.resource("dynamodb").Table(cloud.outputs["ConfigTableName"])
        table.put_item(Item={"pk": "PROJECT#pb", "sk": "META", "project": "pb", "scenario": "baseline"})
        table.put_item(
            Item={
                "pk": "PROJECT#pa",
                "sk": "META",
                "project": "pa",
                "scenario": "advanced",
                "repository_name": "pa-model",
            }
        )
        sources = {
            project: _register_dev_version(cloud, project, commit)
            for project, commit in (("pb", "b2"), ("pa", "d4"))
        }
        cloud.settle()  # deployed to pb-dev and pa-dev and tested there (no suite)
        sagemaker = cloud.session.client("sagemaker")
        for arn in sources.values():
            current = sagemaker.describe_model_package(ModelPackageName=arn).get(
                "CustomerMetadataProperties", {}
            )
            sagemaker.update_model_package(
                ModelPackageArn=arn, CustomerMetadataProperties={**current, **PASSED}
            )
        cloud.settle()
        idempotency_table = cloud.functions[COPIER].environment["IDEMPOTENCY_TABLE_NAME"]
        recorder = CallRecorder(idempotency_table)
        bus = cloud.outputs["EventBusName"]
        results: list[Measured] = []
        with recorder.installed():
            for label, event_id in (("baseline", "merge-1"), ("baseline again", "merge-2")):
                event = _codecommit_merge("pb", "b2", event_id)
                results += measure(cloud, recorder, label, lambda e=event: cloud.send(e), COPIER)
            for label in ("advanced", "advanced again"):
                event = _git_branch_updated("pa-model", "f00d", "d4", "pa")
                results += measure(cloud, recorder, label, lambda e=event: cloud.send(e, bus=bus), COPIER)
        return PromotionCalls(results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    result = run()
    print(f"{'promotion':<58} {'status':<12} {'domain':>6} {'frame':>5} {'ms':>7}  domain calls")
    for measured in result.invocations:
        calls = ", ".join(f"{op}x{n}" if n > 1 else op for op, n in Counter(measured.domain).items())
        print(
            f"{measured.label:<58} {measured.status:<12} {len(measured.domain):>6} "
            f"{len(measured.framework):>5} {measured.duration_ms:>7.1f}  {calls}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
