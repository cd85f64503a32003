"""Latencies of a load phase as a mergeable histogram with bounded memory.

A :class:`LatencyHistogram` is a DDSketch (the ``ddsketch`` package, Datadog's implementation of the
VLDB 2019 paper "DDSketch: a fast and fully-mergeable quantile sketch with relative-error guarantees"):
logarithmic buckets like an HDR histogram's, so every percentile it reports is within
:data:`RELATIVE_ACCURACY` of a latency that was really recorded, whatever the range, and a phase of
any length keeps a few hundred counters (1 µs to 10 minutes spans about 1,000 buckets at 1%).
Histograms of the same accuracy merge exactly: the load phase's workers each return one
(:meth:`encode`, a compact JSON text), and their sum is the phase's histogram.

Why not the ``hdrhistogram`` package: its encoder is a C extension published without wheels for
Linux arm64 and Python 3.13 (the tester's Lambda runtime), so the layer could not be built for it;
``ddsketch`` is pure Python and gives the same guarantees that matter here (bounded relative error,
bounded memory, exact merges).
"""

from __future__ import annotations

import json
import math
from typing import Any

from ddsketch.ddsketch import BaseDDSketch
from ddsketch.mapping import LogarithmicMapping
from ddsketch.store import DenseStore

RELATIVE_ACCURACY = 0.01  # every percentile is within 1% of a recorded latency
# Latencies below this are recorded as this (a loopback answer takes tens of microseconds).
SMALLEST_LATENCY_MS = 0.001
ENCODING_VERSION = 1


class LatencyHistogram:
    """Latencies in milliseconds; :meth:`percentile` as DDSketch answers it (within 1%)."""

    def __init__(self) -> None:
        self._mapping: Any = LogarithmicMapping(RELATIVE_ACCURACY)
        self._store: Any = DenseStore()  # bins and offset are documented attributes of the store
        self._sketch: Any = BaseDDSketch(
            mapping=self._mapping, store=self._store, negative_store=DenseStore(), zero_count=0.0
        )

    def record(self, latency_ms: float, count: int = 1) -> None:
        self._sketch.add(max(latency_ms, SMALLEST_LATENCY_MS), float(count))

    @property
    def count(self) -> int:
        return round(float(self._sketch.count))

    def percentile(self, fraction: float) -> float | None:
        """The nearest-rank percentile (0.99 for p99: the latency that 99% of the requests did not
        exceed, the smallest such when fewer than 100 were sent), within 1%; None when empty."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(fraction * self.count))  # DDSketch's own quantile interpolates lower
        return float(self._mapping.value(self._store.key_at_rank(rank - 1)))

    def merge(self, other: LatencyHistogram) -> None:
        """Add ``other``'s latencies to this histogram (both keep the same accuracy, so it is exact)."""
        self._sketch.merge(other._sketch)

    def buckets(self) -> dict[int, int]:
        """The non-empty buckets: bucket key (the sketch's logarithmic index) to count."""
        offset = int(self._store.offset)
        return {index + offset: round(count) for index, count in enumerate(self._store.bins) if count}

    def encode(self) -> str:
        """A compact JSON text of the buckets, which :meth:`decode` turns back into the histogram."""
        return json.dumps(
            {"v": ENCODING_VERSION, "accuracy": RELATIVE_ACCURACY, "buckets": self.buckets()},
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, text: str) -> LatencyHistogram:
        """The histogram :meth:`encode` wrote; ValueError for another version or accuracy."""
        document = json.loads(text)
        if document.get("v") != ENCODING_VERSION or document.get("accuracy") != RELATIVE_ACCURACY:
            raise ValueError(
                f"a latency histogram of version {document.get('v')} and accuracy {document.get('accuracy')}"
                f" cannot be merged into version {ENCODING_VERSION} at {RELATIVE_ACCURACY}"
            )
        histogram = cls()
        for key, count in document["buckets"].items():
            # the bucket's representative value maps back to the bucket (tested for every key used)
            histogram.record(float(histogram._mapping.value(int(key))), int(count))
        return histogram
