"""Locust driving a SageMaker endpoint through boto3's sagemaker-runtime client, as AWS's SageMaker
load-testing examples do: each user invokes the endpoint in a loop, with no wait between requests
(closed loop), or, with USER_RATE_PER_SECOND set, paced by Locust's `constant_throughput` at that many
requests per second per user, the users' starts staggered by USER_STAGGER_SECONDS.

    ENDPOINT_NAME=bench-dev AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=http://127.0.0.1:PORT \\
      LATENCIES_FILE=/tmp/latencies.json \\
      locust -f benchmarks/locustfile.py --headless -u 4 -r 4 --run-time 20s --csv out --only-summary
"""

import itertools
import json
import os
import time

import boto3
from botocore.config import Config
from locust import User, constant, constant_throughput, events, task

BODY = json.dumps({"instances": [[12, 50.0, 1]]})
# Locust keeps response times rounded (to whole ms, and coarser above 100 ms): every raw latency is
# also kept here and written to $LATENCIES_FILE at the end, so that the benchmark computes Locust's
# percentiles exactly as it computes the load phase's.
LATENCIES: list[float] = []
STARTS: list[float] = []  # when each request started (perf_counter, s): the arrival pattern
STARTED: list[float] = []


@events.test_start.add_listener
def _started(**_: object) -> None:
    STARTED.append(time.perf_counter())


@events.test_stop.add_listener
def _stopped(**_: object) -> None:
    path = os.environ.get("LATENCIES_FILE")
    if path:
        elapsed = time.perf_counter() - STARTED[0] if STARTED else 0.0
        with open(path, "w") as file:
            json.dump({"latencies_ms": LATENCIES, "starts": STARTS, "elapsed_seconds": elapsed}, file)


USER_RATE = float(os.environ.get("USER_RATE_PER_SECOND") or 0)
# Paced users spawned together stay in step and send in bursts: the k-th user starts k x this later,
# so that the users' requests are spaced evenly, as the load phase's schedule spaces its requests.
USER_STAGGER = float(os.environ.get("USER_STAGGER_SECONDS") or 0)
_users_started = itertools.count()


class SageMakerRuntimeUser(User):
    wait_time = constant_throughput(USER_RATE) if USER_RATE > 0 else constant(0)

    def on_start(self) -> None:
        config = Config(retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=64)
        self.client = boto3.session.Session().client("sagemaker-runtime", config=config)
        self.endpoint = os.environ["ENDPOINT_NAME"]
        if USER_STAGGER:
            time.sleep(next(_users_started) * USER_STAGGER)  # gevent's sleep: Locust patches time

    @task
    def invoke(self) -> None:
        started = time.perf_counter()
        exception = None
        length = 0
        try:
            response = self.client.invoke_endpoint(
                EndpointName=self.endpoint, Body=BODY, ContentType="application/json"
            )
            length = len(response["Body"].read())
        except Exception as error:
            exception = error
        latency_ms = (time.perf_counter() - started) * 1000
        LATENCIES.append(latency_ms)
        STARTS.append(started)
        events.request.fire(
            request_type="InvokeEndpoint",
            name=self.endpoint,
            response_time=latency_ms,
            response_length=length,
            exception=exception,
            context={},
        )
