"""The baseline scenario (docs/architecture.md, "Baseline"): feature → dev → prod for project ``churn``.

A project is created; a feature branch's version is approved and deployed; dev versions are deployed
and tested (one fails its tests and is rolled back); two merges into ``prod`` promote the tested dev
versions without retraining, the first creating ``churn-prod`` and the second rolled out blue/green
(canary with alarms); the nightly reaper deletes the feature endpoint and honours a keep-until tag
on dev; the project is deleted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from mlops_core.contract.slack_approvals import APPROVE_ACTION_ID
from mlops_local.demo_model import BROKEN_MODEL, GOOD_MODEL
from mlops_local.trace import Trace

from mlops_demo.repository import WorkingCopy
from mlops_demo.story import Story, events_of, in_service, version_label
from mlops_demo.summary import Removal

PROJECT = "churn"
PROD_APPROVER, PROD_APPROVER_NAME = "U0PRODAPPR", "maria"  # the Slack member who approves churn-prod
FEATURE, DEV, PROD = (f"{PROJECT}-{stage}" for stage in ("feature", "dev", "prod"))
PROPERTIES: dict[str, Any] = {
    "SageMakerProjectName": PROJECT,
    "SageMakerProjectId": "p-churn0demo",
    "Scenario": "baseline",
    "RegistryBackend": "sagemaker",
    "GitProvider": "local",
    "RejectOnTestFailure": "true",
    "SlackApprovers": json.dumps({"prod": [PROD_APPROVER]}),
    "RepositoryRetention": "archive",
    "ModelGroupRetention": "delete-if-empty",
    "DeploymentDefaults": json.dumps(
        {
            "prod": {
                "instance_type": "ml.m5.large",
                "instance_count": 2,
                "strategy": "canary",
                "blue_green": {"canary_percentage": 25, "wait_interval_seconds": 300},
            }
        }
    ),
}
# A later dev version: the same model, trained on more data (its own artifact).
RETRAINED_MODEL: dict[str, Any] = {**GOOD_MODEL, "bias": -1.45}


class Baseline(Story):
    def tell(self) -> None:
        self.title(f"Baseline scenario: project {PROJECT!r} (feature -> dev -> prod)")
        physical_id = self.create()
        copy = self.clone(PROJECT)
        self.feature(copy)
        dev_v1 = self.dev_release(copy)
        self.first_promotion(copy, dev_v1)
        self.failing_version(copy, dev_v1)
        self.second_promotion(copy)
        self.endpoint_alarm()
        self.reaper()
        self.delete(physical_id)

    # 1
    def create(self) -> str:
        self.step(
            f"Create project {PROJECT!r} in SageMaker Studio",
            who="picks the organization template (Service Catalog product): baseline scenario, SageMaker "
            "registry, local git, prod rolled out as a canary, failing dev versions rejected.",
            control_plane="CloudFormation calls ProjectLifecycleFunction (custom resource, Create): it "
            "creates the repository (seed code on prod, dev branched from it), one model group per stage, "
            "and the project record the other functions read.",
        )
        created = self.create_project(PROJECT, PROPERTIES)
        heads, record = created.heads, created.record
        self.check(
            f"{PROJECT}: the repository has prod and dev at the same seed commit",
            set(heads) == {"prod", "dev"} and heads["prod"] == heads["dev"],
        )
        self.check(
            f"{PROJECT}: model groups feature, dev and prod exist", {FEATURE, DEV, PROD} <= self.groups()
        )
        self.check(
            f"{PROJECT}: the project record is active and rejects versions that fail their tests",
            record.get("status") == "active" and record.get("reject_on_test_failure") is True,
        )
        self.check(
            f"{PROJECT}: Slack heard of the new project", bool(events_of(created.trace, "Project Created"))
        )
        return created.physical_id

    # 2
    def feature(self, copy: WorkingCopy) -> None:
        self.step(
            "A feature branch: train, register, approve",
            who="pushes branch feature-support-calls; the push runs the project's CI, which registers "
            "churn-feature v1 (pending; the local demo model stands in for training); "
            "CI syncs integration-tests/suite.yaml for the project's endpoints; a reviewer approves v1.",
            control_plane="registration alone deploys nothing. The approval event reaches the deployer, "
            "which creates endpoint churn-feature from exactly that version; once InService, the tester "
            "runs the suite against the live model.",
        )
        commit = copy.commit(
            "feature-support-calls",
            "Weigh support calls more",
            {"pipelines/hyperparameters.json": '{"support_calls_weight": 0.9}\n'},
        )
        for endpoint in (FEATURE, DEV, PROD):
            self.sync_suite(endpoint)
        arn = self.ci_after_push(PROJECT, "feature-support-calls", commit)
        registered = self.settle("The registration")
        self.check(
            f"{FEATURE} v1: registration alone deploys nothing",
            not registered.invocations(function="ModelDeployerFunction"),
        )
        approved = self.approve(arn)
        self.check(f"{FEATURE}: InService, serving v1", self._serves(FEATURE, arn))
        self.check(
            f"{FEATURE}: integration tests passed",
            [e["detail"]["outcome"] for e in events_of(approved, "Integration Tests Completed")]
            == ["passed"],
        )

    # 3
    def dev_release(self, copy: WorkingCopy) -> str:
        self.step(
            "Merge the feature into dev; approve the dev version",
            who="merges feature-support-calls into dev; the dev pipeline registers churn-dev v1 for the "
            "merge commit; a reviewer approves it. EventBridge then delivers the approval a second time.",
            control_plane="the deployer creates churn-dev; the tester runs the suite and records the "
            "outcome on the version (what a later promotion looks for). The duplicate approval changes "
            "nothing: the endpoint already serves that version.",
        )
        commit = copy.merge("feature-support-calls", "dev", "Merge feature-support-calls into dev")
        arn = self.register(DEV, GOOD_MODEL, commit, PROJECT)
        self.settle("The registration")
        approved = self.approve(arn)
        metadata = self.package(arn).get("CustomerMetadataProperties") or {}
        self.note(
            f"{version_label(arn)} now carries "
            f"mlops:integration-tests = {metadata.get('mlops:integration-tests')}"
        )
        self.check(f"{DEV}: InService, serving v1", self._serves(DEV, arn) and in_service(approved, DEV))
        self.check(
            f"{DEV} v1: its test outcome 'passed' is recorded on the version",
            metadata.get("mlops:integration-tests") == "passed",
        )
        config = (self.endpoint(DEV) or {}).get("EndpointConfigName")
        approvals = [
            e
            for e in approved.events(detail_type="SageMaker Model Package State Change")
            if e["detail"]["ModelPackageArn"] == arn
        ]
        again = self.cloud.send({**approvals[0], "id": "redelivered-approval"}) if approvals else None
        if again is not None:
            self.show(again, "The same approval, delivered again")
        self.check(
            f"{DEV}: the redelivered approval changed nothing",
            again is not None
            and not again.events(detail_type="Deployment Started")
            and (self.endpoint(DEV) or {}).get("EndpointConfigName") == config,
        )
        return arn

    # 4, 5
    def first_promotion(self, copy: WorkingCopy, dev_v1: str) -> None:
        self.step(
            "First release: merge dev into prod",
            who="merges dev into prod (a pull request); the project's CI puts 'Git Branch Updated' on the "
            "application bus, naming the prod commit and the merged dev commit.",
            control_plane="the artifact copier finds the dev version of the merged commit, checks that it "
            "passed its tests, and copies artifact and lineage into churn-prod (no retraining), pending a "
            "person's approval.",
        )
        prod_commit = copy.merge("dev", "prod", "Release: merge dev into prod")
        trace = self.merged_into_prod(PROJECT, PROJECT, prod_commit, copy.head("dev"))
        promoted = events_of(trace, "Model Promoted", project=PROJECT)
        versions = self.versions(PROD)
        self.check(
            f"{PROJECT}: the merge promoted {version_label(dev_v1)}, chosen by its merged commit",
            bool(promoted)
            and promoted[0]["detail"]["source_model_package_arn"] == dev_v1
            and promoted[0]["detail"]["selected_by"] == "merged-commit",
        )
        self.check(
            f"{PROD} v1: the promoted version waits for approval, with its source recorded",
            len(versions) == 1
            and versions[0]["ModelApprovalStatus"] == "PendingManualApproval"
            and (self.package(versions[0]["ModelPackageArn"]).get("CustomerMetadataProperties") or {}).get(
                "mlops:source-model-package-arn"
            )
            == dev_v1,
        )
        if not versions:
            return
        prod_v1 = versions[0]["ModelPackageArn"]
        approved = self.prod_approval_in_slack(prod_v1)
        started = events_of(approved, "Deployment Started", endpoint_name=PROD)
        self.check(f"{PROD}: created, InService, serving prod v1", self._serves(PROD, prod_v1))
        self.check(
            f"{PROD}: created by the deployer (action create)",
            [e["detail"]["action"] for e in started] == ["create"],
        )

    # 5
    def prod_approval_in_slack(self, prod_v1: str) -> Trace:
        """The promoted version, approved by clicking Approve in Slack."""
        self.step(
            "Approve churn-prod v1 in Slack",
            who=f"{PROD_APPROVER_NAME}, churn's prod approver (SlackApprovers), clicks Approve on the "
            "message that announced churn-prod v1 with its lineage and dev test evidence.",
            control_plane="Slack posts the click, signed with the app's signing secret, to "
            "SlackApprovalsFunction's URL: it checks the signature and that the member approves churn's "
            "prod, sets churn-prod v1 Approved (the description names the member) and updates the message. "
            "Then the deployer checks the version's lineage (commit, dataset, metrics: required for "
            "production) and creates churn-prod on 2 instances; the tester runs the suite against it.",
        )
        status = self.click_in_slack(
            prod_v1, APPROVE_ACTION_ID, user_id=PROD_APPROVER, user_name=PROD_APPROVER_NAME
        )
        described = self.package(prod_v1)
        self.check(
            f"{PROD} v1: approved from Slack by its prod approver, named in the approval",
            status == 200
            and described.get("ModelApprovalStatus") == "Approved"
            and f"in Slack by {PROD_APPROVER_NAME} ({PROD_APPROVER})"
            in str(described.get("ApprovalDescription")),
        )
        return self.settle(f"After the approved {version_label(prod_v1)}")

    # 6, 7
    def failing_version(self, copy: WorkingCopy, dev_v1: str) -> None:
        self.step(
            "A bad change reaches dev: its tests fail and it is rolled back",
            who="merges a change that rescales the features into dev; the pipeline registers churn-dev v2; "
            "a reviewer approves it.",
            control_plane="the deployer updates churn-dev to v2; the tester's case churner-leaves fails; "
            "the project rejects failing versions (RejectOnTestFailure), so the tester sets v2 to "
            "Rejected, and the deployer, seeing the live version rejected, rolls churn-dev back to v1. "
            "Prod is untouched.",
        )
        bad_commit = copy.commit("dev", "Rescale the features", {"pipelines/preprocess.py": "SCALE = -1\n"})
        bad = self.register(DEV, BROKEN_MODEL, bad_commit, PROJECT)
        self.settle("The registration")
        approved = self.approve(bad)
        completed = [
            e["detail"] for e in events_of(approved, "Integration Tests Completed", endpoint_name=DEV)
        ]
        rolled_back = events_of(approved, "Deployment Rolled Back", endpoint_name=DEV)
        self.check(
            f"{DEV} v2: the integration tests failed and the version was rejected",
            bool(completed)
            and completed[0]["outcome"] == "failed"
            and completed[0]["version_rejected"] is True,
        )
        self.check(
            f"{DEV} v2: the registry says Rejected", self.package(bad)["ModelApprovalStatus"] == "Rejected"
        )
        self.check(
            f"{DEV}: rolled back from v2 to v1",
            bool(rolled_back)
            and rolled_back[0]["detail"]["rolled_back_model_package_arn"] == bad
            and rolled_back[0]["detail"]["model_package_arn"] == dev_v1
            and self._serves(DEV, dev_v1),
        )
        self.removals.append(
            Removal(
                f"{version_label(bad)} from endpoint {DEV}",
                "the deployer's rollback",
                "its integration tests failed and the tester rejected it (RejectOnTestFailure)",
            )
        )
        self.check(
            f"{PROD}: still serves prod v1", self._serves(PROD, self.versions(PROD)[0]["ModelPackageArn"])
        )

        self.step(
            "Fix dev: revert, retrain, approve",
            who="reverts the bad commit on dev; the pipeline registers churn-dev v3; a reviewer approves it.",
            control_plane="the deployer updates churn-dev to v3 (newer than the live v1, so not stale); "
            "the tester runs the suite again, and it passes.",
        )
        fixed_commit = copy.revert("dev", bad_commit)
        self.dev_v3 = self.register(DEV, RETRAINED_MODEL, fixed_commit, PROJECT)
        self.settle("The registration")
        approved = self.approve(self.dev_v3)
        self.check(f"{DEV}: serving v3", self._serves(DEV, self.dev_v3))
        self.check(
            f"{DEV} v3: integration tests passed",
            [
                e["detail"]["outcome"]
                for e in events_of(approved, "Integration Tests Completed", endpoint_name=DEV)
            ]
            == ["passed"],
        )

    # 8, 9
    def second_promotion(self, copy: WorkingCopy) -> None:
        self.step(
            "Second release: merge dev into prod again",
            who="merges dev (the revert) into prod; CI sends 'Git Branch Updated'.",
            control_plane="the copier promotes the dev version of the merged commit, v3 (v2 was rejected), "
            "into churn-prod as v2.",
        )
        prod_commit = copy.merge("dev", "prod", "Release: merge dev into prod")
        trace = self.merged_into_prod(PROJECT, PROJECT, prod_commit, copy.head("dev"))
        promoted = events_of(trace, "Model Promoted", project=PROJECT)
        versions = self.versions(PROD)
        self.check(
            f"{PROJECT}: the second merge promoted {version_label(self.dev_v3)}",
            bool(promoted) and promoted[0]["detail"]["source_model_package_arn"] == self.dev_v3,
        )
        self.check(
            f"{PROD}: two versions, the new one pending",
            [v["ModelApprovalStatus"] for v in versions]
            == [
                "Approved",
                "PendingManualApproval",
            ],
        )
        if len(versions) < 2:
            return
        prod_v2 = versions[1]["ModelPackageArn"]
        self.step(
            "Approve churn-prod v2: a blue/green rollout",
            who="a reviewer approves churn-prod v2.",
            control_plane="churn-prod is live, so the deployer updates it blue/green: a canary (25% of the "
            "capacity first) guarded by two CloudWatch alarms it creates (5XX errors, model latency). "
            "SageMaker shifts the traffic step by step and watches the alarms: one in ALARM would roll the "
            "update back. The old config is kept for rollback.",
        )
        approved = self.approve(prod_v2)
        started = events_of(approved, "Deployment Started", endpoint_name=PROD)
        endpoint = self.endpoint(PROD) or {}
        rollout = endpoint.get("LastDeploymentConfig") or {}
        routing = rollout.get("BlueGreenUpdatePolicy", {}).get("TrafficRoutingConfiguration", {})
        alarms = [a["AlarmName"] for a in rollout.get("AutoRollbackConfiguration", {}).get("Alarms", [])]
        steps = [
            event["detail"]
            for event in events_of(approved, "SageMaker Endpoint Deployment State Change", EndpointName=PROD)
        ]
        rolled_back = [detail for detail in steps if detail.get("EndpointStatus") == "ROLLING_BACK"]
        self.note(
            f"UpdateEndpoint asked for {routing.get('Type', '?')} "
            f"({routing.get('CanarySize', {}).get('Value', '?')}% first, then the rest after "
            f"{routing.get('WaitIntervalInSeconds', '?')} s), "
            f"guarded by alarms: {', '.join(alarms) or 'none'}"
        )
        self.note(
            "SageMaker: "
            + " -> ".join(_variant_status(detail) for detail in steps)
            + (" -> rolled back." if rolled_back else "; no alarm fired, so v2 took all the traffic.")
        )
        existing = {
            a["AlarmName"] for a in self.cloud.session.client("cloudwatch").describe_alarms()["MetricAlarms"]
        }
        self.check(
            f"{PROD}: updated as a canary",
            [(e["detail"]["action"], e["detail"]["strategy"]) for e in started] == [("update", "canary")]
            and routing.get("Type") == "CANARY",
        )
        self.check(f"{PROD}: the rollback alarms exist", len(alarms) == 2 and set(alarms) <= existing)
        said = [_variant_status(detail) for detail in steps]
        self.check(
            f"{PROD}: traffic moved to v2 in steps, the canary first, and no alarm rolled it back",
            len(said) > 2 and "canary capacity" in said[1] and not rolled_back,
        )
        self.check(f"{PROD}: serving prod v2", self._serves(PROD, prod_v2))

    # 10
    def endpoint_alarm(self) -> None:
        """An endpoint's health alarm fires and recovers: both reach the project's Slack channel."""
        alarm = f"{self.cloud.stack_name}-{PROD}-health-5xx-errors"
        self.step(
            f"{PROD} returns 5XX errors: its health alarm fires, then recovers",
            who="nobody: CloudWatch sees 5XX errors on churn-prod (here: SetAlarmState), then none.",
            control_plane="the deployer gave every endpoint health alarms once it was in service "
            "(5XX errors, p99 latency against the stage's budget, CPU, memory, disk). CloudWatch "
            "sends their state changes to EventBridge; the Slack notifier tells the project's channel "
            "which endpoint and version, the value against the threshold, and links the alarm; the "
            "recovery too.",
        )
        cloudwatch = self.cloud.session.client("cloudwatch")
        before = len(self.cloud.slack_messages)
        cloudwatch.set_alarm_state(
            AlarmName=alarm,
            StateValue="ALARM",
            StateReason="Threshold Crossed: 2 datapoints were greater than or equal to the threshold (5.0).",
            StateReasonData=json.dumps({"recentDatapoints": [12.0, 9.0], "threshold": 5.0}),
        )
        self.settle("The alarm")
        cloudwatch.set_alarm_state(
            AlarmName=alarm, StateValue="OK", StateReason="Threshold no longer crossed."
        )
        self.settle("The recovery")
        texts = [json.dumps(message) for message in self.cloud.slack_messages[before:]]
        self.check(
            f"{PROD}: its 5XX alarm and its recovery reached Slack",
            len(texts) == 2 and "Alarm on churn-prod" in texts[0] and "Recovered: churn-prod" in texts[1],
        )

    def reaper(self) -> None:
        keep_until = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
        self.step(
            "Night falls: the reaper runs",
            who=f"tags churn-dev mlops:keep-until={keep_until} (a demo next week); "
            "the nightly schedule fires.",
            control_plane="the reaper examines the stack's endpoints: it deletes churn-feature (nobody "
            "asked to keep it), keeps churn-dev until the date on its tag, and keeps churn-prod, as every "
            "production endpoint: it only ever deletes feature and dev endpoints.",
        )
        arn = (self.endpoint(DEV) or {}).get("EndpointArn")
        if arn:
            self.sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "mlops:keep-until", "Value": keep_until}])
        mine = self.nightly_reaper(PROJECT, reaped=FEATURE, production=PROD)
        kept = {e["endpoint_name"]: e["reason"] for e in mine.get("kept") or []}
        self.check(
            f"{DEV}: kept because of its mlops:keep-until tag",
            kept.get(DEV) == "keep-until" and self.endpoint(DEV) is not None,
        )

    # 11
    def delete(self, physical_id: str) -> None:
        self.step(
            f"Delete project {PROJECT!r}",
            who="deletes the project in SageMaker Studio (Service Catalog terminates the product).",
            control_plane="ProjectLifecycleFunction (custom resource, Delete) follows the project's "
            "retention policies: the repository is archived; a model group is deleted only if empty (all "
            "three hold versions, so they stay); the record is marked deleted. Endpoints are not the "
            "project's to delete: churn-prod keeps serving, churn-dev waits for the reaper.",
        )
        deleted = self.delete_project(PROJECT, PROPERTIES, physical_id)
        archived = self.cloud.git_root / "archived" / f"{PROJECT}.git"
        self.check(
            f"{PROJECT}: the repository was archived",
            deleted.get("repository") == "archived"
            and archived.exists()
            and not (self.cloud.git_root / f"{PROJECT}.git").exists(),
        )
        self.check(
            f"{PROJECT}: the model groups holding versions were kept",
            set(deleted.get("model_groups_kept") or {}) == {FEATURE, DEV, PROD}
            and {FEATURE, DEV, PROD} <= self.groups(),
        )
        self.check(
            f"{PROJECT}: the project record says deleted",
            (self.record(PROJECT) or {}).get("status") == "deleted",
        )
        self.check(
            f"{PROD}: still serving after the project's deletion",
            (self.endpoint(PROD) or {}).get("EndpointStatus") == "InService",
        )
        if deleted.get("repository") == "archived":
            self.removals.append(
                Removal(
                    f"repository {PROJECT}.git (moved to archived/)",
                    "the project lifecycle (Delete)",
                    "RepositoryRetention=archive",
                )
            )

    def _serves(self, endpoint: str, arn: str) -> bool:
        status = (self.endpoint(endpoint) or {}).get("EndpointStatus")
        return status == "InService" and self.serving(endpoint)[0] == arn


def _variant_status(detail: dict[str, Any]) -> str:
    """What SageMaker said of a blue/green step (the new fleet's VariantStatus message)."""
    pending = (detail.get("PendingDeploymentSummary") or {}).get("ProductionVariants") or [{}]
    statuses = pending[0].get("VariantStatus") or [{}]
    return str(statuses[0].get("StatusMessage") or statuses[0].get("Status") or "?").rstrip(".")
