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


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (
            ["invoke", "EchoFunction", "--event", "{missing}"],
            "cannot read the event file {missing}: No such file",
        ),
        (["send", "--event", "{truncated}"], "the event file {truncated} is not valid JSON: "),
        (["send", "--event", "{array}"], "the event in {array} is not a JSON object"),
        (
            ["invoke", "EchoFunctoin", "--event", "{ping}"],
            "{template} has no function 'EchoFunctoin'; did you mean EchoFunction? "
            "it has EchoFunction, ListenerFunction",
        ),
    ],
    ids=["missing event file", "truncated event file", "not an object", "misspelled function"],
)
def test_cli_mistakes_are_one_line_on_stderr_and_exit_2(
    echo_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], error: str
) -> None:
    files = {
        "missing": tmp_path / "missing.json",
        "truncated": tmp_path / "truncated.json",
        "array": tmp_path / "array.json",
        "ping": write_event(tmp_path, ping_event()),
        "template": echo_template,
    }
    files["truncated"].write_text(json.dumps(ping_event())[:30])
    files["array"].write_text("[]")

    status = main([*(argument.format(**files) for argument in arguments), "--template", str(echo_template)])

    output = capsys.readouterr()
    assert status == 2
    assert output.out == ""
    [line] = output.err.splitlines()
    assert line.startswith(f"python -m mlops_local: error: {error.format(**files)}")


def test_the_readmes_first_invoke_example_deploys_on_a_fresh_local_cloud(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    # What events/model-package-approved.json names (project demo, version 1 of demo-dev) is made first.
    assert main(["invoke", "ModelDeployerFunction", "--event", "events/model-package-approved.json"]) == 0

    output = capsys.readouterr()
    assert json.loads(output.out) == {
        "status": "started",
        "endpoint_name": "demo-dev",
        "action": "create",
        "strategy": "all-at-once",
        "events": ["Deployment Started"],
    }
    prepared = [line for line in output.err.splitlines() if line.startswith("prepared: ")]
    assert len(prepared) == 2 and "model-package/demo-dev/1" in prepared[1]
