"""The batch scenario (docs/batch-stages.md) for project ``scores``: a dev stage run as a nightly batch
transform instead of an endpoint.

A project is created whose dev stage is a batch stage; a dev version is approved, which schedules a
transform job with its model, and is tested by a small transform over the suite's cases; the schedule's
run scores the day's customers into a dated folder; a later version fails its tests, is rejected, and
the schedule goes back to the first version; the next run scores with it again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from mlops_local.demo_model import BROKEN_MODEL, DEMO_BUCKET, GOOD_MODEL

from mlops_demo.story import Story, events_of, version_label
from mlops_demo.summary import Removal

PROJECT = "scores"
DEV = f"{PROJECT}-dev"
INPUT, OUTPUT = f"{PROJECT}/input", f"{PROJECT}/output"
BATCH = {
    "kind": "batch",
    "instance_type": "ml.m5.large",
    "schedule_expression": "cron(0 2 * * ? *)",
    "input_s3_uri": f"s3://{DEMO_BUCKET}/{INPUT}",
    "output_s3_uri": f"s3://{DEMO_BUCKET}/{OUTPUT}",
}
PROPERTIES: dict[str, Any] = {
    "SageMakerProjectName": PROJECT,
    "SageMakerProjectId": "p-scores0demo",
    "Scenario": "baseline",
    "RegistryBackend": "sagemaker",
    "GitProvider": "local",
    "RejectOnTestFailure": "true",
    "DeploymentDefaults": json.dumps({"dev": {"compute": BATCH}}),
}
# The day's customers, one JSON record a line: one about to leave, one loyal.
CUSTOMERS = [{"instances": [[2, 95.0, 4]]}, {"instances": [[60, 20.0, 0]]}]


class Batch(Story):
    def tell(self) -> None:
        self.title(f"Batch scenario: project {PROJECT!r} (dev as a nightly batch transform)")
        physical_id = self.create()
        copy = self.clone(PROJECT)
        commit = copy.commit("dev", "Score customers nightly", {"pipelines/features.py": "FEATURES = 3\n"})
        v1 = self.first_version(commit)
        tonight = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0) + timedelta(days=1)
        self.nightly_run("The night's run scores the customers with v1", v1, tonight)
        self.failing_version(commit, v1)
        self.nightly_run("The next night's run scores with v1 again", v1, tonight + timedelta(days=1))
        self.delete(physical_id)

    def create(self) -> str:
        self.step(
            f"Create project {PROJECT!r} with dev as a batch stage",
            who="creates the project from the Service Catalog product, with deployment defaults that make "
            "dev a batch stage: a transform job at 02:00 UTC over s3://.../scores/input.",
            control_plane="the lifecycle function creates the repository, the model groups and the record "
            "(the batch settings are validated first).",
        )
        created = self.create_project(PROJECT, PROPERTIES)
        compute = ((created.record.get("deployment_defaults") or {}).get("dev") or {}).get("compute") or {}
        self.check(f"{PROJECT}: the record makes dev a batch stage", compute.get("kind") == "batch")
        return created.physical_id

    def first_version(self, commit: str) -> str:
        self.step(
            "A dev version is approved: a model and a schedule, tested by a transform",
            who="CI syncs the suite for scores-dev; the dev pipeline registers v1; a reviewer approves it.",
            control_plane="the deployer creates v1's SageMaker Model and the schedule scores-dev "
            "(EventBridge Scheduler, its target CreateTransformJob with that model); the tester runs the "
            "suite's cases as a small transform job of v1 and checks each output as an endpoint's answer.",
        )
        self.sync_suite(DEV)
        arn = self.register(DEV, GOOD_MODEL, commit, PROJECT)
        self.settle("The registration")
        # The day's customers arrive in the input location (the demo's bucket exists once a model is in it).
        self.cloud.session.client("s3").put_object(
            Bucket=DEMO_BUCKET,
            Key=f"{INPUT}/customers.jsonl",
            Body="\n".join(json.dumps(customer) for customer in CUSTOMERS).encode(),
        )
        approved = self.approve(arn)
        self.check(f"{DEV}: the schedule runs v1's model", self.scheduled_version() == arn)
        self.check(f"{DEV}: no endpoint (a batch stage has none)", self.endpoint(DEV) is None)
        self.check(
            f"{DEV} v1: integration tests passed (a transform job over the suite's cases)",
            [e["detail"]["outcome"] for e in events_of(approved, "Integration Tests Completed")]
            == ["passed"],
        )
        return arn

    def nightly_run(self, title: str, expected: str, at: datetime) -> None:
        self.step(
            title,
            who=f"nobody: it is {at:%Y-%m-%d %H:%M} UTC.",
            control_plane="Scheduler starts the transform job with the schedule's model; SageMaker scores "
            "each line of the input and writes the answers under a folder named by the run's time.",
        )
        before = set(self.outputs())
        trace = self.cloud.run_schedule(DEV, at=at)
        self.show(trace)
        ended = events_of(trace, "SageMaker Transform Job State Change")
        written = {key: lines for key, lines in self.outputs().items() if key not in before}
        labels = [[line["predictions"][0]["label"] for line in lines] for lines in written.values()]
        self.check(
            f"{DEV}: the run with {version_label(expected)} completed and wrote a dated output",
            [e["detail"]["TransformJobStatus"] for e in ended] == ["Completed"]
            and ended[0]["detail"]["Tags"].get("mlops:model-package-arn") == expected
            and len(written) == 1,
        )
        self.check(f"{DEV}: the customer about to leave is flagged, the loyal one is not", labels == [[1, 0]])
        for key in written:
            self.note(f"Output: s3://{DEMO_BUCKET}/{key}")

    def failing_version(self, commit: str, v1: str) -> None:
        self.step(
            "A broken dev version: its tests fail, it is rejected, the schedule goes back to v1",
            who="the dev pipeline registers v2 (a model with its weights' signs flipped); a reviewer "
            "approves it.",
            control_plane="the deployer puts v2 on the schedule; its test transform fails the suite; the "
            "project asks to reject a version that fails (RejectOnTestFailure), so the tester rejects v2, "
            "and the deployer puts v1 back on the schedule.",
        )
        v2 = self.register(DEV, BROKEN_MODEL, commit, PROJECT)
        self.settle("The registration")
        trace = self.approve(v2)
        outcomes = [e["detail"]["outcome"] for e in events_of(trace, "Integration Tests Completed")]
        rolled_back = events_of(trace, "Deployment Rolled Back")
        self.check(f"{DEV} v2: integration tests failed", outcomes == ["failed"])
        self.check(
            f"{DEV}: v2 rejected and the schedule rolled back to v1",
            self.package(v2)["ModelApprovalStatus"] == "Rejected"
            and [e["detail"]["model_package_arn"] for e in rolled_back] == [v1]
            and self.scheduled_version() == v1,
        )

    def delete(self, physical_id: str) -> None:
        self.step(
            f"Delete project {PROJECT!r}",
            who="deletes the project in SageMaker Studio (Service Catalog terminates the product).",
            control_plane="ProjectLifecycleFunction (custom resource, Delete) deletes the batch stage's "
            "schedule, which would otherwise go on starting a transform job every night for a project "
            "that is gone, then follows the retention policies as for any project.",
        )
        self.delete_project(PROJECT, PROPERTIES, physical_id)
        gone = self.schedule() is None
        self.check(f"{DEV}: its schedule was deleted with the project", gone)
        if gone:
            self.removals.append(
                Removal(f"schedule {DEV}", "the project lifecycle (Delete)", "the project was deleted")
            )

    def schedule(self) -> dict[str, Any] | None:
        try:
            return dict(
                self.cloud.session.client("scheduler").get_schedule(
                    GroupName=f"{self.cloud.stack_name}-batch", Name=DEV
                )
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise

    def scheduled_version(self) -> str | None:
        schedule = self.schedule() or {}
        tags = json.loads((schedule.get("Target") or {}).get("Input") or "{}").get("Tags") or []
        return next((t["Value"] for t in tags if t["Key"] == "mlops:model-package-arn"), None)

    def outputs(self) -> dict[str, list[dict[str, Any]]]:
        s3 = self.cloud.session.client("s3")
        listed = s3.list_objects_v2(Bucket=DEMO_BUCKET, Prefix=f"{OUTPUT}/").get("Contents", [])
        return {
            item["Key"]: [
                json.loads(line)
                for line in s3.get_object(Bucket=DEMO_BUCKET, Key=item["Key"])["Body"].read().splitlines()
            ]
            for item in listed
        }
