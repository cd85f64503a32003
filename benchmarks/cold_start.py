"""Cold start of each function (its handler module's import and what its first event loads, in a
fresh process) vs `import boto3`, and vs the SageMaker Python SDK; and the built layer's size.

    .venv/bin/python benchmarks/cold_start.py [--runs 5]     # or: make bench (all benchmarks)
    .venv/bin/python benchmarks/cold_start.py --before /path/to/other/checkout   # side by side
    .venv/bin/python benchmarks/cold_start.py --cpu     # CPU time, for a machine others keep busy

Method. A sample is the wall time of a fresh interpreter (`python -c CODE`), from spawning it until the
import is done (the child then writes one line, which the parent waits for), so interpreter start-up
is in every figure, as it is in a Lambda cold start (Lambda's Init Duration: runtime start and the
handler module's import), and the interpreter's shutdown is not (a Lambda environment is frozen and
reused, never shut down after an invocation). With `--cpu` (benchmarks/run.py `--cpu-time`) a sample
is instead the child's own CPU time until then (user and system, `time.process_time()` written on
that line): on a machine other work keeps busy, wall time mostly measures the wait for a core, CPU
time the work, which is what a change to the code changes. Functions run with the constant
environment variables of the template's Globals (e.g. `PYDANTIC_DISABLE_PLUGINS`), and so do the
others. Candidates:
- every function of template.yaml, twice, with its function directory and the shared layer's source
  (layers/mlops_core) on PYTHONPATH (what Lambda puts on the path), in the project's `.venv`:
  - the function's cold start (the figure held to the target): `import app`, then what a first
    event loads on top. A Lambda cold start is Init (the import) plus the first invocation, so work
    deferred from the import to the first use is still counted: every pydantic validator the
    function's modules define but defer (`defer_build`: built when a model is first validated; an
    event, the settings, a stored record, an emitted domain event), all built (`model_rebuild()`),
    and the modules the code imports where it uses them (`first_use_imports`: an import inside a
    function, not of the layer's own, in `app.py` or in any layer module `import app` loads, e.g.
    the Slack SDK, the MLflow client). An upper bound for the heaviest route's first event (no route
    validates every model), with two things left out: the boto3 clients (made on first use in every
    function alike, and not by the baseline's `import boto3`) and the AWS calls;
  - `import app` alone (Lambda's Init Duration), beside it;
- `import boto3` in the same `.venv` (the baseline: every function needs boto3 anyway). Target: each
  function at most 1.5x this;
- the floor: boto3, pydantic and Powertools (Logger, Metrics, Idempotency) imported and one pydantic
  model defined, what any handler built on them pays before its own code; and the floor's first
  event, the same with that model's validator built and one event validated;
- with `--before PATH`: every function's two candidates again from another checkout of the project
  (its functions/ and layers/mlops_core, in this `.venv`), so a change's before and after are taken
  side by side in the same rounds;
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
import ast
import functools
import io
import json
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
LAYER_PACKAGE = "mlops_core"
BUILT_LAYER = REPO / ".aws-sam" / "build" / "CoreLayer"
SEED_PYTHON = REPO / ".venv-seed" / "bin" / "python"
TARGET_RATIO = 1.5
IMPORTED = "imported"  # what a candidate's process writes once its import is done (and its CPU time)
WALL_TIME = "wall time"
CPU_TIME = "CPU time of the candidate's interpreter"
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
FLOOR_FIRST_EVENT = "floor, first event: its model validated once"
FLOOR_FIRST_EVENT_CODE = (
    FLOOR_CODE
    + """
Event.model_validate({"detail-type": "Scheduled Event"})"""
)
IMPORT_ONLY = ": import app"  # the suffix of a function's `import app` candidate
BEFORE = " (before)"  # the suffix of another checkout's candidates (`--before`)
# What a function's first event builds on top of `import app`: every validator its modules defer.
FIRST_EVENT_CODE = """import app
import sys
from pydantic import BaseModel
for _module in [m for n, m in list(sys.modules.items()) if n == "app" or n.startswith("mlops_core.")]:
    for _value in list(vars(_module).values()):
        if (
            isinstance(_value, type)
            and issubclass(_value, BaseModel)
            and _value.__module__ == _module.__name__
            and not _value.__pydantic_complete__
        ):
            _value.model_rebuild()"""
SEED_BASELINE = "import boto3 (.venv-seed)"
SDK_CANDIDATES = {
    "import sagemaker (.venv-seed)": "import sagemaker",
    "import sagemaker.core (.venv-seed)": "import sagemaker.core",
    "ModelBuilder (.venv-seed)": "from sagemaker.serve.model_builder import ModelBuilder",
}


class _TemplateLoader(yaml.SafeLoader):
    """Reads template.yaml, ignoring CloudFormation's short tags (only the CodeUri is needed)."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _template(repo: Path = REPO) -> dict:
    return yaml.load((repo / "template.yaml").read_text(), Loader=_TemplateLoader)


@functools.cache
def global_environment() -> dict[str, str]:
    """The template's Globals variables that are plain strings (references are left out)."""
    variables = _template().get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    return {name: value for name, value in variables.items() if isinstance(value, str)}


def function_dirs(repo: Path = REPO) -> dict[str, Path]:
    template = _template(repo)
    return {
        name: repo / resource["Properties"]["CodeUri"]
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
    held_to_target: bool = False  # a function's cold start (import and first event), of this checkout


@dataclass
class ColdStart:
    """Wall time samples (ms) per candidate, one per round; ratios to the baseline of the same round."""

    candidates: list[Candidate]
    samples_ms: dict[str, list[float]] = field(default_factory=dict)
    clock: str = WALL_TIME  # or CPU_TIME (`--cpu`)

    def ratios(self, name: str) -> list[float]:
        baseline = self.candidates_by_name[name].baseline
        return [
            sample / base
            for sample, base in zip(self.samples_ms[name], self.samples_ms[baseline], strict=True)
        ]

    @property
    def candidates_by_name(self) -> dict[str, Candidate]:
        return {candidate.name: candidate for candidate in self.candidates}

    def differences(self, name: str, other: str) -> list[float]:
        """`name` minus `other`, in ms, round by round (both taken side by side in each round)."""
        return [a - b for a, b in zip(self.samples_ms[name], self.samples_ms[other], strict=True)]

    @property
    def functions(self) -> list[str]:
        """The functions' cold starts (import and first event): the figures held to the target."""
        return [c.name for c in self.candidates if c.held_to_target]

    def breakdown(self) -> list[tuple[str, Spread, Spread]]:
        """Per function: its `import app` over the floor, and its first event over its `import app` (ms)."""
        return [
            (
                name,
                Spread.of(self.differences(f"{name}{IMPORT_ONLY}", FLOOR)),
                Spread.of(self.differences(name, f"{name}{IMPORT_ONLY}")),
            )
            for name in self.functions
        ]

    def budget_ms(self) -> Spread:
        """What a function may add to the floor's first event and still be at most TARGET_RATIO."""
        return Spread.of(
            [
                TARGET_RATIO * base - floor
                for base, floor in zip(
                    self.samples_ms[BASELINE], self.samples_ms[FLOOR_FIRST_EVENT], strict=True
                )
            ]
        )


@dataclass(frozen=True)
class LayerSize:
    path: Path
    unzipped_mb: float
    zipped_mb: float
    files: int
    bytecode_files: int
    built_at: float  # mtime of the build


def first_use_imports(source: Path) -> set[str]:
    """The modules, not the layer's own, that a module's functions import where they use them (the
    Slack SDK, the MLflow client): not loaded by `import app`, but by the first event that runs them."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    found |= {alias.name for alias in inner.names}
                elif isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
                    found.add(inner.module)
    return {module for module in found if module.split(".")[0] != LAYER_PACKAGE}


def loaded_layer_modules(path: tuple[Path, ...]) -> list[str]:
    """The layer's modules that `import app` loads, in a fresh interpreter with `path`."""
    code = (
        "import json, sys, app\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == {LAYER_PACKAGE!r})))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], env=_environment(path), capture_output=True, text=True, check=True
    ).stdout
    return list(json.loads(output))


def function_first_use_imports(code_dir: Path, layer: Path) -> set[str]:
    """What a function's code imports where it uses it: in its app.py and the layer modules it loads."""
    sources = [code_dir / "app.py"]
    for module in loaded_layer_modules((code_dir, layer)):
        source = layer / Path(*module.split("."))
        sources.append(source / "__init__.py" if source.is_dir() else source.with_suffix(".py"))
    return set().union(*(first_use_imports(source) for source in sources))


def first_event_code(first_use: set[str]) -> str:
    return FIRST_EVENT_CODE + "".join(f"\nimport {module}" for module in sorted(first_use))


def function_candidates(repo: Path = REPO, suffix: str = "") -> list[Candidate]:
    """Each function's cold start (import and first event) and, beside it, its `import app`."""
    found = []
    layer = repo / LAYER_SOURCE.relative_to(REPO)
    for name, code_dir in sorted(function_dirs(repo).items()):
        path = (code_dir, layer)
        code = first_event_code(function_first_use_imports(code_dir, layer))
        found.append(Candidate(f"{name}{suffix}", sys.executable, code, path, held_to_target=not suffix))
        found.append(Candidate(f"{name}{IMPORT_ONLY}{suffix}", sys.executable, "import app", path))
    return found


def candidates(include_sdk: bool = True, before: Path | None = None) -> list[Candidate]:
    found = [Candidate(BASELINE, sys.executable, "import boto3")]
    found.append(Candidate(FLOOR, sys.executable, FLOOR_CODE))
    found.append(Candidate(FLOOR_FIRST_EVENT, sys.executable, FLOOR_FIRST_EVENT_CODE))
    found += function_candidates()
    if before is not None:
        found += function_candidates(before.resolve(), BEFORE)
    if include_sdk and SEED_PYTHON.exists():
        found.append(Candidate(SEED_BASELINE, str(SEED_PYTHON), "import boto3", baseline=SEED_BASELINE))
        found += [
            Candidate(name, str(SEED_PYTHON), code, baseline=SEED_BASELINE)
            for name, code in SDK_CANDIDATES.items()
        ]
    return found


def _environment(path: tuple[Path, ...], pycache: Path | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}
    }
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ written into the sources
    else:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = "us-east-1"  # Lambda sets it; the SDK needs it at import
    env.update(global_environment())  # e.g. PYDANTIC_DISABLE_PLUGINS, for every candidate alike
    if path:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in path)
    return env


def _run(candidate: Candidate, pycache: Path) -> tuple[float, float]:
    """Wall time, in ms, from spawning a fresh interpreter to the end of the candidate's import, and the
    interpreter's own CPU time (user and system, in ms) until then."""
    env = _environment(candidate.path, pycache)
    code = (
        f"{candidate.code}\nimport sys, time\n"
        f"sys.stdout.write(f'{IMPORTED} {{time.process_time()}}\\n')\nsys.stdout.flush()"
    )
    started = time.perf_counter()
    command = [candidate.python, "-c", code]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        line = child.stdout.readline()
        took = (time.perf_counter() - started) * 1000
        child.stdout.read()
    word, _, cpu_seconds = line.strip().partition(" ")
    if child.returncode != 0 or word != IMPORTED:
        raise RuntimeError(f"{candidate.name}: the import failed (exit {child.returncode})")
    return took, float(cpu_seconds) * 1000


def measure(
    runs: int = 5, include_sdk: bool = True, before: Path | None = None, cpu: bool = False
) -> ColdStart:
    """`runs` rounds over every candidate, the order rotated each round (see the module's docstring);
    each sample the wall time, or with `cpu` the candidate interpreter's CPU time."""
    found = candidates(include_sdk, before)
    result = ColdStart(found, {c.name: [] for c in found}, clock=CPU_TIME if cpu else WALL_TIME)
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as directory:
        caches = {python: Path(directory) / str(i) for i, python in enumerate({c.python for c in found})}
        for candidate in found:  # unmeasured: OS file cache and bytecode
            _run(candidate, caches[candidate.python])
        for round_ in range(runs):
            shift = round_ % len(found)
            for candidate in found[shift:] + found[:shift]:
                wall, cpu_time = _run(candidate, caches[candidate.python])
                result.samples_ms[candidate.name].append(cpu_time if cpu else wall)
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
    parser.add_argument(
        "--before", type=Path, help="another checkout of the project: its functions measured side by side"
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="each sample the candidate's CPU time, not wall time (a busy machine)",
    )
    args = parser.parse_args()
    result = measure(args.runs, include_sdk=not args.no_sdk, before=args.before, cpu=args.cpu)
    print(f"samples: {result.clock}")
    width = max(len(candidate.name) for candidate in result.candidates)
    for candidate in result.candidates:
        ms = Spread.of(result.samples_ms[candidate.name]).format(0, " ms")
        ratio = Spread.of(result.ratios(candidate.name)).format(2, "x")
        print(f"{candidate.name:{width}} {ms:36} {ratio} {candidate.baseline}")
    print(f"\nper function, ms (median of the rounds' differences); budget {result.budget_ms().format(0)}")
    for name, imported, first_event in result.breakdown():
        print(f"{name:{width}} import app - floor {imported.format(0):30} first event - import app", end=" ")
        print(first_event.format(0))
    size = layer_size()
    if size is None:
        print("built CoreLayer: not built (run `make build`)")
    else:
        print(f"{'built CoreLayer':40} {size.unzipped_mb:7.1f} MB unzipped, {size.zipped_mb:.1f} MB zipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
