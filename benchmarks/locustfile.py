"""Locust driving a SageMaker endpoint through boto3's sagemaker-runtime client, as AWS's SageMaker
load-testing examples do: each user invokes the endpoint in a loop, with no wait between requests.

    ENDPOINT_NAME=bench-dev AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=http://127.0.0.1:PORT \\
      locust -f benchmarks/locustfile.py --headless -u 4 -r 4 --run-time 20s --csv out --only-summary
"""

import json
import os
import time

import boto3
from botocore.config import Config
from locust import User, constant, events, task

BODY = json.dumps({"instances": [[12, 50.0, 1]]})


class SageMakerRuntimeUser(User):
    wait_time = constant(0)

    def on_start(self) -> None:
        config = Config(retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=64)
        self.client = boto3.session.Session().client("sagemaker-runtime", config=config)
        self.endpoint = os.environ["ENDPOINT_NAME"]

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
        events.request.fire(
            request_type="InvokeEndpoint",
            name=self.endpoint,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=exception,
            context={},
        )
