"""The advanced scenario (docs/architecture.md, "Advanced") with shadow mode, for project ``upsell``.

A project with champion and challenger stages is created, the challenger in shadow mode; a dev
version is deployed and tested; the merge into ``prod`` promotes it into both the champion and the
challenger groups; approving both gives endpoint ``upsell-champion`` with the challenger as its
shadow variant, which receives a copy of the live traffic; the reaper deletes the dev endpoint; the
project is deleted and its empty feature group with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mlops_local.demo_model import GOOD_MODEL

from mlops_demo.repository import WorkingCopy
from mlops_demo.story import Story, events_of, version_label
from mlops_demo.summary import Removal

PROJECT = "upsell"
FEATURE, DEV, CHAMPION, CHALLENGER = (
    f"{PROJECT}-{stage}" for stage in ("feature", "dev", "champion", "challenger")
)
PROPERTIES: dict[str, Any] = {
    "SageMakerProjectName": PROJECT,
    "SageMakerProjectId": "p-upsell0demo",
    "Scenario": "advanced",
    "RegistryBackend": "sagemaker",
    "GitProvider": "local",
    "ModelGroupRetention": "delete-if-empty",
    "DeploymentDefaults": json.dumps(
        {"challenger": {"strategy": "shadow", "shadow_sampling_percentage": 100}}
    ),
}
CUSTOMER = {"instances": [[3, 88.0, 3]]}  # a customer about to leave, as a client application asks


class Advanced(Story):
    def tell(self) -> None:
        self.title(f"Advanced scenario: project {PROJECT!r} (champion and challenger, shadow mode)")
        physical_id = self.create()
        copy = self.clone(PROJECT)
        dev_v1 = self.dev_release(copy)
        copies = self.promotion(copy, dev_v1)
        if copies is not None:
            self.champion_and_shadow(*copies)
            self.live_traffic()
        self.reaper()
        self.delete(physical_id)

    def create(self) -> str:
        self.step(
            f"Create project {PROJECT!r}: advanced scenario, challenger in shadow mode",
            who="creates the project from the same Service Catalog product, choosing the advanced scenario "
            "and deployment defaults that put the challenger in shadow mode (100% of requests copied).",
            control_plane="the lifecycle function creates the repository, the groups feature, dev, "
            "champion and challenger (no prod: champion and challenger replace it) and the record.",
        )
        created = self.create_project(PROJECT, PROPERTIES)
        record = created.record
        self.check(
            f"{PROJECT}: model groups feature, dev, champion and challenger exist, and no prod group",
            {FEATURE, DEV, CHAMPION, CHALLENGER} <= self.groups() and f"{PROJECT}-prod" not in self.groups(),
        )
        self.check(
            f"{PROJECT}: the record puts the challenger in shadow mode",
            record.get("scenario") == "advanced"
            and (record.get("deployment_defaults") or {}).get("challenger", {}).get("strategy") == "shadow",
        )
        return created.physical_id

    def dev_release(self, copy: WorkingCopy) -> str:
        self.step(
            "Work reaches dev: register, approve, test (SageMaker's IN_SERVICE event is lost)",
            who="merges a feature into dev; CI syncs the suite for upsell-dev and upsell-champion; the dev "
            "pipeline registers upsell-dev v1; a reviewer approves it. EventBridge never delivers "
            "upsell-dev's IN_SERVICE: AWS delivers its services' events on a best-effort basis.",
            control_plane="the deployer creates upsell-dev and schedules its in-service check. Nothing "
            "is tested while the event is missing; 20 minutes later the check finds upsell-dev in "
            "service, the tester runs the suite on it and records 'passed' on the version, once.",
        )
        commit = copy.commit("dev", "Add the upsell features", {"pipelines/features.py": "FEATURES = 3\n"})
        for endpoint in (DEV, CHAMPION):
            self.sync_suite(endpoint)
        arn = self.register(DEV, GOOD_MODEL, commit, PROJECT)
        self.settle("The registration")
        with self.cloud.losing_service_events(_in_service_of(DEV)) as lost:
            approved = self.approve(arn)
        for event in lost:
            self.note(f"Lost on the way to EventBridge: {event['detail-type']} {DEV} IN_SERVICE")
        self.check(
            f"{DEV}: its IN_SERVICE was lost, and nothing was tested meanwhile",
            len(lost) == 1 and not events_of(approved, "Integration Tests Completed", endpoint_name=DEV),
        )
        checked = self.in_service_checks_come(DEV)
        self.check(f"{DEV}: InService, serving v1", self.serving(DEV)[0] == arn)
        self.check(
            f"{DEV} v1: the in-service check ran its integration tests: passed",
            [
                (e["detail"]["trigger"], e["detail"]["outcome"])
                for e in events_of(checked, "Integration Tests Completed", endpoint_name=DEV)
            ]
            == [("in-service-check", "passed")],
        )
        return arn

    def promotion(self, copy: WorkingCopy, dev_v1: str) -> tuple[str, str] | None:
        self.step(
            "Merge dev into prod: one tested artifact, two production groups",
            who="merges dev into prod; CI sends 'Git Branch Updated'.",
            control_plane="in an advanced project the artifact copier promotes the tested dev version into "
            "both upsell-champion and upsell-challenger, each promoted version pending approval.",
        )
        prod_commit = copy.merge("dev", "prod", "Release: merge dev into prod")
        trace = self.merged_into_prod(PROJECT, PROJECT, prod_commit, copy.head("dev"))
        promoted = events_of(trace, "Model Promoted", project=PROJECT)
        stages = {
            p["stage"]: p["model_package_arn"]
            for p in (promoted[0]["detail"]["promoted"] if promoted else [])
        }
        self.check(
            f"{PROJECT}: {version_label(dev_v1)} promoted into champion and challenger",
            bool(promoted)
            and promoted[0]["detail"]["source_model_package_arn"] == dev_v1
            and set(stages) == {"champion", "challenger"},
        )
        pending = [v["ModelApprovalStatus"] for group in (CHAMPION, CHALLENGER) for v in self.versions(group)]
        self.check(
            f"{PROJECT}: both promoted versions wait for approval", pending == ["PendingManualApproval"] * 2
        )
        if set(stages) != {"champion", "challenger"}:
            return None
        return stages["champion"], stages["challenger"]

    def champion_and_shadow(self, champion: str, challenger: str) -> None:
        self.step(
            "Approve the champion, then the challenger",
            who="a reviewer approves upsell-champion v1, then upsell-challenger v1.",
            control_plane="the champion's approval creates endpoint upsell-champion (tested once "
            "InService). The challenger's approval, in shadow mode, creates no endpoint of its own: the "
            "deployer adds the challenger to the champion's endpoint as a shadow variant, which gets a "
            "copy of every request while only the champion answers.",
        )
        first = self.approve(champion)
        self.check(f"{CHAMPION}: created, serving champion v1", self.serving(CHAMPION) == (champion, []))
        self.check(
            f"{CHAMPION}: integration tests passed",
            [
                e["detail"]["outcome"]
                for e in events_of(first, "Integration Tests Completed", endpoint_name=CHAMPION)
            ]
            == ["passed"],
        )
        second = self.approve(challenger)
        started = events_of(second, "Deployment Started", stage="challenger")
        production, shadows = self.serving(CHAMPION)
        self.note(
            f"{CHAMPION} serves {version_label(production)}; "
            f"shadow variant model: {', '.join(shadows) or 'none'}"
        )
        self.check(
            f"{CHALLENGER} v1: deployed as the shadow of {CHAMPION}",
            [(e["detail"]["endpoint_name"], e["detail"]["strategy"]) for e in started]
            == [(CHAMPION, "shadow")]
            and production == champion
            and len(shadows) == 1
            and shadows[0].startswith(f"{CHALLENGER}-v1-"),
        )
        self.check(f"{CHALLENGER}: no endpoint of its own", self.endpoint(CHALLENGER) is None)

    def live_traffic(self) -> None:
        self.step(
            "A client application calls upsell-champion",
            who=f"an application sends InvokeEndpoint to {CHAMPION} "
            f"with a customer {CUSTOMER['instances'][0]}.",
            control_plane="nothing: this is SageMaker serving. The champion answers; the challenger, as "
            "shadow, receives the same request and its answer is kept for comparison, never returned.",
        )
        before = len(self.cloud.shadow_invocations)
        runtime = self.cloud.session.client("sagemaker-runtime")
        answer = runtime.invoke_endpoint(
            EndpointName=CHAMPION, Body=json.dumps(CUSTOMER), ContentType="application/json"
        )
        body = json.loads(answer["Body"].read())
        shadowed = [c for c in self.cloud.shadow_invocations[before:] if c.get("endpoint") == CHAMPION]
        self.note(f"champion answered: {json.dumps(body)}")
        for copy in shadowed:
            answered = copy.get("body") or copy.get("error")
            if isinstance(answered, bytes):
                answered = answered.decode(errors="replace")
            self.note(f"shadow variant {copy.get('variant')} answered (kept, never returned): {answered}")
        self.check(f"{CHAMPION}: the champion answered the request", bool(body.get("predictions")))
        self.check(f"{CHAMPION}: the shadow received a copy of the request", len(shadowed) == 1)

    def reaper(self) -> None:
        self.step(
            "Night falls: the reaper runs",
            who="nobody tags anything; the nightly schedule fires.",
            control_plane="the reaper deletes upsell-dev (a dev endpoint nobody asked to keep); champion "
            "is production and is never a candidate.",
        )
        self.nightly_reaper(PROJECT, reaped=DEV, production=CHAMPION)

    def delete(self, physical_id: str) -> None:
        self.step(
            f"Delete project {PROJECT!r}",
            who="deletes the project in SageMaker Studio.",
            control_plane="the lifecycle function keeps the repository (the default retention), deletes "
            "the feature group because it is empty (ModelGroupRetention delete-if-empty), keeps the groups "
            "that hold versions, and marks the record deleted.",
        )
        deleted = self.delete_project(PROJECT, PROPERTIES, physical_id)
        self.check(
            f"{PROJECT}: the empty feature group was deleted, the others kept",
            list(deleted.get("model_groups_deleted") or []) == [FEATURE]
            and FEATURE not in self.groups()
            and {DEV, CHAMPION, CHALLENGER} <= self.groups(),
        )
        self.check(
            f"{PROJECT}: the repository was retained",
            deleted.get("repository") == "retained" and (self.cloud.git_root / f"{PROJECT}.git").exists(),
        )
        self.check(
            f"{PROJECT}: the project record says deleted",
            (self.record(PROJECT) or {}).get("status") == "deleted",
        )
        for group in deleted.get("model_groups_deleted") or []:
            self.removals.append(
                Removal(
                    f"model group {group}",
                    "the project lifecycle (Delete)",
                    "empty; ModelGroupRetention=delete-if-empty",
                )
            )


def _in_service_of(endpoint: str) -> Callable[[dict[str, Any]], bool]:
    """Selects the endpoint's ``SageMaker Endpoint State Change`` to ``IN_SERVICE``."""
    return lambda event: (
        event.get("detail-type") == "SageMaker Endpoint State Change"
        and event["detail"].get("EndpointName") == endpoint
        and event["detail"].get("EndpointStatus") == "IN_SERVICE"
    )
