"""Shared fixtures. The template's tests run offline: any connection beyond loopback fails the test."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The SDK builds a boto3 client while it is imported; give it a region and credentials that cannot work.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_ACCESS_KEY_ID"] = "offline"
os.environ["AWS_SECRET_ACCESS_KEY"] = "offline"
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Refuse (and record) every connection that is not to loopback: the tests prove offline-ness."""
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost")):
            return real_connect(self, address)
        attempts.append(address)
        raise OSError(f"the template's tests run offline: connection to {address} refused")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield attempts
    assert not attempts, f"a test tried to reach the network: {attempts}"
