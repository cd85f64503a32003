"""The MLflow path: a real MLflow tracking server on loopback, its aliases deployed through LocalCloud.

The server (`mlflow server`, SQLite backend) comes from .venv-mlflow (`make test` installs it). Model
versions are registered with an `s3://` source in the embedded S3, holding the demo model's files
(docs/demo-model.md), so the deployed version really answers.
"""

from __future__ import annotations

import ast
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from boto3.dynamodb.types import TypeSerializer
from mlops_core.adapters.mlflow_alias_table import AliasStateTable
from mlops_core.adapters.mlflow_registry import MlflowRegistry
from mlops_core.adapters.project_store import ProjectStore
from mlops_core.contract.project_record import ProjectRecord
from mlops_core.handlers.mlflow_webhook import sign
from mlops_core.mlflow_aliases.alias_watcher import MlflowAliasWatcher
from mlops_core.mlflow_aliases.settings import MlflowWatcherSettings
from mlops_local import LocalCloud
from mlops_local.demo_model import GOOD_MODEL

ROOT = Path(__file__).resolve().parents[2]
MLFLOW = ROOT / ".venv-mlflow" / "bin" / "mlflow"
BUCKET = "mlops-mlflow-models"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:3.17.2"
WEBHOOK_SECRET = "s3cr3t-for-hmac"
TRACKING_SERVER_ARN = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/demo"
STARTUP_SECONDS = 60

pytestmark = pytest.mark.skipif(
    not MLFLOW.exists(), reason="make test installs .venv-mlflow (the MLflow server)"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        # Deliver webhooks to the loopback function URL (MLflow allows public https targets by default).
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        "MLFLOW_WEBHOOK_CACHE_TTL": "0",  # a webhook registered by a test is used at once
    }
    process = subprocess.Popen(
        [str(MLFLOW), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{home}/mlflow.db", "--artifacts-destination", str(home / "artifacts")],
        cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    log = home / "server.log"
    listening = threading.Event()

    def keep_log() -> None:
        """Copy the server's output into server.log; note when Uvicorn says it is listening."""
        assert process.stdout is not None
        with log.open("w") as sink:
            for line in process.stdout:
                sink.write(line)
                sink.flush()
                if "Uvicorn running on" in line:
                    listening.set()
        listening.set()  # the server exited: stop waiting (the check below says why)

    threading.Thread(target=keep_log, name="mlflow-server-log", daemon=True).start()
    try:
        if not listening.wait(STARTUP_SECONDS) or process.poll() is not None:
            raise RuntimeError(f"mlflow server did not start:\n{log.read_text()[-3000:]}")
        with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:
            assert answer.status == 200
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def model(mlflow_server: str) -> str:
    return f"x{uuid.uuid4().hex[:6]}"


@pytest.fixture
def cloud(mlflow_server: str) -> Iterator[LocalCloud]:
    parameters = {"MlflowTrackingUri": mlflow_server, "MlflowWebhookSecretName": "mlflow-webhook"}
    with LocalCloud(parameters=parameters) as local_cloud:
        local_cloud.session.client("secretsmanager").create_secret(
            Name="mlflow-webhook", SecretString=json.dumps({"secret": WEBHOOK_SECRET})
        )
        local_cloud.session.client("s3").create_bucket(Bucket=BUCKET)
        yield local_cloud


@pytest.fixture
def client(mlflow_server: str):
    from mlflow import MlflowClient  # noqa: PLC0415 - the MLflow client is imported by the tests that use it

    return MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)


def _project(cloud: LocalCloud, model: str) -> None:
    now = "2026-11-25T18:30:00+00:00"
    record = ProjectRecord(
        project=model, project_id="p-1", scenario="baseline", registry_backend="mlflow", git_provider="local",
        repository_name=model, repository_url="file:///dev/null", repository_retention="retain",
        model_group_retention="retain", mlflow_serving_image=IMAGE, created_at=now, updated_at=now,
    )  # fmt: skip
    ProjectStore(cloud.session.client("dynamodb"), cloud.outputs["ConfigTableName"]).put(record)


def _register(cloud: LocalCloud, client, model: str, parameters: dict) -> int:
    """A version whose files (the demo model's model.json) are under an s3:// prefix."""
    prefix = f"{model}/{uuid.uuid4().hex[:8]}"
    cloud.session.client("s3").put_object(
        Bucket=BUCKET, Key=f"{prefix}/model.json", Body=json.dumps(parameters)
    )
    if not client.search_registered_models(filter_string=f"name = '{model}'"):
        client.create_registered_model(model)
    version = client.create_model_version(
        model, source=f"s3://{BUCKET}/{prefix}", tags={"git_commit": "c0ffee"}
    )
    return int(version.version)


def _poll(cloud: LocalCloud):
    event = {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": cloud.account_id, "time": "2026-11-25T18:30:00Z", "region": cloud.region,
        "resources": [], "detail": {},
    }  # fmt: skip
    return cloud.invoke("MlflowAliasWatcherFunction", event)


def _endpoint(cloud: LocalCloud, name: str) -> dict:
    sagemaker = cloud.session.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=name)
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]}
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    return {
        "status": endpoint["EndpointStatus"],
        "tags": tags,
        "model": model,
        "config": endpoint["EndpointConfigName"],
    }


def _alias_events(invocation) -> list[dict]:
    return [e["detail"] for e in invocation.emitted if e["detail-type"] == "MLflow Model Alias Changed"]


def test_assigning_dev_deploys_x_dev_and_moving_it_updates_the_endpoint(cloud, client, model):
    _project(cloud, model)
    first = _register(cloud, client, model, GOOD_MODEL)
    second = _register(cloud, client, model, GOOD_MODEL)
    client.set_registered_model_alias(model, "dev", first)

    polled = _poll(cloud)
    [change] = _alias_events(polled)
    assert change | {"source_uri": None} == {
        "project": model, "stage": "dev", "model": model, "alias": "dev", "new_version": first,
        "source_uri": None, "tags": {"git_commit": "c0ffee"}, "trigger": "poll",
    }  # fmt: skip
    assert change["source_uri"].startswith(f"s3://{BUCKET}/{model}/")
    trace = cloud.settle()
    [started] = trace.events(detail_type="Deployment Started")
    assert started["detail"]["model_package_arn"] == f"models:/{model}/{first}"
    state = _endpoint(cloud, f"{model}-dev")
    assert state["status"] == "InService"
    assert state["tags"] == {
        "mlops:project": model, "mlops:stage": "dev", "mlops:managed-by": cloud.stack_name,
        "mlops:mlflow-model-version": f"models:/{model}/{first}",
    }  # fmt: skip
    assert state["model"]["PrimaryContainer"]["Image"] == IMAGE
    assert state["model"]["PrimaryContainer"]["ModelDataSource"]["S3DataSource"] == {
        "S3Uri": change["source_uri"] + "/", "S3DataType": "S3Prefix", "CompressionType": "None",
    }  # fmt: skip
    answer = cloud.session.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=f"{model}-dev",
        ContentType="application/json",
        Body=json.dumps({"instances": [[2, 95.0, 4]]}),
    )
    assert json.loads(answer["Body"].read())["predictions"][0]["label"] == 1  # the demo churner leaves

    assert _alias_events(_poll(cloud)) == []  # nothing changed since the last poll

    client.set_registered_model_alias(model, "dev", second)
    [moved] = _alias_events(_poll(cloud))
    assert (moved["old_version"], moved["new_version"]) == (first, second)
    trace = cloud.settle()
    [started] = trace.events(detail_type="Deployment Started")
    assert started["detail"]["action"] == "update"
    assert (
        _endpoint(cloud, f"{model}-dev")["tags"]["mlops:mlflow-model-version"] == f"models:/{model}/{second}"
    )

    # The alias removed from the live version: back to the configuration it ran before.
    client.delete_registered_model_alias(model, "dev")
    [removed] = _alias_events(_poll(cloud))
    assert (removed["old_version"], removed.get("new_version")) == (second, None)
    trace = cloud.settle()
    [rolled_back] = trace.events(detail_type="Deployment Rolled Back")
    assert rolled_back["detail"]["model_package_arn"] == f"models:/{model}/{first}"
    assert (
        _endpoint(cloud, f"{model}-dev")["tags"]["mlops:mlflow-model-version"] == f"models:/{model}/{first}"
    )


def _fill_config_table(cloud: LocalCloud, count: int) -> None:
    """`count` items that are not MLflow projects: other models' alias state and SageMaker projects."""
    now = "2026-11-25T18:30:00+00:00"
    items = []
    for index in range(count):
        if index % 2:
            items.append(
                {"pk": {"S": f"MLFLOW#other{index}"}, "sk": {"S": "ALIAS#dev"}, "version": {"N": "1"}}
            )
            continue
        record = ProjectRecord(
            project=f"sm{index}", project_id="p-2", scenario="baseline", registry_backend="sagemaker",
            git_provider="local", repository_name=f"sm{index}", repository_url="file:///dev/null",
            repository_retention="retain", model_group_retention="retain", created_at=now, updated_at=now,
        )  # fmt: skip
        items.append({name: TypeSerializer().serialize(value) for name, value in record.to_item().items()})
    dynamodb = cloud.session.client("dynamodb")
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={cloud.outputs["ConfigTableName"]: batch})


def test_a_poll_finds_its_projects_by_key_whatever_else_the_config_table_holds(cloud, client, model):
    _project(cloud, model)
    client.set_registered_model_alias(model, "dev", _register(cloud, client, model, GOOD_MODEL))
    [_] = _alias_events(_poll(cloud))

    with cloud.recording_aws_requests() as small_table:
        assert _alias_events(_poll(cloud)) == []
    _fill_config_table(cloud, 400)
    with cloud.recording_aws_requests() as large_table:
        assert _alias_events(_poll(cloud)) == []

    calls = [r.operation for r in small_table if r.service == "dynamodb"]
    assert calls == [r.operation for r in large_table if r.service == "dynamodb"]
    assert "Query" in calls and "Scan" not in calls


def test_a_plain_tracking_uri_grants_no_managed_mlflow_access(cloud):
    [grant] = _managed_mlflow_grant(cloud)
    assert grant["Resource"] == (
        "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/no_managed_mlflow"
    )


def test_two_overlapping_polls_emit_one_event_per_change(cloud, client, model, mlflow_server):
    _project(cloud, model)
    version = _register(cloud, client, model, GOOD_MODEL)
    client.set_registered_model_alias(model, "dev", version)
    client.set_registered_model_alias(model, "prod", version)

    def watcher() -> MlflowAliasWatcher:
        environment = cloud.functions["MlflowAliasWatcherFunction"].environment
        settings = MlflowWatcherSettings.from_environ(environment)
        state = AliasStateTable(
            cloud.session.client("dynamodb"), settings.config_table_name, settings.idempotency_table_name
        )
        return MlflowAliasWatcher(settings, MlflowRegistry(mlflow_server), state)

    one, other = watcher(), watcher()
    seen_by_one, seen_by_other = one.detect(), other.detect()  # both read before either writes
    assert len(seen_by_one) == len(seen_by_other) == 2
    emitted = (
        one.commit(seen_by_one, trigger="poll").events + other.commit(seen_by_other, trigger="poll").events
    )
    assert sorted(event.alias for event in emitted) == ["dev", "prod"]


def test_an_unreachable_server_fails_the_poll_and_changes_nothing(model):
    dead = f"http://127.0.0.1:{_free_port()}"
    with LocalCloud(parameters={"MlflowTrackingUri": dead}) as cloud:
        _project(cloud, model)
        environment = cloud.functions["MlflowAliasWatcherFunction"].environment
        settings = MlflowWatcherSettings.from_environ(environment)
        table = cloud.session.client("dynamodb")
        AliasStateTable(table, settings.config_table_name, settings.idempotency_table_name).record(
            model, "dev", old=None, new=1
        )
        before = table.scan(TableName=settings.config_table_name)["Items"]

        failed = _poll(cloud)

        assert failed.error is not None
        assert f"MLflow tracking server {dead} failed reading registered model" in failed.error.message
        assert failed.emitted == ()
        assert table.scan(TableName=settings.config_table_name)["Items"] == before


def _deliver(url: str, body: dict, *, secret: str = WEBHOOK_SECRET, delivery_id: str | None = None):
    payload = json.dumps(body)
    delivery_id = delivery_id or str(uuid.uuid4())
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=payload.encode(), method="POST", headers={
        "Content-Type": "application/json", "X-MLflow-Delivery-Id": delivery_id, "X-MLflow-Timestamp": timestamp,
        "X-MLflow-Signature": sign(secret, delivery_id, timestamp, payload),
    })  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_signed_webhook_emits_the_event_once_and_a_bad_signature_is_refused(cloud, client, model):
    _project(cloud, model)
    version = _register(cloud, client, model, GOOD_MODEL)
    client.set_registered_model_alias(model, "dev", version)
    url = cloud.function_url("MlflowAliasWatcherFunction")
    body = {
        "entity": "model_version_alias", "action": "created", "timestamp": "2026-11-25T18:30:00+00:00",
        "data": {"name": model, "alias": "dev", "version": str(version)},
    }  # fmt: skip

    assert _deliver(url, body, secret="wrong")[0] == 401
    assert cloud.pending_events == 0
    assert (
        cloud.session.client("dynamodb")
        .get_item(
            TableName=cloud.outputs["ConfigTableName"],
            Key={"pk": {"S": f"MLFLOW#{model}"}, "sk": {"S": "ALIAS#dev"}},
        )
        .get("Item")
        is None
    )

    status, answer = _deliver(url, body, delivery_id="d-1")
    assert (status, answer["status"]) == (200, "changed")
    again = _deliver(url, body, delivery_id="d-1")
    assert again == (200, {"status": "duplicate", "delivery_id": "d-1"})
    trace = cloud.settle()
    [change] = [e["detail"] for e in trace.events(detail_type="MLflow Model Alias Changed")]
    assert (change["new_version"], change["trigger"]) == (version, "webhook")
    assert _endpoint(cloud, f"{model}-dev")["status"] == "InService"
    assert _alias_events(_poll(cloud)) == []  # the poll sees what the webhook recorded: no second event


def test_the_mlflow_server_delivers_a_real_webhook(cloud, client, model):
    _project(cloud, model)
    version = _register(cloud, client, model, GOOD_MODEL)
    url = cloud.function_url("MlflowAliasWatcherFunction")
    webhook = client.create_webhook(
        name=f"{model}-aliases", url=url, events=["model_version_alias.created"], secret=WEBHOOK_SECRET
    )
    try:
        client.set_registered_model_alias(model, "dev", version)
        # MLflow delivers from a thread pool after answering the request.
        cloud.wait_for_function_url_requests("MlflowAliasWatcherFunction", 1)
    finally:
        # The server outlives this test: later alias changes must not be delivered to a closed cloud.
        client.delete_webhook(webhook.webhook_id)
    trace = cloud.settle()
    [change] = [e["detail"] for e in trace.events(detail_type="MLflow Model Alias Changed")]
    assert (change["model"], change["new_version"], change["trigger"]) == (model, version, "webhook")


class _RecordingProxy(ThreadingHTTPServer):
    """A reverse proxy on loopback in front of the MLflow test server, standing for SageMaker managed
    MLflow's endpoint: records each request's method, path and headers, and forwards it unchanged."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _RecordingProxy

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((self.command, self.path, dict(self.headers.items())))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream = http.client.HTTPConnection(
            self.server.upstream.hostname, self.server.upstream.port, timeout=30
        )
        try:
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def managed_mlflow(mlflow_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[_RecordingProxy]:
    """SageMaker managed MLflow on loopback: the plugin sends the calls for the tracking server ARN to
    SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT (instead of https://{region}.experiments.sagemaker.aws), here the
    recording proxy in front of the real MLflow server."""
    proxy = _RecordingProxy(mlflow_server)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT", proxy.url)
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join()


def _managed_mlflow_grant(cloud: LocalCloud) -> list[dict]:
    """The watcher role's statements about SageMaker managed MLflow, as deployed."""
    iam = cloud.session.client("iam")
    role = (
        cloud.session.client("lambda")
        .get_function_configuration(FunctionName=cloud.functions["MlflowAliasWatcherFunction"].name)["Role"]
        .split("/")[-1]
    )
    statements = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):  # moto keeps a policy that CloudFormation created as Python's repr
            document = ast.literal_eval(urllib.parse.unquote(document))
        statements.extend(document["Statement"])
    return [s for s in statements if "sagemaker-mlflow" in json.dumps(s.get("Action"))]


SIGV4 = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(ASIA[0-9A-F]{16})/\d{8}/us-east-1/sagemaker-mlflow/aws4_request, "
    r"SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$"
)


def test_a_managed_mlflow_tracking_server_arn_is_read_with_sigv4_as_the_function_role(
    managed_mlflow, client, model
):
    with LocalCloud(parameters={"MlflowTrackingUri": TRACKING_SERVER_ARN}) as cloud:
        assert cloud.functions["MlflowAliasWatcherFunction"].environment["MLFLOW_TRACKING_URI"] == (
            TRACKING_SERVER_ARN
        )
        cloud.session.client("s3").create_bucket(Bucket=BUCKET)
        _project(cloud, model)
        version = _register(cloud, client, model, GOOD_MODEL)  # straight to the server, not the proxy
        client.set_registered_model_alias(model, "dev", version)

        polled = _poll(cloud)

        assert polled.error is None, polled.error
        [change] = _alias_events(polled)
        assert (change["model"], change["alias"], change["new_version"]) == (model, "dev", version)
        assert change["source_uri"].startswith(f"s3://{BUCKET}/{model}/")
        # The role's grant for the managed server: read-only, on the configured tracking server only.
        assert _managed_mlflow_grant(cloud) == [
            {
                "Sid": "SageMakerManagedMlflowRegistry",
                "Effect": "Allow",
                "Action": [
                    "sagemaker-mlflow:GetRegisteredModel",
                    "sagemaker-mlflow:GetModelVersion",
                    "sagemaker-mlflow:GetLoggedModel",
                    "sagemaker-mlflow:GetRun",
                ],
                "Resource": TRACKING_SERVER_ARN,
            }
        ]

    paths = [urllib.parse.urlsplit(path).path for _, path, _ in managed_mlflow.requests]
    assert "/api/2.0/mlflow/registered-models/get" in paths
    assert "/api/2.0/mlflow/model-versions/get" in paths
    for method, path, received in managed_mlflow.requests:
        headers = {name.lower(): value for name, value in received.items()}
        signed = SIGV4.match(headers.get("authorization", ""))
        assert signed, (method, path, headers.get("authorization"))
        assert "bearer" not in headers["authorization"].lower()
        # the function role's session credentials, as Lambda gives them
        signer = cloud.iam.identity(signed.group(1))
        assert signer is not None and "MlflowAliasWatcherFunctionRole" in signer.role_name
        assert headers["x-amz-security-token"] not in ("", "testing")
        assert re.fullmatch(r"[0-9a-f]{64}", headers["x-amz-content-sha256"])
        # the header that routes the call to the managed server
        assert headers["x-mlflow-sm-tracking-server-arn"] == TRACKING_SERVER_ARN
