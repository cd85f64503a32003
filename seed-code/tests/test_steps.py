"""The scripts the pipeline's jobs run: the split, and the evaluation report the quality gate reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from steps.evaluate import AUC_PATH, report, roc_auc
from steps.preprocess import main as preprocess_main
from steps.preprocess import prepare, split


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
