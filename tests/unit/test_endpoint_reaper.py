"""The reaper's decisions (pure) and the order of its calls (fakes), including a property-based fleet."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from mlops_core.adapters.sagemaker import SageMakerAdapter
from mlops_core.contract.events.reaper import KeepReason
from mlops_core.contract.topology import PRODUCTION_STAGES, Stage
from mlops_core.reaper.endpoint_reaper import TIME_RESERVE_SECONDS, EndpointReaper, _ResourcesInUse, judge
from mlops_core.reaper.ports import EndpointSummary, ReaperServiceError, ScalableTarget
from mlops_core.reaper.settings import ReaperSettings

STACK = "mlops"
TODAY = date(2026, 11, 25)
ENV = {
    "STACK_NAME": STACK,
    "EVENT_BUS_NAME": "bus",
    "CONFIG_TABLE_NAME": "config",
    "IDEMPOTENCY_TABLE_NAME": "idem",
    "DEPLOYED_STAGES": "feature,dev",
}


def endpoint(name: str, **tags: str) -> EndpointSummary:
    return EndpointSummary(
        name=name,
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}",
        status="InService",
        config_name=f"{name}-config",
        tags=tags,
        variants=(("AllTraffic", 1.0),),
    )


def managed(name: str, stage: str, **extra: str) -> EndpointSummary:
    return endpoint(name, **{"mlops:managed-by": STACK, "mlops:stage": stage, "mlops:project": "p", **extra})


REAP_ALL = frozenset(Stage)  # a misconfigured parameter: the production stages must still be kept


def test_production_stages_are_kept_even_when_the_parameter_names_them():
    for stage in ("prod", "champion", "challenger"):
        verdict = judge(managed(f"p-{stage}", stage), stack_name=STACK, reapable=REAP_ALL, today=TODAY)
        assert not verdict.reap
        assert verdict.reason is KeepReason.PRODUCTION_STAGE


def test_a_production_name_protects_an_endpoint_whose_stage_tag_says_dev():
    verdict = judge(managed("p-prod", "dev"), stack_name=STACK, reapable=REAP_ALL, today=TODAY)
    assert verdict.reason is KeepReason.PRODUCTION_STAGE


def test_keep_until_keeps_through_that_day_and_a_bad_date_keeps_too():
    def reason(value: str):
        return judge(
            managed("p-dev", "dev", **{"mlops:keep-until": value}),
            stack_name=STACK,
            reapable=REAP_ALL,
            today=TODAY,
        ).reason

    assert reason(TODAY.isoformat()) is KeepReason.KEEP_UNTIL
    assert reason((TODAY + timedelta(days=3)).isoformat()) is KeepReason.KEEP_UNTIL
    assert reason((TODAY - timedelta(days=1)).isoformat()) is None
    assert reason("next friday") is KeepReason.INVALID_KEEP_UNTIL


def test_unmanaged_and_unknown_stage_endpoints_are_kept():
    assert judge(
        endpoint("p-dev", **{"mlops:stage": "dev"}), stack_name=STACK, reapable=REAP_ALL, today=TODAY
    ).reason is (KeepReason.NOT_MANAGED)
    assert judge(managed("p-x", "qa"), stack_name=STACK, reapable=REAP_ALL, today=TODAY).reason is (
        KeepReason.UNKNOWN_STAGE
    )
    assert judge(
        managed("p-feature", "feature"), stack_name=STACK, reapable=frozenset({Stage.DEV}), today=TODAY
    ).reason is (KeepReason.STAGE_NOT_REAPABLE)


class FakeSageMaker:
    """Each config ``{x}-config`` holds model ``{x}-model`` unless ``models`` says otherwise."""

    def __init__(
        self,
        fleet: list[EndpointSummary],
        calls: list[str],
        failing: set[str] = frozenset(),
        models: dict[str, list[str]] | None = None,
        gone: set[str] = frozenset(),
    ) -> None:
        self.fleet = fleet
        self.calls = calls
        self.failing = failing
        self.models = models or {}
        self.gone = gone
        self.described: list[str] = []

    def search_endpoints(self):
        self.calls.append("search")
        return iter(self.fleet)

    def models_of_config(self, config_name):
        self.described.append(config_name)
        if config_name in self.models:
            return self.models[config_name]
        if config_name.endswith("-config"):
            return [config_name.replace("-config", "-model")]
        head, version, _ = config_name.rsplit("-", 2)  # the deployer's: its model is named the same way
        return [f"{head}-{version}-aaaaaa"]

    def delete_managed_endpoint(self, name):
        if name in self.failing:
            raise ReaperServiceError("InternalFailure: boom")
        if name in self.gone:
            return False
        self.calls.append(f"delete-endpoint {name}")
        return True

    def delete_managed_endpoint_config(self, name):
        self.calls.append(f"delete-config {name}")
        return True

    def delete_managed_model(self, name):
        self.calls.append(f"delete-model {name}")
        return True


class FakeAutoscaling:
    def __init__(self, registered: set[str], calls: list[str]) -> None:
        self.registered = registered
        self.calls = calls

    def scalable_targets(self, resource_ids):
        self.calls.append(f"describe-targets {len(resource_ids)}")
        return [
            ScalableTarget(r, "sagemaker:variant:DesiredInstanceCount")
            for r in resource_ids
            if r in self.registered
        ]

    def deregister(self, target):
        self.calls.append(f"deregister {target.resource_id}")


def reaper(
    fleet,
    calls,
    *,
    registered=frozenset(),
    failing=frozenset(),
    stages="feature,dev",
    models=None,
    gone=frozenset(),
    remaining_seconds=lambda: None,
    reports=None,
):
    settings_ = ReaperSettings.from_environ({**ENV, "REAPABLE_STAGES": stages})
    return EndpointReaper(
        settings_,
        FakeSageMaker(fleet, calls, set(failing), models, set(gone)),
        FakeAutoscaling(set(registered), calls),
        reports=reports,
        today=lambda: TODAY,
        remaining_seconds=remaining_seconds,
    )


def test_autoscaling_is_deregistered_before_the_endpoint_is_deleted_then_config_and_model_go():
    calls: list[str] = []
    outcome = reaper([managed("p-dev", "dev")], calls, registered={"endpoint/p-dev/variant/AllTraffic"}).reap(
        dry_run=False, trigger="schedule"
    )
    assert calls == [
        "search",
        "describe-targets 1",
        "deregister endpoint/p-dev/variant/AllTraffic",
        "delete-endpoint p-dev",
        "delete-config p-dev-config",
        "delete-model p-dev-model",
    ]
    assert outcome.status == "reaped"


def test_a_config_that_a_kept_endpoint_uses_is_left_with_a_note():
    calls: list[str] = []
    doomed = managed("p-dev", "dev")
    kept = EndpointSummary(
        "p-prod",
        "arn",
        "InService",
        "p-dev-config",
        {**managed("p-prod", "prod").tags},
        (("AllTraffic", 1.0),),
    )
    outcome = reaper([doomed, kept], calls).reap(dry_run=False, trigger="schedule")
    assert "delete-config p-dev-config" not in calls
    [event] = outcome.events
    [deleted] = event.projects[0].deleted
    assert deleted.notes == ["endpoint config p-dev-config left: endpoint p-prod, which stays, uses it"]


def test_one_failure_is_reported_and_the_rest_are_deleted():
    calls: list[str] = []
    fleet = [managed("a-dev", "dev"), managed("b-dev", "dev"), managed("c-dev", "dev")]
    outcome = reaper(fleet, calls, failing={"b-dev"}).reap(dry_run=False, trigger="schedule")
    assert outcome.status == "partial"
    assert outcome.details["deleted"] == ["a-dev", "c-dev"]
    [event] = outcome.events
    assert [f.endpoint_name for f in event.projects[0].failed] == ["b-dev"]
    assert "InternalFailure: boom" in event.projects[0].failed[0].reason


STAGE_TAGS = st.sampled_from(["feature", "dev", "prod", "champion", "challenger", "qa", ""])


@st.composite
def fleets(draw):
    fleet = []
    for index in range(draw(st.integers(min_value=0, max_value=25))):
        name_stage = draw(st.sampled_from([s.value for s in Stage] + ["x"]))
        tags = {}
        if draw(st.booleans()):
            tags["mlops:managed-by"] = draw(st.sampled_from([STACK, "other-stack"]))
        tag_stage = draw(STAGE_TAGS)
        if tag_stage:
            tags["mlops:stage"] = tag_stage
        if draw(st.booleans()):
            tags["mlops:keep-until"] = draw(
                st.sampled_from([(TODAY + timedelta(days=d)).isoformat() for d in (-2, 0, 5)] + ["soon"])
            )
        fleet.append(endpoint(f"p{index}-{name_stage}", **tags))
    return fleet


@settings(max_examples=150, deadline=None)
@given(
    fleet=fleets(),
    stages=st.sets(st.sampled_from([s.value for s in Stage]), min_size=1),
    sharing=st.lists(st.tuples(st.integers(0, 24), st.integers(0, 24)), max_size=10),
)
def test_no_random_fleet_ever_loses_a_protected_endpoint_or_its_config_or_models(fleet, stages, sharing):
    # Endpoints share configs and models at random (by hand, or by another tool): endpoint i's config
    # also holds endpoint j's model.
    models = {e.config_name: [e.name + "-model"] for e in fleet}
    for i, j in sharing:
        if i < len(fleet) and j < len(fleet):
            models[fleet[i].config_name].append(fleet[j].name + "-model")
    calls: list[str] = []
    reaper(fleet, calls, stages=",".join(sorted(stages)), models=models).reap(
        dry_run=False, trigger="schedule"
    )
    deleted = {call.split(" ", 1)[1] for call in calls if call.startswith("delete-endpoint")}
    deleted_configs = {call.split(" ", 1)[1] for call in calls if call.startswith("delete-config")}
    deleted_models = {call.split(" ", 1)[1] for call in calls if call.startswith("delete-model")}
    for summary in fleet:
        if summary.name not in deleted:
            # A protected endpoint keeps its config and every model its config holds.
            assert summary.config_name not in deleted_configs
            assert not set(models[summary.config_name]) & deleted_models
            continue
        tags = summary.tags
        assert tags.get("mlops:managed-by") == STACK
        assert tags.get("mlops:stage") in {"feature", "dev"} & stages
        assert summary.name.rsplit("-", 1)[1] not in {stage.value for stage in PRODUCTION_STAGES}
        keep = tags.get("mlops:keep-until")
        assert keep is None or date.fromisoformat(keep) < TODAY


def test_a_model_that_an_endpoint_that_stays_uses_is_left_whatever_its_name():
    calls: list[str] = []
    doomed = managed("p-dev", "dev")
    kept = managed("p-prod", "prod")
    # p-prod's config (another name) serves p-dev's model too, e.g. set up by hand.
    models = {"p-dev-config": ["p-dev-model"], "p-prod-config": ["p-prod-model", "p-dev-model"]}
    outcome = reaper([doomed, kept], calls, models=models).reap(dry_run=False, trigger="schedule")
    assert "delete-config p-dev-config" in calls
    assert "delete-model p-dev-model" not in calls
    [deleted] = outcome.events[0].projects[0].deleted
    assert deleted.notes == ["model p-dev-model left: endpoint p-prod, which stays, uses it"]


def deployed(name: str, stage: str, *, managed_by: str = STACK) -> EndpointSummary:
    """An endpoint with a config the deployer named after it (``{endpoint}-v{version}-{fingerprint}``)."""
    summary = endpoint(name, **{"mlops:managed-by": managed_by, "mlops:stage": stage, "mlops:project": "p"})
    return EndpointSummary(
        summary.name, summary.arn, summary.status, f"{name}-v1-bbbbbb", summary.tags, summary.variants
    )


def test_only_configs_that_could_hold_a_deleted_endpoints_model_are_described():
    """The deployer's configs of this stack's endpoints that stay hold their own models: not described.
    An endpoint of another stack, or one whose config was made by hand, could use any model: described."""
    calls: list[str] = []
    fleet = [
        deployed("p-dev", "dev"),
        deployed("p-prod", "prod"),
        deployed("p-champion", "champion"),
        deployed("q-feature", "feature", managed_by="other-stack"),
        managed("r-prod", "prod"),  # config r-prod-config, not the deployer's name
    ]
    run = reaper(fleet, calls)

    run.reap(dry_run=False, trigger="schedule")

    sagemaker = run._sagemaker
    assert sagemaker.described == ["p-dev-v1-bbbbbb", "q-feature-v1-bbbbbb", "r-prod-config"]
    assert calls[-2:] == ["delete-config p-dev-v1-bbbbbb", "delete-model p-dev-v1-aaaaaa"]


def test_a_deleted_endpoints_model_in_the_config_of_an_endpoint_of_another_stack_is_left():
    calls: list[str] = []
    foreign = deployed("q-dev", "dev", managed_by="other-stack")
    models = {"q-dev-v1-bbbbbb": ["q-dev-v1-aaaaaa", "p-dev-v1-aaaaaa"]}
    outcome = reaper([deployed("p-dev", "dev"), foreign], calls, models=models).reap(
        dry_run=False, trigger="schedule"
    )
    assert "delete-model p-dev-v1-aaaaaa" not in calls
    [deleted] = outcome.events[0].projects[0].deleted
    assert deleted.notes == ["model p-dev-v1-aaaaaa left: endpoint q-dev, which stays, uses it"]


def test_a_champions_config_is_described_for_a_model_named_after_its_challenger():
    """A challenger in shadow mode runs as a variant of the champion's config: that config can hold the
    challenger's models. Each config is described once."""
    champion = deployed("p-champion", "champion")
    uses = _ResourcesInUse(FakeSageMaker([], []), [champion], stack_name=STACK)
    sagemaker = uses._sagemaker
    sagemaker.models = {champion.config_name: ["p-champion-v3-aaaaaa", "p-challenger-v4-cccccc"]}

    assert uses.model_user("p-dev-v1-aaaaaa") is None
    assert sagemaker.described == []
    assert uses.model_user("p-challenger-v4-cccccc") == "p-champion"
    assert uses.model_user("p-challenger-v2-dddddd") is None
    assert sagemaker.described == [champion.config_name]


def test_a_model_of_a_config_not_named_after_the_endpoint_is_deleted_when_nothing_else_uses_it():
    calls: list[str] = []
    hand_made = EndpointSummary(
        "p-dev", "arn", "InService", "hand-made-config", managed("p-dev", "dev").tags, ()
    )
    reaper([hand_made], calls).reap(dry_run=False, trigger="schedule")
    assert calls[-2:] == ["delete-config hand-made-config", "delete-model hand-made-model"]


def test_a_model_shared_with_an_endpoint_whose_deletion_failed_is_left():
    calls: list[str] = []
    fleet = [managed("a-dev", "dev"), managed("b-dev", "dev")]
    models = {"a-dev-config": ["shared-model"], "b-dev-config": ["shared-model"]}
    outcome = reaper(fleet, calls, models=models, failing={"b-dev"}).reap(dry_run=False, trigger="schedule")
    assert "delete-model shared-model" not in calls
    [deleted] = outcome.events[0].projects[0].deleted
    assert deleted.notes == ["model shared-model left: endpoint b-dev, which stays, uses it"]


def test_busy_endpoints_are_kept_and_tried_again_next_time():
    calls: list[str] = []
    fleet = [
        EndpointSummary(f"p{i}-dev", "arn", status, f"p{i}-dev-config", managed("x", "dev").tags, ())
        for i, status in enumerate(["Creating", "Updating", "InService"])
    ]
    outcome = reaper(fleet, calls).reap(dry_run=False, trigger="schedule")
    assert [c for c in calls if c.startswith("delete-endpoint")] == ["delete-endpoint p2-dev"]
    kept = {k.endpoint_name: k.reason for k in outcome.events[0].projects[0].kept}
    assert kept == {"p0-dev": KeepReason.BUSY, "p1-dev": KeepReason.BUSY}


def test_an_endpoint_already_gone_counts_as_deleted_and_its_config_still_goes():
    calls: list[str] = []
    outcome = reaper([managed("p-dev", "dev")], calls, gone={"p-dev"}).reap(dry_run=False, trigger="schedule")
    assert outcome.status == "reaped"
    [deleted] = outcome.events[0].projects[0].deleted
    assert deleted.notes == ["endpoint p-dev was already gone"]
    assert deleted.deleted_endpoint_configs == ["p-dev-config"]
    assert outcome.events[0].failed_count == 0


def test_when_time_runs_out_the_rest_is_reported_not_reached_and_the_summary_is_sent():
    calls: list[str] = []
    fleet = [managed(f"p{i}-dev", "dev") for i in range(5)]
    clock = iter([900.0, 500.0, TIME_RESERVE_SECONDS - 1])  # seconds left at each check; then always too few

    outcome = reaper(fleet, calls, remaining_seconds=lambda: next(clock, 10.0)).reap(
        dry_run=False, trigger="schedule"
    )

    assert outcome.status == "partial"
    assert outcome.details["deleted"] == ["p0-dev", "p1-dev"]
    assert outcome.details["not_reached"] == ["p2-dev", "p3-dev", "p4-dev"]
    [event] = outcome.events
    kept = {k.endpoint_name: k.reason for k in event.projects[0].kept}
    assert set(kept.values()) == {KeepReason.NOT_REACHED}
    assert [c for c in calls if c.startswith("delete-endpoint")] == [
        "delete-endpoint p0-dev",
        "delete-endpoint p1-dev",
    ]


class FakeReports:
    def __init__(self, refuse: bool = False) -> None:
        self.stored: dict[str, bytes] = {}
        self.refuse = refuse

    def put_report(self, name, report):
        if self.refuse:
            raise ReaperServiceError("AccessDenied: no")
        self.stored[name] = report
        return f"s3://reports/endpoints-reaped/{name}"


def big_fleet() -> list[EndpointSummary]:
    long_note = "x" * 60
    return [managed(f"p{i}-{long_note}-dev", "dev", **{"mlops:project": f"p{i}"}) for i in range(1500)]


def test_a_summary_too_big_for_eventbridge_keeps_names_and_counts_only_and_links_the_full_report():
    calls: list[str] = []
    reports = FakeReports()
    outcome = reaper(big_fleet(), calls, reports=reports).reap(
        dry_run=False, trigger="schedule", run_id="4f1c-event-id"
    )
    [event] = outcome.events
    assert event.details_dropped
    assert event.deleted_count == 1500
    assert len(json.dumps(event.detail())) < 256 * 1024
    assert event.report_uri == f"s3://reports/endpoints-reaped/{TODAY.isoformat()}/4f1c-event-id.json"
    [report] = reports.stored.values()
    full = json.loads(report)
    deleted = [e for p in full["projects"] for e in p["deleted"]]
    assert len(deleted) == 1500 and all(e["deleted_endpoint_configs"] for e in deleted)
    assert full["deleted_count"] == 1500 and not full["details_dropped"]


def test_a_full_report_that_cannot_be_stored_leaves_the_event_without_a_link():
    run = reaper(big_fleet(), [], reports=FakeReports(refuse=True))
    [event] = run.reap(dry_run=True, trigger="schedule").events
    assert event.details_dropped and event.report_uri is None


def test_a_summary_that_fits_stores_no_report():
    reports = FakeReports()
    run = reaper([managed("p-dev", "dev")], [], reports=reports)
    [event] = run.reap(dry_run=False, trigger="schedule").events
    assert not event.details_dropped and event.report_uri is None and reports.stored == {}


class _RefusingSageMaker:
    """Refuses every delete as IAM does when the resource's tags do not match (or it has none left)."""

    def __init__(self, existing: set[str]) -> None:
        self.existing = existing

    def delete_endpoint_config(self, EndpointConfigName: str) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "Delete")

    def describe_endpoint_config(self, EndpointConfigName: str) -> dict[str, str]:
        if EndpointConfigName not in self.existing:
            message = f"Could not find endpoint configuration {EndpointConfigName}."
            raise ClientError({"Error": {"Code": "ValidationException", "Message": message}}, "Describe")
        return {"EndpointConfigName": EndpointConfigName}


def test_a_refused_delete_of_a_resource_already_gone_counts_as_already_deleted():
    """A delete retried after a lost answer: the first attempt deleted it, and with it its tags, so the
    retry is refused by the tag condition rather than answered "not found"."""
    adapter = SageMakerAdapter(_RefusingSageMaker(existing=set()))
    assert adapter.delete_managed_endpoint_config("churn-dev-v1") is False


def test_a_refused_delete_of_a_resource_still_there_is_the_reapers_error_saying_so():
    adapter = SageMakerAdapter(_RefusingSageMaker(existing={"churn-dev-v1"}))
    with pytest.raises(ReaperServiceError, match=r"^AccessDeniedException: not authorized$") as refused:
        adapter.delete_managed_endpoint_config("churn-dev-v1")
    assert isinstance(refused.value.__cause__, ClientError)
