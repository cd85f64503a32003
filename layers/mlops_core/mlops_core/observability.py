"""Logging and metrics shared by every function (one place, no per-handler boilerplate).

- :data:`logger` is Powertools' JSON Logger; each invocation carries the Lambda context and a
  correlation id (the EventBridge event id), so one event's path can be followed across functions.
- :data:`metrics` writes CloudWatch metrics as embedded metric format log lines (no API call).
- Tracing: the template sets ``Tracing: Active``, which traces each invocation without any SDK.
  Powertools' Tracer is not imported: it always imports the X-Ray SDK (about 180 ms of cold
  start) and would only add subsegments for the boto3 calls.

Service name and metrics namespace are constants of the control plane, not read from the
environment at import: a module imported before the environment is set (a test, the local
cloud) would otherwise log as ``service_undefined`` and fail to flush metrics. The template's
``POWERTOOLS_SERVICE_NAME`` carries the same service name, for the Powertools utilities that
read it.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE_NAME = "mlops-control-plane"
METRICS_NAMESPACE = "MLOpsControlPlane"

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE)

__all__ = ["METRICS_NAMESPACE", "SERVICE_NAME", "MetricUnit", "logger", "metrics"]
