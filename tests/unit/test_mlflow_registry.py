"""The MLflow adapter's two kinds of tracking server, against a fake MLflow REST API on loopback.

The real MLflow server and SageMaker managed MLflow behind a proxy are in tests/e2e/test_mlflow_aliases.py.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from mlops_core.adapters import mlflow_registry
from mlops_core.adapters.mlflow_registry import HEADER_REGISTRY_LOGGER, MlflowRegistry
from mlops_core.mlflow_aliases.ports import MlflowUnavailableError

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/team-a"


class _FakeMlflow(ThreadingHTTPServer):
    """Answers GetRegisteredModel with one alias and records each request's headers."""

    daemon_threads = True

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: _FakeMlflow

    def do_GET(self) -> None:
        self.server.headers.append({name.lower(): value for name, value in self.headers.items()})
        body = json.dumps(
            {"registered_model": {"name": "churn", "aliases": [{"alias": "dev", "version": "3"}]}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def fake_mlflow() -> Iterator[_FakeMlflow]:
    server = _FakeMlflow()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def process_tracking_uri(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No tracking URI for the process (MLflow's global, MLFLOW_TRACKING_URI), and none left behind."""
    import mlflow  # noqa: PLC0415 - the MLflow client is imported by the tests that use it

    _unset(monkeypatch, "MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(None)
    yield
    mlflow.set_tracking_uri(None)


def _unset(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Unset `name` for the test and restore it afterwards, even if the code under test sets it."""
    monkeypatch.setenv(name, "")
    monkeypatch.delenv(name)


@pytest.fixture
def role_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "MLFLOW_TRACKING_TOKEN"):
        _unset(monkeypatch, name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDROLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")


def test_a_tracking_server_arn_is_called_with_sigv4_for_sagemaker_mlflow(
    fake_mlflow, process_tracking_uri, role_credentials, monkeypatch
):
    monkeypatch.setenv("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT", fake_mlflow.url)

    # The caller set no process tracking URI: the adapter makes the ARN it, which the plugin signs for.
    assert MlflowRegistry(ARN).aliases("churn") == {"dev": 3}

    [headers] = fake_mlflow.headers
    assert re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=AKIDROLE/\d{8}/eu-west-1/sagemaker-mlflow/aws4_request, "
        r"SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}",
        headers["authorization"],
    )
    assert headers["x-mlflow-sm-tracking-server-arn"] == ARN


def test_a_tracking_server_arn_without_the_plugin_is_refused_clearly(monkeypatch):
    # No package registers MLflow's `arn` request auth provider, as without sagemaker-mlflow.
    monkeypatch.setattr(mlflow_registry, "entry_points", lambda **_: ())

    with pytest.raises(MlflowUnavailableError, match="needs the sagemaker-mlflow plugin"):
        MlflowRegistry(ARN).aliases("churn")


def test_a_token_for_a_tracking_server_arn_is_refused_and_not_put_in_the_environment(monkeypatch):
    _unset(monkeypatch, "MLFLOW_TRACKING_TOKEN")

    with pytest.raises(MlflowUnavailableError, match=r"SigV4 .* not with a token"):
        MlflowRegistry(ARN, token="t0ken").aliases("churn")
    with pytest.raises(MlflowUnavailableError):
        MlflowRegistry(ARN, token="t0ken").model_version("churn", 3)

    assert "MLFLOW_TRACKING_TOKEN" not in os.environ


def test_a_plain_tracking_uri_keeps_its_bearer_token_and_logs_no_plugin_warning(
    fake_mlflow, process_tracking_uri, monkeypatch, caplog
):
    _unset(monkeypatch, "MLFLOW_TRACKING_TOKEN")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", fake_mlflow.url)  # as in the function's environment
    caplog.set_level(logging.WARNING)

    assert MlflowRegistry(fake_mlflow.url, token="t0ken").aliases("churn") == {"dev": 3}

    [headers] = fake_mlflow.headers
    assert headers["authorization"] == "Bearer t0ken"
    assert "x-mlflow-sm-tracking-server-arn" not in headers
    # The plugin's header provider fails on a non-ARN URI at each request; that warning is dropped.
    assert [r.getMessage() for r in caplog.records if r.name == HEADER_REGISTRY_LOGGER] == []


def test_other_header_provider_failures_are_still_logged(caplog):
    MlflowRegistry("http://127.0.0.1:9")._get_client()  # installs the filter
    caplog.set_level(logging.WARNING)

    logging.getLogger(HEADER_REGISTRY_LOGGER).warning(
        "Encountered unexpected error during resolving request headers: %s", ValueError("other provider")
    )

    assert [r.getMessage() for r in caplog.records] == [
        "Encountered unexpected error during resolving request headers: other provider"
    ]
