"""AWS API calls of ArtifactCopierFunction per promotion, against the local cloud.

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

from deployer_api_calls import CallRecorder, Measured, measure
from mlops_local import LocalCloud
from mlops_local.testing import (
    SOURCE_BUCKET,
    TESTS_PASSED,
    codecommit_merge,
    git_branch_updated,
    put_project_record,
    record_test_outcome,
    register_dev_version,
)

COPIER = "ArtifactCopierFunction"


@dataclass
class PromotionCalls:
    """One run: the copier's invocations, in order (baseline, its redelivery, advanced, its redelivery)."""

    invocations: list[Measured]


def run() -> PromotionCalls:
    with LocalCloud(parameters={"DeployedStages": "feature,dev,prod,champion,challenger"}) as cloud:
        cloud.session.client("s3").create_bucket(Bucket=SOURCE_BUCKET)
        table = cloud.outputs["ConfigTableName"]
        put_project_record(cloud.session, table, "pb", scenario="baseline")
        put_project_record(cloud.session, table, "pa", scenario="advanced", repository_name="pa-model")
        sources = {
            project: register_dev_version(cloud.session, project, commit, artifact=b"m" * 1024)
            for project, commit in (("pb", "b2"), ("pa", "d4"))
        }
        cloud.settle()  # deployed to pb-dev and pa-dev and tested there (no suite)
        for arn in sources.values():
            record_test_outcome(cloud.session, arn, TESTS_PASSED)
        cloud.settle()
        idempotency_table = cloud.functions[COPIER].environment["IDEMPOTENCY_TABLE_NAME"]
        recorder = CallRecorder(idempotency_table)
        bus = cloud.outputs["EventBusName"]
        results: list[Measured] = []
        with recorder.installed():
            for label, event_id in (("baseline", "merge-1"), ("baseline again", "merge-2")):
                event = codecommit_merge("pb", "b2", event_id=event_id)
                results += measure(cloud, recorder, label, lambda e=event: cloud.send(e), COPIER)
            for label in ("advanced", "advanced again"):
                event = git_branch_updated("pa-model", "f00d", "d4", "pa")
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
