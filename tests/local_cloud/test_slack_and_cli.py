"""The Slack webhook receiver and the command line."""

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from echo_stack import ping_event
from mlops_local import LocalCloud
from mlops_local.cli import main


def post(url: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_slack_webhook_payloads_are_recorded(echo_cloud: LocalCloud) -> None:
    assert echo_cloud.slack_webhook_url.startswith("http://127.0.0.1:")
    payload = {"text": "Deployment Started", "blocks": [{"type": "section"}]}
    assert post(echo_cloud.slack_webhook_url, json.dumps(payload).encode()) == (200, "ok")
    assert post(echo_cloud.slack_webhook_url, b"not json") == (400, "invalid_payload")
    assert echo_cloud.slack_messages == [payload]


def write_event(tmp_path: Path, event: dict[str, object]) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return path


def test_cli_send_prints_the_timeline(
    echo_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event_file = write_event(tmp_path, ping_event(echo="hi"))
    assert main(["send", "--event", str(event_file), "--template", str(echo_template)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].split() == ["test", "Ping", "echo=hi", "->", "EchoFunction:", "Echoed"]
    assert lines[1].split() == ["mlops.echo", "Echoed", "echo=hi", "->", "ListenerFunction:", "no", "events"]


def test_cli_invoke_prints_logs_and_result_and_fails_when_the_function_raises(
    echo_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    succeeding = write_event(tmp_path, ping_event())
    assert main(["invoke", "EchoFunction", "--event", str(succeeding), "--template", str(echo_template)]) == 0
    output = capsys.readouterr()
    assert json.loads(output.out)["calls"] == 1
    assert "a plain print" in output.err.splitlines()

    failing = write_event(tmp_path, ping_event(fail=True))
    assert main(["invoke", "EchoFunction", "--event", str(failing), "--template", str(echo_template)]) == 1
    assert json.loads(capsys.readouterr().out)["errorType"] == "ValueError"
