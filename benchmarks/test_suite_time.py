"""Wall time of the whole test suite (`make test`), warm, a fresh process per run.

    .venv/bin/python benchmarks/test_suite_time.py [--runs 1]     # or: make bench (all benchmarks)

A sample is the wall time from spawning `make test` (pytest with one worker per core) to its exit,
with the venvs built and the OS file cache warm: what a newcomer waits for on the second `make test`
(the first also builds .venv and .venv-mlflow). The output is kept only for its summary line; a run
that fails (non-zero exit) fails the benchmark. Target: at most 5 minutes on two cores.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchstats import Spread

REPO = Path(__file__).resolve().parents[1]
COMMAND = ["make", "test"]
TARGET_SECONDS = 300.0
_SUMMARY = re.compile(r"^=* ?(\d+ passed.*) in [\d.]+s")


@dataclass
class SuiteTime:
    seconds: list[float]
    summary: str  # pytest's closing line of the last run, e.g. "830 passed, 3 skipped"


def measure(runs: int = 1) -> SuiteTime:
    seconds: list[float] = []
    summary = ""
    for _ in range(runs):
        started = time.perf_counter()
        finished = subprocess.run(COMMAND, cwd=REPO, capture_output=True, text=True, check=False)
        seconds.append(time.perf_counter() - started)
        if finished.returncode != 0:
            raise RuntimeError(f"the tests failed ({finished.returncode}):\n{finished.stdout[-3000:]}")
        for line in finished.stdout.splitlines():
            match = _SUMMARY.match(line.strip())
            if match:
                summary = match[1].rstrip(" =")
    return SuiteTime(seconds, summary)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    result = measure(parser.parse_args().runs)
    spread = Spread.of(result.seconds)
    verdict = "OK" if spread.median <= TARGET_SECONDS else "OVER TARGET"
    print(f"make test: {spread.format(0, ' s')}; {result.summary}; target {TARGET_SECONDS:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
