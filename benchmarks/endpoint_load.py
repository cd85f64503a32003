"""The endpoint tester's load phase vs Locust, against the same local inference server endpoint.

    make bench-load     # Locust in .venv-bench; options: --concurrency 4 --seconds 20 --locust PATH

Three processes, so that neither load generator shares an interpreter (and its GIL) with the server:
1. this script opens a LocalCloud, deploys the good demo model to endpoint `bench-dev` (through the
   real approval → deployer → InService path) and keeps serving it;
2. Locust (headless, `-u/-r` = `--concurrency`, `--run-time` = `--seconds`) with benchmarks/locustfile.py,
   whose users call the endpoint through boto3's sagemaker-runtime client;
3. the load phase (`SuiteRunner.run_load`, exactly what EndpointTesterFunction runs) in a child
   process, `--concurrency` workers for `--seconds`, twice.
All reach the server through AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, one run after the other, on the same
cores. Two comparisons, each with its target:
- latency, at equal load: Locust runs first (closed loop, N users, no wait) and achieves R requests per
  second; the load phase then runs at `rate_per_second` = R (open loop) with the same concurrency, so
  the server sees the same request rate from both. Target: p50/p95/p99 within 10% of Locust's. (At
  equal concurrency but unpaced, the two generators offer the server different rates, and latencies
  are not comparable like for like.)
- throughput: the load phase unpaced (closed loop, N workers) against Locust's R. Target: at least
  1.0x Locust's requests per second.

Fair by construction: the server is warmed once (one request loads the model) before any run, and no
load generator gets a warm-up of its own (Locust spawns every user at once, and its stats are not
reset). Every raw latency is recorded, and the percentiles of all runs are computed here with the same
nearest-rank function (Locust's own CSV rounds response times to whole milliseconds; its figures are
printed too, for reference). Requests per second are requests / measured seconds for all.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from mlops_core.endpoint_tester import percentile
from mlops_local import LocalCloud
from mlops_local.demo_model import GOOD_MODEL, register_demo_version

REPO = Path(__file__).resolve().parents[1]
ENDPOINT = "bench-dev"
BODY = json.dumps({"instances": [[12, 50.0, 1]]})
PERCENTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
LOAD_PHASE_CHILD = """
import json, sys
from mlops_core.endpoint_tester import SageMakerRuntimeInvoker, SuiteRunner
from mlops_core.suites import LoadPhase
rate = {"rate_per_second": float(sys.argv[4])} if sys.argv[4] else {}
phase = LoadPhase.model_validate({"request": {"json": {"instances": [[12, 50.0, 1]]}},
    "duration_seconds": float(sys.argv[2]), "concurrency": int(sys.argv[1]), "max_error_rate": 1.0, **rate})
invoker = SageMakerRuntimeInvoker.build()
latencies = []
class Recording:  # the latencies run_load sees, kept raw (list.append is atomic under the GIL)
    def invoke(self, endpoint_name, request, *, timeout_seconds):
        response = invoker.invoke(endpoint_name, request, timeout_seconds=timeout_seconds)
        latencies.append(response.latency_ms)
        return response
runner = SuiteRunner(Recording(), remaining_ms=lambda: 10**9)
result = runner.run_load(sys.argv[3], phase)
print(json.dumps({"result": result.model_dump(mode="json"), "latencies_ms": latencies}))
"""


def warm_up_server(environment: dict[str, str]) -> None:
    """One request, so the server has loaded the model before either load generator starts."""
    import boto3  # noqa: PLC0415

    client = boto3.session.Session().client(
        "sagemaker-runtime", endpoint_url=environment["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"]
    )
    client.invoke_endpoint(EndpointName=ENDPOINT, Body=BODY, ContentType="application/json")["Body"].read()


def figures(latencies: list[float], elapsed_seconds: float, failures: int) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "failures": failures,
        "rps": len(ordered) / elapsed_seconds,
        **{name: percentile(ordered, fraction) or 0.0 for name, fraction in PERCENTILES},
    }


def serve() -> tuple[LocalCloud, dict[str, str]]:
    cloud = LocalCloud().open()
    arn = register_demo_version(cloud.session, ENDPOINT, GOOD_MODEL)
    cloud.settle()
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    cloud.settle()
    status = cloud.session.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"]
    assert status == "InService", status
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("AWS_ENDPOINT_URL")
    } | {
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": cloud.sagemaker_runtime_url,
        "ENDPOINT_NAME": ENDPOINT,
        "PYTHONPATH": os.pathsep.join([str(REPO / "layers" / "mlops_core"), str(REPO / "local")]),
    }
    return cloud, environment


def run_load_phase(
    environment: dict[str, str], concurrency: int, seconds: float, rate: float | None = None
) -> dict[str, float]:
    """The load phase's figures; paced at ``rate`` requests per second when given (open loop)."""
    output = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_PHASE_CHILD,
            str(concurrency),
            str(seconds),
            ENDPOINT,
            "" if rate is None else repr(rate),
        ],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    child = json.loads(output.strip().splitlines()[-1])
    result = child["result"]
    return figures(child["latencies_ms"], result["duration_seconds"], result["errors"]) | {
        "behind_schedule": result["behind_schedule"]
    }


def run_locust(
    locust: str, environment: dict[str, str], concurrency: int, seconds: float
) -> tuple[dict[str, float], dict[str, float]]:
    """Locust's figures from its raw latencies, and the figures of its own CSV (for reference)."""
    with tempfile.TemporaryDirectory() as directory:
        prefix = Path(directory) / "locust"
        raw_file = Path(directory) / "latencies.json"
        finished = subprocess.run(
            [
                locust,
                "-f",
                str(REPO / "benchmarks" / "locustfile.py"),
                "--headless",
                "-u",
                str(concurrency),
                "-r",
                str(concurrency * 1000),  # every user at once: no ramp-up the load phase does not have
                "--run-time",
                f"{int(seconds)}s",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env=environment | {"LATENCIES_FILE": str(raw_file)},
            capture_output=True,
            text=True,
            check=False,  # a failed run is reported below, with Locust's own output
        )
        with open(f"{prefix}_stats.csv") as stats:
            rows = [r for r in csv.DictReader(stats) if r["Name"] == ENDPOINT]
        if not rows:
            raise RuntimeError(f"Locust recorded no request:\n{finished.stdout}\n{finished.stderr}")
        [row] = rows
        raw = json.loads(raw_file.read_text())
    own_csv = {
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "p99": float(row["99%"]),
    }
    return figures(raw["latencies_ms"], raw["elapsed_seconds"], own_csv["failures"]), own_csv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locust", default=str(REPO / ".venv-bench" / "bin" / "locust"))
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    arguments = parser.parse_args()
    seconds = float(int(arguments.seconds))  # Locust's --run-time is whole seconds: the same for all
    concurrency = arguments.concurrency
    load_average = " ".join(f"{value:.2f}" for value in os.getloadavg())
    cloud, environment = serve()
    try:
        warm_up_server(environment)
        locust, locust_csv = run_locust(arguments.locust, environment, concurrency, seconds)
        rate = round(locust["rps"], 1)
        paced = run_load_phase(environment, concurrency, seconds, rate)
        unpaced = run_load_phase(environment, concurrency, seconds)
    finally:
        cloud.close()
    print(
        f"endpoint {ENDPOINT}, concurrency {concurrency}, {seconds:g} s each, {os.cpu_count()} cores,",
        end=" ",
    )
    print(f"load average before the runs {load_average}")
    header = f"{'':30}{'requests':>10}{'failures':>10}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}"
    print(header + f"{'behind':>8}")
    rows = (
        ("locust (closed loop)", locust),
        (f"load phase at {rate:g}/s", paced),
        ("load phase (closed loop)", unpaced),
        ("locust (own CSV)", locust_csv),
    )
    for name, row in rows:
        print(
            f"{name:30}{row['requests']:>10}{row['failures']:>10}{row['rps']:>10.1f}"
            + "".join(f"{row[key]:>10.2f}" for key in ("p50", "p95", "p99"))
            + (f"{row['behind_schedule']:>8}" if "behind_schedule" in row else "")
        )
    deltas = {key: (paced[key] - locust[key]) / locust[key] for key in ("p50", "p95", "p99")}
    latency_met = all(abs(delta) <= 0.10 for delta in deltas.values())
    print(
        f"latency at {rate:g} req/s vs Locust: "
        + ", ".join(f"{key} {delta:+.1%}" for key, delta in deltas.items())
        + f" (target within ±10%: {'met' if latency_met else 'not met'})"
    )
    ratio = unpaced["rps"] / locust["rps"]
    print(f"closed-loop req/s ratio {ratio:.2f}x (target >= 1.0x: {'met' if ratio >= 1.0 else 'not met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
