"""LocalCloud: the project's template deployed into an embedded AWS, with events routed like EventBridge.

    with LocalCloud() as cloud:
        sm = cloud.session.client("sagemaker")
        trace = cloud.send(event)                # route, run every matching function, cascade
        result = cloud.invoke("ModelDeployerFunction", event)
        cloud.slack_messages
        cloud.iam.denials                        # calls refused by the functions' IAM policies

Every function runs with its own execution role's credentials, and each AWS call it makes is evaluated
against that role's policies as deployed, and refused as AWS refuses it (`mlops_local.iam`,
docs/local-cloud.md). Calls made with `cloud.session` are the operator's, and are not evaluated.

Events wait in an inbox until the cloud delivers them: `send()` and `settle()` deliver everything
pending, including what the functions emit while they run, and then move the endpoints that are
Creating, Updating or RollingBack one step on (a blue/green rollout takes several, with no real
waiting; each step emits more events), until nothing is left. Calls made directly
with boto3 (an approval, say) put their events in the inbox for the next `settle()`.

AWS services send their events to EventBridge on a best-effort basis ("in some rare cases an event might
not be delivered"): `losing_service_events(which)` makes the service events `which` selects never reach
a bus, to show what the control plane does without them.
"""

import json
import secrets
import tempfile
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.exceptions import ClientError
from mlops_core.adapters.git_providers import add_git_provider
from mlops_core.contract.git_provider_name import GitProviderName

from mlops_local import aws_events, moto_gaps
from mlops_local.asynchronous import run_asynchronously
from mlops_local.aws_requests import AwsRequest, FaultPlan
from mlops_local.batch_transforms import TransformJobs
from mlops_local.cfn_yaml import load_template
from mlops_local.custom_resources import CustomResourceResponseReceiver
from mlops_local.deployment import DEFAULT_TEMPLATE, Deployment, deploy
from mlops_local.embedded_aws import EmbeddedAws
from mlops_local.endpoints import EndpointLifecycle
from mlops_local.environment import patched_environ
from mlops_local.errors import LocalCloudError
from mlops_local.function_urls import FunctionUrlServer
from mlops_local.functions import DeployedFunction, discover_functions
from mlops_local.iam import IamEnforcement
from mlops_local.inbox import Inbox, PendingEvent
from mlops_local.inference import InferenceServer, ServedRequest
from mlops_local.local_git import LocalGitProvider
from mlops_local.moto_gaps import lambda_invoke
from mlops_local.routing import RuleTarget, matching_targets
from mlops_local.runtime import FunctionRuntime, Invocation, one_invocation_at_a_time
from mlops_local.schedules import due_schedules, run_schedule
from mlops_local.slack import SlackWebhookReceiver, block_actions_payload, signed_request
from mlops_local.trace import Delivery, StartedBuild, Trace

SAGEMAKER_RUNTIME_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"
SLACK_WEBHOOK_SECRET = "SlackWebhookSecret"  # logical ID of the default webhook secret
SLACK_SIGNING_SECRET = "SlackSigningSecret"  # logical ID of the Slack app's signing secret
SLACK_APPROVALS_FUNCTION = "SlackApprovalsFunction"
DOMAIN_SOURCE_PREFIX = "mlops."  # the control plane's own events (mlops_core.contract.events)
MAX_DELIVERIES = 1000  # per send/settle: more means functions keep triggering each other
# Stack parameters the local cloud sets unless told otherwise (when the template declares them).
LOCAL_PARAMETER_DEFAULTS = {"DefaultGitProvider": "local"}
LAMBDA_LAYERS_ROOT = "/opt/"  # where Lambda extracts a function's layers
EventFilter = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class CustomResourceAnswer:
    """What a function PUT to a custom resource request's ResponseURL, and the invocation itself."""

    answer: dict[str, Any]
    invocation: Invocation

    @property
    def status(self) -> str:
        return str(self.answer.get("Status"))

    @property
    def reason(self) -> str:
        return str(self.answer.get("Reason", ""))

    @property
    def physical_id(self) -> str:
        return str(self.answer.get("PhysicalResourceId", ""))

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.answer.get("Data") or {})


class LocalCloud:
    session: boto3.Session
    deployment: Deployment
    functions: dict[str, DeployedFunction]  # by logical ID
    git_root: Path  # where the local git provider (`local_git`, added while open) keeps bare repositories

    def __init__(
        self,
        template: Path | None = None,
        *,
        stack_name: str = "mlops",
        region: str = "us-east-1",
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.template = Path(template) if template is not None else DEFAULT_TEMPLATE
        self.stack_name = stack_name
        self.region = region
        self.parameters = dict(parameters or {})
        self.history = Trace()  # every delivery since the cloud opened
        self.slack_signing_secret = secrets.token_hex(16)  # the Slack app's, put in SlackSigningSecret
        self._inbox = Inbox()
        self._losing: tuple[EventFilter, list[dict[str, Any]]] | None = None  # losing_service_events
        self._exit_stack = ExitStack()
        # Invocations that a function made with a synchronous Lambda Invoke (each in its own process).
        self.invoked_in_own_process: list[Invocation] = []
        self._lock_invoked = threading.Lock()

    # ------------------------------------------------------------------------------------------ lifecycle

    def __enter__(self) -> "LocalCloud":
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> "LocalCloud":
        """Start the embedded AWS and the Slack receiver, and deploy the template."""
        moto_gaps.apply()
        with ExitStack() as stack:
            aws_events.listen(self._receive)
            stack.callback(aws_events.stop_listening)
            self._aws = stack.enter_context(EmbeddedAws(self.region))
            self._slack = stack.enter_context(SlackWebhookReceiver())
            self._custom_resource_responses = stack.enter_context(CustomResourceResponseReceiver())
            self.git_root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mlops-local-git-")))
            # DefaultGitProvider=local (and a project's GitProvider: local) choose these repositories.
            stack.callback(add_git_provider(GitProviderName.LOCAL, lambda: LocalGitProvider(self.git_root)))
            self.session = self._aws.session()
            self.deployment = deploy(
                self.session, self.template, stack_name=self.stack_name, parameters=self._stack_parameters()
            )
            self.functions = {
                logical_id: self._localised(function)
                for logical_id, function in discover_functions(self.session, self.deployment).items()
            }
            self.iam = IamEnforcement(self.account_id, self.region)
            self._attach_template_managed_policies()
            self._aws.requests.authorizer = self.iam.refusal
            stack.callback(setattr, self._aws.requests, "authorizer", None)
            self._runtime = FunctionRuntime(
                self.region, lambda function: self.iam.credentials_for(function.role, function.name)
            )
            stack.callback(self._runtime.close)
            stack.callback(lambda_invoke.register(self.account_id, self.region, self._run_invoked_function))
            self._endpoints = EndpointLifecycle(account=self.account_id, region=self.region)
            self._events_client = self.session.client("events")
            self._sqs_client = self.session.client("sqs")
            self._inference = stack.enter_context(
                InferenceServer(
                    account=self.account_id,
                    region=self.region,
                    authorize=self.iam.authorize_invoke_endpoint,
                )
            )
            self._transform_jobs = TransformJobs(
                account=self.account_id, region=self.region, model_of=self._inference.model
            )
            # boto3's sagemaker-runtime clients (the functions' included) reach the inference server.
            stack.enter_context(patched_environ({SAGEMAKER_RUNTIME_ENDPOINT_VARIABLE: self._inference.url}))
            self._point_slack_secret_at_receiver()
            self._exit_stack = stack.pop_all()
        return self

    def close(self) -> None:
        """Stop everything and restore the environment exactly as it was before `open()`."""
        self._exit_stack.close()

    def _attach_template_managed_policies(self) -> None:
        """The functions' roles' ManagedPolicyArns, which moto's CloudFormation leaves unattached: AWS
        managed policies by ARN, and the stack's own managed policies by `Ref` (which gives the ARN)."""
        for logical_id, resource in self.deployment.template["Resources"].items():
            if resource.get("Type") != "AWS::IAM::Role" or logical_id not in self.deployment.resources:
                continue
            arns = resource.get("Properties", {}).get("ManagedPolicyArns") or []
            resolved = tuple(arn for arn in map(self._managed_policy_arn, arns) if arn is not None)
            if len(resolved) != len(arns):
                raise LocalCloudError(
                    f"{logical_id}'s ManagedPolicyArns are neither ARNs nor Refs of the stack's managed "
                    f"policies: {arns}"
                )
            self.iam.attach_managed_policies(self.deployment.resources[logical_id].physical_id, resolved)

    def _managed_policy_arn(self, arn: Any) -> str | None:
        if isinstance(arn, str):
            return arn
        if isinstance(arn, dict) and set(arn) == {"Ref"}:
            policy = self.deployment.resources.get(arn["Ref"])
            if policy is not None and policy.resource_type == "AWS::IAM::ManagedPolicy":
                return policy.physical_id
        return None

    def _point_slack_secret_at_receiver(self) -> None:
        """The stack's default Slack webhook secret names the local Slack receiver, and the Slack app's
        signing secret is set (if the stack has them), as an operator does after deploying."""
        secret = self.deployment.resources.get(SLACK_WEBHOOK_SECRET)
        if secret is not None:
            self.set_slack_webhook_url(self.slack_webhook_url)
        if self.deployment.resources.get(SLACK_SIGNING_SECRET) is not None:
            self.set_slack_signing_secret(self.slack_signing_secret)

    def set_slack_signing_secret(self, secret: str) -> None:
        """Put ``secret`` in the stack's Slack signing secret (as an operator does after creating the
        Slack app); `click_in_slack` signs with it from now on."""
        self.slack_signing_secret = secret
        self.session.client("secretsmanager").put_secret_value(
            SecretId=self.deployment.resources[SLACK_SIGNING_SECRET].physical_id,
            SecretString=json.dumps({"signing_secret": secret}),
        )

    def click_in_slack(
        self,
        message: dict[str, Any],
        action_id: str,
        *,
        user_id: str,
        user_name: str = "someone",
        signing_secret: str | None = None,
        timestamp: int | None = None,
        body: bytes | None = None,
    ) -> int:
        """``user_id`` clicks the button ``action_id`` of ``message`` (a payload the notifier sent):
        Slack's signed interaction request is posted to the Slack approvals function's URL (signed with
        the stack's signing secret unless ``signing_secret`` is given; sent at ``timestamp``, or now;
        ``body`` replaces the signed body, as a tampered request). The HTTP status it answered; its
        reply is in `slack_responses`, the events it caused wait for `settle()`."""
        payload = block_actions_payload(
            message,
            action_id,
            user_id=user_id,
            user_name=user_name,
            response_url=self.new_slack_response_url(),
        )
        signed, headers = signed_request(
            payload, signing_secret or self.slack_signing_secret, timestamp=timestamp
        )
        request = urllib.request.Request(
            self.function_url(SLACK_APPROVALS_FUNCTION),
            data=signed if body is None else body,
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def new_slack_response_url(self) -> str:
        """A ``response_url`` as Slack gives one with each interaction (the local Slack receiver's)."""
        return self._slack.new_response_url()

    @property
    def slack_responses(self) -> list[tuple[str, dict[str, Any]]]:
        """What was posted to interactions' ``response_url`` so far: (response_url, payload), oldest first."""
        return self._slack.responses

    def set_slack_webhook_url(self, url: str) -> None:
        """Put `url` in the stack's default Slack webhook secret, as an operator does after deploying."""
        secret_arn = self.deployment.resources[SLACK_WEBHOOK_SECRET].physical_id
        self.session.client("secretsmanager").put_secret_value(
            SecretId=secret_arn, SecretString=json.dumps({"webhook_url": url})
        )

    def _stack_parameters(self) -> dict[str, str]:
        declared = load_template(self.template).get("Parameters", {})
        defaults = {name: value for name, value in LOCAL_PARAMETER_DEFAULTS.items() if name in declared}
        return {**defaults, **self.parameters}

    def _localised(self, function: DeployedFunction) -> DeployedFunction:
        """The function's environment as it runs here: paths under /opt point into its layers' local
        directories (Lambda extracts layers there), and `SSL_CERT_FILE` makes HTTPS clients trust the
        custom resource response receiver."""
        environment = dict(function.environment)
        for name, value in function.environment.items():
            if value.startswith(LAMBDA_LAYERS_ROOT):
                relative = value.removeprefix(LAMBDA_LAYERS_ROOT)
                for layer_dir in function.layer_dirs:
                    if (layer_dir / relative).exists():
                        environment[name] = str(layer_dir / relative)
                        break
        environment["SSL_CERT_FILE"] = str(self._custom_resource_responses.ca_bundle)
        return replace(function, environment=environment)

    def session_as(self, function: str) -> boto3.Session:
        """A boto3 session with credentials of `function`'s execution role (a session of its own, named
        after the function as Lambda's is): its calls are evaluated as the function's are."""
        deployed = self.functions.get(function)
        if deployed is None:
            raise LocalCloudError(f"no function {function!r} in the stack; it has {sorted(self.functions)}")
        credentials = self.iam.credentials_for(deployed.role, deployed.name)
        return boto3.Session(
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=credentials["AWS_SESSION_TOKEN"],
            region_name=self.region,
        )

    # ---------------------------------------------------------------------------------------------- facts

    @property
    def account_id(self) -> str:
        return self._aws.account_id

    @property
    def outputs(self) -> dict[str, str]:
        """The stack's outputs, e.g. `EventBusName`."""
        return self.deployment.outputs

    @property
    def slack_messages(self) -> list[dict[str, Any]]:
        """The payloads posted to `slack_webhook_url` so far, oldest first."""
        return self._slack.messages

    @property
    def slack_webhook_url(self) -> str:
        return self._slack.url

    @property
    def custom_resource_responses(self) -> CustomResourceResponseReceiver:
        """The stand-in for CloudFormation's response URLs: `new_response_url()` gives a URL and its key,
        `answers(key)` every answer PUT there (CloudFormation expects exactly one)."""
        return self._custom_resource_responses

    @property
    def sagemaker_runtime_url(self) -> str:
        """The inference server that answers InvokeEndpoint (AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME)."""
        return self._inference.url

    def recording_inference(self) -> AbstractContextManager[list[ServedRequest]]:
        """Every InvokeEndpoint the inference server answers meanwhile: arrival and service time."""
        return self._inference.recording()

    @property
    def shadow_invocations(self) -> list[dict[str, Any]]:
        """What the endpoints' shadow variants answered, oldest first (never returned to callers)."""
        return self._inference.shadow_invocations

    @property
    def pending_events(self) -> int:
        """Events put on a bus and not delivered yet (the next `settle()` delivers them)."""
        return len(self._inbox)

    # --------------------------------------------------------------------------------------------- events

    def bus_for(self, event: dict[str, Any]) -> str:
        """Where `event` travels: the application bus for the control plane's `mlops.*` sources (its
        domain events, CI's `Git Branch Updated`, an operator's requests), else the default bus."""
        if str(event.get("source", "")).startswith(DOMAIN_SOURCE_PREFIX):
            return self.outputs["EventBusName"]
        return aws_events.DEFAULT_BUS

    def send(self, event: dict[str, Any], bus: str = aws_events.DEFAULT_BUS) -> Trace:
        """Put `event` on `bus` (adding the envelope it lacks) and deliver until nothing is left."""
        self._events_client.describe_event_bus(Name=bus)  # fails like PutEvents on a bus that does not exist
        enveloped = aws_events.with_envelope(event, account=self.account_id, region=self.region)
        self._inbox.put(bus, enveloped, from_aws_service=False)
        return self.settle()

    def _receive(self, bus: str, event: dict[str, Any], from_aws_service: bool) -> None:
        if from_aws_service and self._losing is not None:
            which, lost = self._losing
            if which(event):
                lost.append(event)
                return
        self._inbox.put(bus, event, from_aws_service)

    @contextmanager
    def losing_service_events(self, which: EventFilter) -> Iterator[list[dict[str, Any]]]:
        """While the block runs, the events AWS services emit for which `which(event)` is true are lost
        (never put on a bus), as best-effort delivery allows; the list collects them as they are lost."""
        lost: list[dict[str, Any]] = []
        self._losing = (which, lost)
        try:
            yield lost
        finally:
            self._losing = None

    def discard_pending_events(self) -> int:
        """Drop the events not delivered yet (those of a scene being set, which the caller stands in
        for with events of its own); how many."""
        dropped = 0
        while self._inbox.take() is not None:
            dropped += 1
        return dropped

    def settle(self) -> Trace:
        """Deliver every pending event and let unheld endpoints finish their transitions, until quiet."""
        trace = Trace()
        while len(trace) < MAX_DELIVERIES:
            pending = self._inbox.take()
            if pending is None:
                if self._endpoints.advance() or self._transform_jobs.advance():
                    continue
                return trace
            delivery = self._deliver(pending)
            trace.deliveries.append(delivery)
            self.history.deliveries.append(delivery)
        raise LocalCloudError(
            f"still delivering after {MAX_DELIVERIES} events; do functions trigger each other forever?\n"
            + "\n".join(trace.timeline().splitlines()[-10:])
        )

    def invoke(self, function: str, event: Any) -> Invocation:
        """Call one function directly, like `sam local invoke`; the events it emits wait for `settle()`."""
        try:
            deployed = self.functions[function]
        except KeyError:
            raise LocalCloudError(
                f"no function {function!r} in the stack; it has {sorted(self.functions)}"
            ) from None
        return self._invoke(deployed, event, 1)

    def _run_invoked_function(self, name_or_arn: str, event: Any) -> tuple[bytes, bool] | None:
        """A synchronous Lambda Invoke of one of the stack's functions (by name or ARN), made while
        another invocation runs: in a process of its own (`moto_gaps.lambda_invoke`)."""
        name = name_or_arn.rsplit(":function:", maxsplit=1)[-1].split(":", maxsplit=1)[0]
        deployed = next((f for f in self.functions.values() if name in (f.name, f.arn)), None)
        if deployed is None:
            return None
        invocation = self._runtime.invoke_in_own_process(deployed, event)
        with self._lock_invoked:
            self.invoked_in_own_process.append(invocation)
        return json.dumps(invocation.response).encode(), invocation.error is not None

    def _invoke(self, function: DeployedFunction, event: Any, attempt: int) -> Invocation:
        with one_invocation_at_a_time, self._inbox.emitting_as(function.logical_id) as emitted:
            invocation = self._runtime.invoke(function, event, attempt=attempt)
        return replace(invocation, emitted=tuple(emitted))

    def _deliver(self, pending: PendingEvent) -> Delivery:
        if pending.bus.startswith(aws_events.SNS_DELIVERY_PREFIX):
            return self._deliver_sns(pending)
        targets = list(matching_targets(self._events_client, pending.bus, pending.event, pending.arrived_at))
        runs = tuple(
            run_asynchronously(
                self._function_with_arn(target.arn),
                target.rule,
                target.payload,
                self._invoke,
                self._sqs_client,
            )
            for target in targets
            if not _is_codebuild_project(target.arn)
        )
        builds = tuple(self._start_build(target) for target in targets if _is_codebuild_project(target.arn))
        rules = tuple(dict.fromkeys(target.rule for target in targets))
        return Delivery(pending.bus, pending.event, pending.emitted_by, rules, runs, builds)

    def _start_build(self, target: RuleTarget) -> StartedBuild:
        """A CodeBuild project target: EventBridge calls StartBuild as the target's role with the
        target's input as its parameters (EventBridge User Guide, "Event bus targets": CodeBuild needs
        a role), so the local IAM decides with that role's policies."""
        request = dict(target.payload) if isinstance(target.payload, dict) else {}
        if target.role_arn is None:
            return StartedBuild(target.rule, target.arn, None, request, None, "the target has no RoleArn")
        codebuild = self.session_as_role(target.role_arn, "events").client("codebuild")
        try:
            build = codebuild.start_build(projectName=target.arn.rsplit("/", 1)[-1], **request)["build"]
        except ClientError as error:
            return StartedBuild(target.rule, target.arn, target.role_arn, request, None, str(error))
        return StartedBuild(target.rule, target.arn, target.role_arn, request, str(build["id"]))

    def _deliver_sns(self, pending: PendingEvent) -> Delivery:
        """An SNS message for a function: Lambda invokes it asynchronously (the subscription is the rule)."""
        function = self._function_with_arn(pending.bus.removeprefix(aws_events.SNS_DELIVERY_PREFIX))
        subscription = pending.event["Records"][0]["EventSubscriptionArn"]
        run = run_asynchronously(function, subscription, pending.event, self._invoke, self._sqs_client)
        return Delivery(pending.bus, pending.event, pending.emitted_by, (subscription,), (run,))

    def _function_with_arn(self, arn: str) -> DeployedFunction:
        unqualified = ":".join(arn.split(":")[:7])  # arn:aws:lambda:region:account:function:name[:qualifier]
        for function in self.functions.values():
            if function.arn == unqualified:
                return function
        raise LocalCloudError(f"a rule targets {arn}: the local cloud delivers only to the stack's functions")

    # ------------------------------------------------------------------------------------- AWS requests

    @contextmanager
    def recording_aws_requests(self) -> Iterator[list[AwsRequest]]:
        """Every request the embedded AWS receives inside the block (from the functions, the local cloud
        and the caller alike), named by service and operation, with whether it changes anything."""
        with self._aws.requests.recording() as requests:
            yield requests

    @contextmanager
    def failing_aws_requests(
        self,
        rate: float,
        services: Iterable[str] = ("sagemaker", "s3", "dynamodb"),
        *,
        kinds: Iterable[str] = ("throttling", "unavailable"),
        seed: int = 0,
    ) -> Iterator[FaultPlan]:
        """Inside the block, fail `rate` of the requests to `services` as AWS fails them: `throttling`
        (ThrottlingException, S3's SlowDown), `unavailable` (503) before the service acts, or
        `internal-error-after-success` (a 500 after it acted). Seeded, so a run can be repeated."""
        plan = FaultPlan(rate, frozenset(services), tuple(kinds), seed)
        with self._aws.requests.failing(plan):
            yield plan

    # ------------------------------------------------------------------------------------------ endpoints

    def hold_endpoint(self, name: str, status: str = "Updating") -> None:
        """Keep endpoint `name` in `status` (now, or once it is created) until `release_endpoint(name)`."""
        self._endpoints.hold(name, status)

    def hold_rollout(self, name: str, at: str = "Baking") -> None:
        """Stop endpoint `name`'s blue/green rollout when it reaches the VariantStatus `at` (`Creating`,
        `ActivatingTraffic` or `Baking`: the first bake is a canary's) until `release_endpoint(name)`
        or the end of that rollout (a rollback).
        SageMaker keeps watching the rollout's alarms meanwhile: set one to ALARM
        (cloudwatch.set_alarm_state) and the next `settle()` rolls the update back."""
        self._endpoints.hold_rollout(name, at)

    def release_endpoint(self, name: str) -> None:
        """Let endpoint `name` (and its rollout) move on at the next `settle()`."""
        self._endpoints.release(name)

    def run_schedule(self, name: str, *, group: str | None = None, at: datetime | None = None) -> Trace:
        """Schedule `name`'s time `at` (default: now) has come (in `group`, by default the batch stages'
        group): its target is called as its role, then everything that follows is delivered (`settle()`)."""
        run_schedule(
            self.session_as_role,
            account=self.account_id,
            region=self.region,
            group=group or f"{self.stack_name}-batch",
            name=name,
            scheduled_time=at,
        )
        return self.settle()

    def run_schedules_due(self, until: datetime) -> Trace:
        """The clock reaches `until` (aware): the one-time schedules due by then run, earliest first, each
        followed by everything it causes (`settle()`). Schedules made meanwhile are left for the next
        call: their times come from the real clock, which has not moved."""
        trace = Trace()
        for due in due_schedules(self.account_id, self.region, until):
            run_schedule(
                self.session_as_role,
                account=self.account_id,
                region=self.region,
                group=due.group,
                name=due.name,
            )
            trace.deliveries.extend(self.settle().deliveries)
        return trace

    def session_as_role(self, role_arn: str, session_name: str = "scheduler") -> boto3.Session:
        """A boto3 session of an assumed-role session of `role_arn` (as a service assumes it, e.g. the
        batch schedules' role for Scheduler): its calls are evaluated against that role's policies."""
        credentials = self.iam.credentials_for(role_arn, session_name)
        return boto3.Session(
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=credentials["AWS_SESSION_TOKEN"],
            region_name=self.region,
        )

    def fail_endpoint(self, name: str, reason: str) -> None:
        """End endpoint `name`'s transition as Failed, with `reason` as its FailureReason."""
        self._endpoints.fail(name, reason)

    # ---------------------------------------------------------------------------------- function URLs

    def function_url(self, function: str) -> str:
        """The loopback URL that serves `function`'s Lambda function URL (AWS::Lambda::Url in the
        template); each request runs the function in-process, its emitted events wait for `settle()`."""
        servers: dict[str, FunctionUrlServer] = self.__dict__.setdefault("_function_urls", {})
        if function not in servers:
            deployed = self.functions.get(function)
            if deployed is None:
                raise LocalCloudError(
                    f"no function {function!r} in the stack; it has {sorted(self.functions)}"
                )
            try:
                self.session.client("lambda").get_function_url_config(FunctionName=deployed.name)
            except Exception as error:
                raise LocalCloudError(f"function {function} has no function URL in the template") from error
            server = FunctionUrlServer(
                lambda event: self._invoke(deployed, event, 1).result, account=self.account_id
            )
            servers[function] = self._exit_stack.enter_context(server)
        return servers[function].url

    def wait_for_function_url_requests(self, function: str, count: int, timeout_seconds: float = 30) -> None:
        """Wait until `function`'s URL has answered `count` requests in all (sent by another process,
        such as an MLflow server delivering a webhook); LocalCloudError if that takes too long."""
        self.function_url(function)
        server: FunctionUrlServer = self.__dict__["_function_urls"][function]
        if not server.wait_for_requests(count, timeout_seconds):
            raise LocalCloudError(
                f"{function}'s URL did not receive {count} request(s) within {timeout_seconds} s"
            )

    # ---------------------------------------------------------------------------------- custom resources

    def request_custom_resource(
        self,
        function: str,
        request_type: str,
        properties: dict[str, Any],
        *,
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
        logical_id: str = "Project",
        resource_type: str = "Custom::SageMakerProject",
        stack_id: str | None = None,
    ) -> CustomResourceAnswer:
        """Send `function` a CloudFormation custom resource request (Create, Update or Delete) with an
        HTTPS ResponseURL served here, and return the answer it PUT there.

        Raises LocalCloudError, with the function's error and last log lines, if it answered nothing.
        """
        deployed = self.functions.get(function)
        if deployed is None:
            raise LocalCloudError(f"no function {function!r} in the stack; it has {sorted(self.functions)}")
        response_url, key = self._custom_resource_responses.new_response_url()
        request: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": deployed.arn,
            "ResponseURL": response_url,
            "StackId": stack_id
            or f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/sc-project/{uuid.uuid4()}",
            "RequestId": str(uuid.uuid4()),
            "ResourceType": resource_type,
            "LogicalResourceId": logical_id,
            "ResourceProperties": {"ServiceToken": deployed.arn, **properties},
        }
        if physical_id is not None:
            request["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            request["OldResourceProperties"] = {"ServiceToken": deployed.arn, **old_properties}
        invocation = self.invoke(function, request)
        answer = self._custom_resource_responses.response(key)
        if answer is None:
            last_logs = "\n".join(str(line) for line in invocation.logs[-10:])
            raise LocalCloudError(
                f"{function} did not answer the {request_type} request "
                f"(error: {invocation.error}); its last log lines:\n{last_logs}"
            )
        return CustomResourceAnswer(answer, invocation)


def _is_codebuild_project(arn: str) -> bool:
    """arn:aws:codebuild:{region}:{account}:project/{name}"""
    parts = arn.split(":")
    return len(parts) == 6 and parts[2] == "codebuild" and parts[5].startswith("project/")
