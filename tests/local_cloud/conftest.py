"""Fixtures for the local cloud's own tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from echo_stack import write_echo_stack
from mlops_local import LocalCloud


@pytest.fixture
def echo_template(tmp_path: Path) -> Path:
    return write_echo_stack(tmp_path)


@pytest.fixture
def echo_cloud(echo_template: Path) -> Iterator[LocalCloud]:
    with LocalCloud(echo_template) as cloud:
        yield cloud
