"""What every benchmark reports about a figure taken several times: median and spread, and machine facts."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """A figure over several runs: the median, min-max and the interquartile range (q1-q3)."""

    median: float
    low: float
    high: float
    q1: float
    q3: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no values to summarise")
        ordered = sorted(values)
        if len(ordered) >= 2:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1 = q3 = ordered[0]
        return cls(statistics.median(ordered), ordered[0], ordered[-1], q1, q3, len(ordered))

    def format(self, digits: int = 1, unit: str = "") -> str:
        """`median (min-max, IQR q1-q3)`; one value when every run gave the same."""
        if self.low == self.high:
            return f"{self.median:.{digits}f}{unit} (all {self.runs} runs)"
        return (
            f"{self.median:.{digits}f}{unit} ({self.low:.{digits}f}-{self.high:.{digits}f}, "
            f"IQR {self.q1:.{digits}f}-{self.q3:.{digits}f})"
        )


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def machine() -> dict[str, str]:
    return {
        "cores": str(os.cpu_count()),
        "machine": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
    }
