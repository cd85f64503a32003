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
    """One client per service, made on first use from one session (the function's credentials, or the
    given session's)."""

    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self._session = session
        self._clients: dict[str, Any] = {}

    def __call__(self, service_name: str) -> Any:
        if service_name not in self._clients:
            self._clients[service_name] = self.new_client(service_name, RETRY_CONFIG)
        return self._clients[service_name]

    def new_client(self, service_name: str, config: Config) -> Any:
        """A client of its own with ``config`` (not shared: for calls that need other timeouts or
        retries than the shared clients')."""
        if self._session is None:
            self._session = boto3.session.Session()
        return self._session.client(service_name, config=config)

    def credentials(self) -> Any:
        """The session's credentials (botocore's, refreshed when they expire), for a caller that
        signs its own requests (:mod:`mlops_core.adapters.sagemaker_runtime_http`)."""
        if self._session is None:
            self._session = boto3.session.Session()
        return self._session.get_credentials()

    def assuming(self, role_arn: str, session_name: str) -> ClientFactory:
        """Clients acting as ``role_arn`` in this factory's region, through STS AssumeRole with this
        factory's credentials (temporary credentials: no stored keys)."""
        sts = self("sts")
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64])["Credentials"]
        return ClientFactory(
            boto3.session.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=sts.meta.region_name,
            )
        )
