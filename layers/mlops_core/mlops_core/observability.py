"""Logging and metrics shared by every function (one place, no per-handler boilerplate).

- :data:`logger` is Powertools' JSON Logger; each invocation carries the Lambda context and a
  correlation id (the EventBridge event id), so one event's path can be followed across functions.
- :data:`metrics` writes CloudWatch metrics as embedded metric format log lines (no API call).
- Tracing: the template sets ``Tracing: Active``, which traces each invocation without any SDK.
  Powertools' Tracer is not imported: it always imports the X-Ray SDK (about 180 ms of cold
  start) and would only add subsegments for the boto3 calls.

Service name and metrics namespace come from ``POWERTOOLS_SERVICE_NAME`` and
``POWERTOOLS_METRICS_NAMESPACE``, set once in the template's Globals.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics()

__all__ = ["MetricUnit", "logger", "metrics"]
