"""Cold start of each function (its handler module's import in a fresh process) vs `import boto3`,
and vs the SageMaker Python SDK; and the built layer's size.

    .venv/bin/python benchmarks/cold_start.py [--runs 5]     # or: make bench (all benchmarks)

Method. A sample is the wall time of a fresh interpreter (`python -c CODE`), from spawning it until the
import is done (the child then writes one line, which the parent waits for), so interpreter start-up
is in every figure, as it is in a Lambda cold start (Lambda's Init Duration: runtime start and the
handler module's import), and the interpreter's shutdown is not (a Lambda environment is frozen and
reused, never shut down after an invocation). Functions run with the constant environment variables
of the template's Globals (e.g. `PYDANTIC_DISABLE_PLUGINS`), and so do the others. Candidates:
- every function of template.yaml: `import app` with its function directory and the shared layer's
  source (layers/mlops_core) on PYTHONPATH (what Lambda puts on the path), in the project's `.venv`;
- `import boto3` in the same `.venv` (the baseline: every function needs boto3 anyway). Target: each
  function at most 1.5x this;
- the floor: boto3, pydantic and Powertools (Logger, Metrics, Idempotency) imported and one pydantic
  model defined, what any handler built on them pays before its own code;
- in `.venv-seed` (the environment of the seed code, with the SageMaker Python SDK v3 it
  uses): `import boto3` again (that venv's own baseline, so the SDK's ratio compares like with like),
  `import sagemaker` (in SDK v3 only a namespace package: it loads nothing), `import sagemaker.core`
  (sessions, resources, shapes: what any use of the SDK loads) and
  `from sagemaker.serve.model_builder import ModelBuilder` (how SDK v3 samples deploy a model).
One round runs every candidate once, in an order rotated by one each round, so that each ratio is
taken side by side within a round (function / boto3 of the same round) and no candidate always runs
first or last. Before the rounds every candidate runs once unmeasured: it warms the OS file cache
and writes the bytecode of everything imported into a private cache (PYTHONPYCACHEPREFIX, one per
venv, in a temporary directory), which every sample then reads: all candidates start with compiled
bytecode, as boto3 and the venvs' packages do after pip install, and as the layer does in Lambda
only if it ships bytecode (Lambda's file system is read-only: a layer without .pyc files is compiled
on every cold start). The layer-size line says how many .pyc files the built layer carries.

Layer size: the unzipped size of `.aws-sam/build/CoreLayer` as `make build` leaves it (`make bench`
runs `make build` first when the layer's or the functions' sources, the template or the Makefile
changed), and the size of its zip (deflate, level 6, as `sam package` would upload it). Target: under
15 MB unzipped.
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from benchstats import Spread

REPO = Path(__file__).resolve().parents[1]
LAYER_SOURCE = REPO / "layers" / "mlops_core"
BUILT_LAYER = REPO / ".aws-sam" / "build" / "CoreLayer"
SEED_PYTHON = REPO / ".venv-seed" / "bin" / "python"
TARGET_RATIO = 1.5
IMPORTED = "imported"  # what a candidate's process writes once its import is done
TARGET_LAYER_MB = 15.0
BASELINE = "import boto3"
# What any handler built on boto3, pydantic and Powertools (Logger, Metrics, Idempotency) pays before
# its own code: the functions' floor. The gap between it and a function is the project's own modules.
FLOOR = "floor: boto3 + pydantic + Powertools + one model"
FLOOR_CODE = """import boto3
from pydantic import BaseModel, ConfigDict, Field
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent_function
class Event(BaseModel):
    model_config = ConfigDict(defer_build=True)
    detail_type: str = Field(alias="detail-type")"""
SEED_BASELINE = "import boto3 (.venv-seed)"
SDK_CANDIDATES = {
    "import sagemaker (.venv-seed)": "import sagemaker",
    "import sagemaker.core (.venv-seed)": "import sagemaker.core",
    "ModelBuilder (.venv-seed)": "from sagemaker.serve.model_builder import ModelBuilder",
}


class _TemplateLoader(yaml.SafeLoader):
    """Reads template.yaml, ignoring CloudFormation's short tags (only the CodeUri is needed)."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _template() -> dict:
    return yaml.load((REPO / "template.yaml").read_text(), Loader=_TemplateLoader)


@functools.cache
def global_environment() -> dict[str, str]:
    """The template's Globals variables that are plain strings (references are left out)."""
    variables = _template().get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    return {name: value for name, value in variables.items() if isinstance(value, str)}


def function_dirs() -> dict[str, Path]:
    template = _template()
    return {
        name: REPO / resource["Properties"]["CodeUri"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


@dataclass(frozen=True)
class Candidate:
    name: str
    python: str
    code: str
    path: tuple[Path, ...] = ()
    baseline: str = BASELINE  # the candidate its ratio is taken against


@dataclass
class ColdStart:
    """Wall time samples (ms) per candidate, one per round; ratios to the baseline of the same round."""

    candidates: list[Candidate]
    samples_ms: dict[str, list[float]] = field(default_factory=dict)

    def ratios(self, name: str) -> list[float]:
        baseline = self.candidates_by_name[name].baseline
        return [
            sample / base
            for sample, base in zip(self.samples_ms[name], self.samples_ms[baseline], strict=True)
        ]

    @property
    def candidates_by_name(self) -> dict[str, Candidate]:
        return {candidate.name: candidate for candidate in self.candidates}

    @property
    def functions(self) -> list[str]:
        return [c.name for c in self.candidates if c.path]


@dataclass(frozen=True)
class LayerSize:
    path: Path
    unzipped_mb: float
    zipped_mb: float
    files: int
    bytecode_files: int
    built_at: float  # mtime of the build


def candidates(include_sdk: bool = True) -> list[Candidate]:
    found = [Candidate(BASELINE, sys.executable, "import boto3")]
    found.append(Candidate(FLOOR, sys.executable, FLOOR_CODE))
    found += [
        Candidate(name, sys.executable, "import app", (code_dir, LAYER_SOURCE))
        for name, code_dir in sorted(function_dirs().items())
    ]
    if include_sdk and SEED_PYTHON.exists():
        found.append(Candidate(SEED_BASELINE, str(SEED_PYTHON), "import boto3", baseline=SEED_BASELINE))
        found += [
            Candidate(name, str(SEED_PYTHON), code, baseline=SEED_BASELINE)
            for name, code in SDK_CANDIDATES.items()
        ]
    return found


def _run(candidate: Candidate, pycache: Path) -> float:
    """Wall time, in ms, from spawning a fresh interpreter to the end of the candidate's import."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}
    }
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = "us-east-1"  # Lambda sets it; the SDK needs it at import
    env.update(global_environment())  # e.g. PYDANTIC_DISABLE_PLUGINS, for every candidate alike
    if candidate.path:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in candidate.path)
    code = f"{candidate.code}\nimport sys\nsys.stdout.write('{IMPORTED}\\n')\nsys.stdout.flush()"
    started = time.perf_counter()
    command = [candidate.python, "-c", code]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        line = child.stdout.readline()
        took = (time.perf_counter() - started) * 1000
        child.stdout.read()
    if child.returncode != 0 or line.strip() != IMPORTED:
        raise RuntimeError(f"{candidate.name}: the import failed (exit {child.returncode})")
    return took


def measure(runs: int = 5, include_sdk: bool = True) -> ColdStart:
    """`runs` rounds over every candidate, the order rotated each round (see the module's docstring)."""
    found = candidates(include_sdk)
    result = ColdStart(found, {c.name: [] for c in found})
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as directory:
        caches = {python: Path(directory) / str(i) for i, python in enumerate({c.python for c in found})}
        for candidate in found:  # unmeasured: OS file cache and bytecode
            _run(candidate, caches[candidate.python])
        for round_ in range(runs):
            shift = round_ % len(found)
            for candidate in found[shift:] + found[:shift]:
                result.samples_ms[candidate.name].append(_run(candidate, caches[candidate.python]))
    return result


def layer_size(path: Path = BUILT_LAYER) -> LayerSize | None:
    """The built layer's size, unzipped and zipped; None when it has not been built."""
    if not path.exists():
        return None
    files = sorted(f for f in path.rglob("*") if f.is_file())
    unzipped = sum(f.stat().st_size for f in files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for file in files:
            archive.write(file, file.relative_to(path))
    bytecode = sum(1 for f in files if f.suffix == ".pyc")
    return LayerSize(
        path,
        unzipped / 1_000_000,
        len(buffer.getvalue()) / 1_000_000,
        len(files),
        bytecode,
        path.stat().st_mtime,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-sdk", action="store_true", help="skip the SageMaker SDK candidates")
    args = parser.parse_args()
    result = measure(args.runs, include_sdk=not args.no_sdk)
    width = max(len(candidate.name) for candidate in result.candidates)
    for candidate in result.candidates:
        ms = Spread.of(result.samples_ms[candidate.name]).format(0, " ms")
        ratio = Spread.of(result.ratios(candidate.name)).format(2, "x")
        print(f"{candidate.name:{width}} {ms:36} {ratio} {candidate.baseline}")
    size = layer_size()
    if size is None:
        print("built CoreLayer: not built (run `make build`)")
    else:
        print(f"{'built CoreLayer':40} {size.unzipped_mb:7.1f} MB unzipped, {size.zipped_mb:.1f} MB zipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
