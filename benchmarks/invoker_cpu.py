"""Client CPU per request: the tester's lean invoker (SigV4-signed HTTP over one pool of kept-alive
connections) vs boto3's ``sagemaker-runtime`` client (the previous invoker), against the same local
inference server endpoint.

    .venv/bin/python benchmarks/invoker_cpu.py [--requests 2000 --rounds 5]

One LocalCloud serves the good demo model on endpoint `bench-dev` (through the real approval → deployer
→ InService path). In each round both invokers send ``--requests`` requests one after the other from one
thread, which one goes first alternating by round; the client's CPU is that thread's CPU time
(``time.thread_time``: the server's threads, in the same process, are not counted). Reported: the
median over rounds of the CPU per request of each, and of their ratio taken per round (boto3 / lean:
how many times less CPU the lean invoker uses). Target: at least 2x (half the CPU per request). Both
invokers sign as EndpointTesterFunction's role, so every request is authorized by the local cloud's IAM.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field

from benchstats import Spread
from botocore.config import Config
from mlops_core.adapters.sagemaker_runtime import SageMakerRuntimeInvoker
from mlops_core.adapters.sagemaker_runtime_http import SignedHttpInvoker
from mlops_core.integration_tests.ports import EndpointInvoker
from mlops_core.integration_tests.suites import InvocationRequest
from mlops_local import LocalCloud
from mlops_local.demo_model import GOOD_MODEL, register_demo_version

ENDPOINT = "bench-dev"
REQUEST = InvocationRequest.model_validate({"json": {"instances": [[12, 50.0, 1]]}})
TARGET_RATIO = 2.0
LEAN, BOTO3 = "lean (SigV4 + http.client)", "boto3 sagemaker-runtime"


@dataclass
class CpuComparison:
    requests: int
    rounds: int
    cpu_us: dict[str, list[float]] = field(default_factory=lambda: {LEAN: [], BOTO3: []})
    wall_us: dict[str, list[float]] = field(default_factory=lambda: {LEAN: [], BOTO3: []})

    def ratios(self) -> list[float]:
        return [boto / lean for boto, lean in zip(self.cpu_us[BOTO3], self.cpu_us[LEAN], strict=True)]

    @property
    def met(self) -> bool:
        return statistics.median(self.ratios()) >= TARGET_RATIO


def serve() -> LocalCloud:
    cloud = LocalCloud().open()
    arn = register_demo_version(cloud.session, ENDPOINT, GOOD_MODEL)
    cloud.settle()
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    cloud.settle()
    return cloud


def invokers(cloud: LocalCloud) -> dict[str, EndpointInvoker]:
    session = cloud.session_as("EndpointTesterFunction")
    config = Config(retries={"mode": "standard", "max_attempts": 1})
    client = session.client("sagemaker-runtime", endpoint_url=cloud.sagemaker_runtime_url, config=config)
    lean = SignedHttpInvoker(
        endpoint_url=cloud.sagemaker_runtime_url,
        region=cloud.region,
        credentials=session.get_credentials(),
        service_model=client.meta.service_model,
    )
    return {LEAN: lean, BOTO3: SageMakerRuntimeInvoker(lambda timeout_seconds: client)}


def per_request(invoker: EndpointInvoker, requests: int) -> tuple[float, float]:
    """(client CPU, wall time) per request in µs, after one request that opens the connection."""
    if invoker.invoke(ENDPOINT, REQUEST, timeout_seconds=5).status_code != 200:
        raise RuntimeError("the endpoint did not answer 200")
    cpu, wall = time.thread_time(), time.perf_counter()
    for _ in range(requests):
        invoker.invoke(ENDPOINT, REQUEST, timeout_seconds=5)
    return (time.thread_time() - cpu) / requests * 1e6, (time.perf_counter() - wall) / requests * 1e6


def measure(requests: int = 2000, rounds: int = 5) -> CpuComparison:
    result = CpuComparison(requests, rounds)
    cloud = serve()
    try:
        clients = invokers(cloud)
        for round_ in range(rounds):
            for name in (LEAN, BOTO3) if round_ % 2 == 0 else (BOTO3, LEAN):
                cpu, wall = per_request(clients[name], requests)
                result.cpu_us[name].append(cpu)
                result.wall_us[name].append(wall)
    finally:
        cloud.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    result = measure(arguments.requests, arguments.rounds)
    print(f"{result.requests} requests per invoker per round, {result.rounds} rounds, one thread")
    for name in (LEAN, BOTO3):
        print(
            f"{name:28} client CPU {Spread.of(result.cpu_us[name]).format(0, ' µs')} per request, "
            f"wall {Spread.of(result.wall_us[name]).format(0, ' µs')}"
        )
    print(
        f"client CPU per request, boto3 / lean: {Spread.of(result.ratios()).format(2, 'x')} "
        f"(target ≥ {TARGET_RATIO:g}x: {'met' if result.met else 'not met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
