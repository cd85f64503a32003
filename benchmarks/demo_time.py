"""Wall time of the demo (`make demo` = `.venv/bin/python -m mlops_demo`), a fresh process per run.

    .venv/bin/python benchmarks/demo_time.py [--runs 3] [--vs 'COMMAND']   # or: make bench

A sample is the wall time from spawning the process to its exit: interpreter start, imports, the
local cloud and the template's deployment, the demo's story, and shutting down. Its output is
discarded; a run that fails (non-zero exit) fails the benchmark.

With `--vs 'COMMAND'` (another checkout's demo, for instance
`sh -c 'cd ../before && .venv/bin/python -m mlops_demo'`), the two run in turn, this demo then that
one, and each pair gives a ratio: on a shared machine the ratio is the figure to quote, not the
seconds. The target, at most 1.25 times the demo before the local cloud enforced IAM and the service
rules, is checked against that ratio.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchstats import Spread

REPO = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "mlops_demo"]
TARGET_RATIO = 1.25


@dataclass
class DemoTime:
    seconds: list[float]
    last_line: str  # the demo's verdict, from the last run
    baseline_seconds: list[float]  # empty without --vs

    @property
    def ratios(self) -> list[float]:
        return [ours / theirs for ours, theirs in zip(self.seconds, self.baseline_seconds, strict=True)]


def _run(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(command)} failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}"
        )
    lines = [line for line in finished.stdout.splitlines() if line.strip()]
    return took, lines[-1].strip() if lines else ""


def measure(runs: int = 3, baseline: list[str] | None = None) -> DemoTime:
    result = DemoTime([], "", [])
    for _ in range(runs):
        seconds, result.last_line = _run(COMMAND)
        result.seconds.append(seconds)
        if baseline:
            result.baseline_seconds.append(_run(baseline)[0])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--vs", help="a baseline demo command, run in turn with this one")
    arguments = parser.parse_args()
    result = measure(arguments.runs, shlex.split(arguments.vs) if arguments.vs else None)
    print(f"demo: {Spread.of(result.seconds).format(1, ' s')}; {result.last_line}")
    if result.baseline_seconds:
        print(f"baseline: {Spread.of(result.baseline_seconds).format(1, ' s')}")
        print(f"ratio: {Spread.of(result.ratios).format(2, 'x')} (target at most {TARGET_RATIO}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
