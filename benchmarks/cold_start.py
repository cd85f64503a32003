"""Cold start of each function: its handler module's import in a fresh process, vs `import boto3`.

Run with `make bench`. For every function in template.yaml this starts a fresh interpreter that
imports the handler module (function directory and the shared layer on the path, as in Lambda)
and measures the process's wall time, median of several runs; `import boto3` alone is the
baseline (boto3 is what every function needs anyway). Target: at most 1.5x the baseline.
Also prints the unzipped size of the built layer (`make build` first; target under 15 MB).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
LAYER_SOURCE = REPO / "layers" / "mlops_core"
BUILT_LAYER = REPO / ".aws-sam" / "build" / "CoreLayer"
TARGET_RATIO = 1.5
TARGET_LAYER_MB = 15


class _TemplateLoader(yaml.SafeLoader):
    """Reads template.yaml, ignoring CloudFormation's short tags (only the CodeUri is needed)."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def function_dirs() -> dict[str, Path]:
    template = yaml.load((REPO / "template.yaml").read_text(), Loader=_TemplateLoader)
    return {
        name: REPO / resource["Properties"]["CodeUri"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def wall_time(code: str, path: list[Path], runs: int) -> float:
    """Median wall time, in seconds, of a fresh interpreter running `code`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in path), "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)  # warm the OS file cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def directory_megabytes(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    baseline = wall_time("import boto3", [], args.runs)
    print(f"{'import boto3 (baseline)':40} {baseline * 1000:7.0f} ms")
    for name, code_dir in sorted(function_dirs().items()):
        seconds = wall_time("import app", [code_dir, LAYER_SOURCE], args.runs)
        ratio = seconds / baseline
        verdict = "ok" if ratio <= TARGET_RATIO else f"over the {TARGET_RATIO}x target"
        print(f"{name:40} {seconds * 1000:7.0f} ms  {ratio:4.2f}x boto3  {verdict}")
    if BUILT_LAYER.exists():
        size = directory_megabytes(BUILT_LAYER)
        verdict = "ok" if size < TARGET_LAYER_MB else f"over the {TARGET_LAYER_MB} MB target"
        print(f"{'built CoreLayer, unzipped':40} {size:7.1f} MB  {verdict}")
    else:
        print("built CoreLayer: not built (run `make build`)")


if __name__ == "__main__":
    main()
