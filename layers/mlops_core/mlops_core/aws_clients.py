"""boto3 clients, built on first use with retries that ride out throttling.

Handlers hold one :class:`ClientFactory` per cold start; domain code receives the clients (or
adapters around them) and never builds its own. ``AWS_ENDPOINT_URL`` (and the per-service
variants) are honoured by boto3 itself, which is how the local cloud points functions at the
embedded AWS without any local-only code path.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# Adaptive mode retries throttling and 5xx errors with backoff and a client-side rate limiter.
RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=30)


class ClientFactory:
    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self._session = session
        self._clients: dict[str, Any] = {}

    def __call__(self, service_name: str) -> Any:
        if service_name not in self._clients:
            session = self._session or boto3.session.Session()
            self._clients[service_name] = session.client(service_name, config=RETRY_CONFIG)
        return self._clients[service_name]
