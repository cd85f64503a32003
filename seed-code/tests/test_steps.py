"""The scripts the pipeline's jobs run: the split, and the evaluation report the quality gate reads."""

from __future__ import annotations

import ast
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pipelines.pipeline import SCRIPTS, SKLEARN_VERSION, STEP_SCRIPTS_PYTHON, XGBOOST_VERSION
from steps.evaluate import AUC_PATH, extract_model, report, roc_auc
from steps.preprocess import main as preprocess_main
from steps.preprocess import prepare, split

STEPS = Path(__file__).resolve().parent.parent / "steps"
IMAGE_PYTHON = {("sklearn", "1.2-1"): (3, 9), ("xgboost", "1.7-1"): (3, 8)}
"""The Python of each image the step scripts run in, from the images' Dockerfiles. A new image
version needs its entry here (and STEP_SCRIPTS_PYTHON lowered if it is older)."""
NEWER_CALLS = {
    ("zip", "strict"): "zip(strict=...) is Python 3.10+",
    ("extractall", "filter"): "extractall(filter=...) is Python 3.12+ (or a late patch release)",
    ("extract", "filter"): "extract(filter=...) is Python 3.12+ (or a late patch release)",
}
NEWER_METHODS = {
    "removeprefix": "str.removeprefix is Python 3.9+",
    "removesuffix": "str.removesuffix is Python 3.9+",
}


def newer_python_uses(source: str, filename: str, version: tuple[int, int]) -> list[str]:
    """What in ``source`` needs a Python newer than ``version``: grammar (``ast.parse`` with
    ``feature_version`` refuses e.g. ``match``) and the calls the grammar cannot see."""
    try:
        tree = ast.parse(source, filename, feature_version=version)
    except SyntaxError as error:
        return [f"{filename}:{error.lineno}: not Python {version[0]}.{version[1]} grammar: {error.msg}"]
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
        for keyword in node.keywords:
            if (name, keyword.arg) in NEWER_CALLS:
                found.append(f"{filename}:{node.lineno}: {NEWER_CALLS[name, keyword.arg]}")
        if isinstance(function, ast.Attribute) and name in NEWER_METHODS:
            found.append(f"{filename}:{node.lineno}: {NEWER_METHODS[name]}")
    # `list[str] | None` in a signature is evaluated at import on 3.8 unless annotations are lazy
    annotated = any(
        isinstance(node, ast.AnnAssign)
        or (isinstance(node, ast.arg) and node.annotation is not None)
        or (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None)
        for node in ast.walk(tree)
    )
    if annotated and not any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    ):
        found.append(f"{filename}: needs `from __future__ import annotations` (3.9+ annotations)")
    return found


def test_the_step_images_are_ones_whose_python_is_known() -> None:
    images = {("sklearn", SKLEARN_VERSION), ("xgboost", XGBOOST_VERSION)}
    assert images <= set(IMAGE_PYTHON), f"add the Python of {images - set(IMAGE_PYTHON)} to IMAGE_PYTHON"
    assert min(IMAGE_PYTHON[image] for image in images) == STEP_SCRIPTS_PYTHON


@pytest.mark.parametrize("script", sorted({*SCRIPTS, *(p.name for p in STEPS.glob("*.py"))}))
def test_step_scripts_run_on_the_images_python(script: str) -> None:
    path = STEPS / script
    assert newer_python_uses(path.read_text(), script, STEP_SCRIPTS_PYTHON) == []


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        ("for a, b in zip(x, y, strict=True):\n    pass\n", "zip(strict"),
        ("archive.extractall(path, filter='data')\n", "extractall(filter"),
        ("name = ref.removeprefix('refs/heads/')\n", "removeprefix"),
        ("match x:\n    case 1:\n        pass\n", "grammar"),
        ("def f(a: list[str] | None) -> None: ...\n", "__future__"),
    ],
)
def test_the_compatibility_check_catches_newer_python(snippet: str, problem: str) -> None:
    source = snippet if problem == "__future__" else "from __future__ import annotations\n" + snippet
    (found,) = newer_python_uses(source, "snippet.py", (3, 8))
    assert problem in found


def _model_archive(path: Path, members: dict[str, bytes], link: tuple[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if link is not None:
            info = tarfile.TarInfo(link[0])
            info.type = tarfile.SYMTYPE
            info.linkname = link[1]
            archive.addfile(info)
    return path


def test_the_model_archive_is_unpacked(tmp_path: Path) -> None:
    archive = _model_archive(tmp_path / "model.tar.gz", {"xgboost-model": b"booster"})
    extract_model(archive, tmp_path / "model")
    assert (tmp_path / "model" / "xgboost-model").read_bytes() == b"booster"


@pytest.mark.parametrize(
    ("members", "link"),
    [({"../escape": b"x"}, None), ({"/etc/escape": b"x"}, None), ({}, ("xgboost-model", "/etc/passwd"))],
)
def test_a_model_archive_that_escapes_its_folder_is_refused(
    tmp_path: Path, members: dict[str, bytes], link: tuple[str, str] | None
) -> None:
    archive = _model_archive(tmp_path / "model.tar.gz", members, link)
    with pytest.raises(ValueError, match="model archive member"):
        extract_model(archive, tmp_path / "model")
    assert not (tmp_path / "escape").exists() and not (tmp_path / "model" / "xgboost-model").exists()


def test_auc_matches_known_values() -> None:
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert roc_auc(np.array([0, 1]), np.array([0.2, 0.9])) == 1.0
    assert roc_auc(np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.5, 0.5])) == 0.5  # ties count half


def test_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both classes"):
        roc_auc(np.array([1, 1]), np.array([0.2, 0.9]))


def test_report_puts_auc_where_the_quality_gate_reads_it() -> None:
    evaluation = report(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    value: object = evaluation
    for part in AUC_PATH.split("."):
        value = value[part]  # type: ignore[index]
    assert value == pytest.approx(0.75)
    assert evaluation["binary_classification_metrics"]["accuracy"]["value"] == pytest.approx(0.75)


def test_prepare_puts_the_target_first_and_fills_gaps() -> None:
    frame = pd.DataFrame({"a": [1.0, None, 3.0], "label": [0, 1, 0], "name": ["x", "y", "z"]})
    prepared = prepare(frame, "label")
    assert list(prepared.columns) == ["label", "a"]
    assert prepared["a"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="target column 'churn'"):
        prepare(frame, "churn")


def test_split_is_seeded_and_disjoint() -> None:
    frame = pd.DataFrame({"label": [0, 1] * 50, "x": range(100)})
    train, validation, test = split(frame, validation=0.2, test=0.1, seed=1)
    assert (len(train), len(validation), len(test)) == (70, 20, 10)
    assert set(train.x) | set(validation.x) | set(test.x) == set(range(100))
    assert split(frame, validation=0.2, test=0.1, seed=1)[2].x.tolist() == test.x.tolist()


def test_preprocess_writes_headerless_splits_in_xgboost_shape(tmp_path: Path) -> None:
    (tmp_path / "input").mkdir()
    pd.DataFrame({"x": range(40), "label": [0, 1] * 20}).to_csv(tmp_path / "input" / "data.csv", index=False)
    preprocess_main(["--base", str(tmp_path)])
    rows = sum(
        len(np.loadtxt(tmp_path / n / f"{n}.csv", delimiter=",", ndmin=2))
        for n in ("train", "validation", "test")
    )
    assert rows == 40
    first = (tmp_path / "train" / "train.csv").read_text().splitlines()[0].split(",")
    assert first[0] in {"0", "1"} and len(first) == 2
    assert json.dumps(AUC_PATH)  # the path is a plain string the pipeline's JsonGet can use
