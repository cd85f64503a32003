"""The endpoint tester's load phase vs Locust, against the same local inference server endpoint.

    .venv/bin/python benchmarks/endpoint_load.py --locust .venv-bench/bin/locust --concurrency 4 --seconds 20

Three processes, so that neither load generator shares an interpreter (and its GIL) with the server:
1. this script opens a LocalCloud, deploys the good demo model to endpoint `bench-dev` (through the
   real approval → deployer → InService path) and keeps serving it;
2. the load phase (`SuiteRunner.run_load`, exactly what EndpointTesterFunction runs) in a child
   process, `--concurrency` threads for `--seconds`;
3. Locust (headless, `-u/-r` = `--concurrency`, `--run-time` = `--seconds`) with benchmarks/locustfile.py,
   whose users call the endpoint through boto3's sagemaker-runtime client.
Both reach the server through AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME. They run one after the other, on
the same cores, and the figures are printed side by side with the target: the load phase at least
1.0x Locust's requests per second, and p50/p95/p99 within 10% of Locust's.
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

from mlops_local import LocalCloud
from mlops_local.demo_model import GOOD_MODEL, register_demo_version

REPO = Path(__file__).resolve().parents[1]
ENDPOINT = "bench-dev"
LOAD_PHASE_CHILD = """
import json, sys
from mlops_core.endpoint_tester import SageMakerRuntimeInvoker, SuiteRunner
from mlops_core.suites import LoadPhase
phase = LoadPhase.model_validate({"request": {"json": {"instances": [[12, 50.0, 1]]}},
    "duration_seconds": float(sys.argv[2]), "concurrency": int(sys.argv[1]), "max_error_rate": 1.0})
runner = SuiteRunner(SageMakerRuntimeInvoker.build(), remaining_ms=lambda: 10**9)
# warm-up (connections, the model cache), as Locust's users warm up while it spawns them
runner.run_load(sys.argv[3], phase.model_copy(update={"duration_seconds": 2.0}))
print(runner.run_load(sys.argv[3], phase).model_dump_json())
"""


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


def run_load_phase(environment: dict[str, str], concurrency: int, seconds: float) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-c", LOAD_PHASE_CHILD, str(concurrency), str(seconds), ENDPOINT],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    return {
        "requests": result["requests"],
        "failures": result["errors"],
        "rps": result["requests_per_second"],
        "p50": result["p50_ms"],
        "p95": result["p95_ms"],
        "p99": result["p99_ms"],
    }


def run_locust(
    locust: str, environment: dict[str, str], concurrency: int, seconds: float
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        prefix = Path(directory) / "locust"
        finished = subprocess.run(
            [
                locust,
                "-f",
                str(REPO / "benchmarks" / "locustfile.py"),
                "--headless",
                "-u",
                str(concurrency),
                "-r",
                str(concurrency),
                "--run-time",
                f"{int(seconds)}s",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env=environment,
            capture_output=True,
            text=True,
            check=False,  # a failed run is reported below, with Locust's own output
        )
        with open(f"{prefix}_stats.csv") as stats:
            rows = [r for r in csv.DictReader(stats) if r["Name"] == ENDPOINT]
        if not rows:
            raise RuntimeError(f"Locust recorded no request:\n{finished.stdout}\n{finished.stderr}")
        [row] = rows
    return {
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "rps": round(float(row["Requests/s"]), 1),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "p99": float(row["99%"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locust", default=str(REPO / ".venv-bench" / "bin" / "locust"))
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    arguments = parser.parse_args()
    cloud, environment = serve()
    try:
        load_phase = run_load_phase(environment, arguments.concurrency, arguments.seconds)
        locust = run_locust(arguments.locust, environment, arguments.concurrency, arguments.seconds)
    finally:
        cloud.close()
    print(f"endpoint {ENDPOINT}, concurrency {arguments.concurrency}, {arguments.seconds:g} s each,", end=" ")
    print(f"{os.cpu_count()} cores")
    print(f"{'':12}{'requests':>10}{'failures':>10}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for name, figures in (("load phase", load_phase), ("locust", locust)):
        print(
            f"{name:12}"
            + "".join(f"{figures[key]:>10}" for key in ("requests", "failures", "rps", "p50", "p95", "p99"))
        )
    ratio = load_phase["rps"] / locust["rps"]
    deltas = {key: (load_phase[key] - locust[key]) / locust[key] for key in ("p50", "p95", "p99")}
    print(
        f"req/s ratio {ratio:.2f}x (target >= 1.0x); latency vs Locust: "
        + ", ".join(f"{key} {delta:+.0%}" for key, delta in deltas.items())
        + " (target within ±10%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
