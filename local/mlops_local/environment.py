"""Temporary changes to process-wide state (os.environ, logger levels) that are always put back."""

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def patched_environ(values: Mapping[str, str], *, unset: Iterable[str] = ()) -> Iterator[None]:
    """Remove the variables named in `unset`, set `values`, and on exit restore every one of them.

    Restoring means: a variable that existed gets its old value back, one that did not is removed again.
    Variables nobody asked to touch are left alone, even if the code inside the block changed them.
    """
    touched = set(values) | set(unset)
    saved = {name: os.environ.get(name) for name in touched}
    try:
        for name in unset:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def quiet_logger(name: str, level: int = logging.WARNING) -> Iterator[None]:
    """Let logger `name` pass only records of `level` and above for a while."""
    logger = logging.getLogger(name)
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)
