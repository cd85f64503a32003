"""Wall time of the demo (`make demo` = `.venv/bin/python -m mlops_demo`), a fresh process per run.

    .venv/bin/python benchmarks/demo_time.py [--runs 3]     # or: make bench (all benchmarks)

A sample is the wall time from spawning the process to its exit: interpreter start, imports, the
embedded AWS and the template's deployment, the demo's story, and shutting down. Its output is
discarded; a run that fails (non-zero exit) fails the benchmark.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchstats import Spread

REPO = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "mlops_demo"]


@dataclass
class DemoTime:
    seconds: list[float]
    last_line: str  # the demo's verdict, from the last run


def measure(runs: int = 3) -> DemoTime:
    seconds: list[float] = []
    last_line = ""
    for _ in range(runs):
        started = time.perf_counter()
        finished = subprocess.run(COMMAND, cwd=REPO, capture_output=True, text=True, check=False)
        seconds.append(time.perf_counter() - started)
        if finished.returncode != 0:
            raise RuntimeError(
                f"the demo failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}"
            )
        lines = [line for line in finished.stdout.splitlines() if line.strip()]
        last_line = lines[-1].strip() if lines else ""
    return DemoTime(seconds, last_line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    result = measure(parser.parse_args().runs)
    print(f"demo: {Spread.of(result.seconds).format(1, ' s')}; {result.last_line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
