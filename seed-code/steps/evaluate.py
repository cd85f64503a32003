"""Evaluation job: score the trained model on the held-out test split and write the evaluation report.

Runs in the XGBoost container (``sagemaker-xgboost:1.7-1``, a processing job), so the model loads with
the same library that trained it. That image runs Python 3.8: keep this file valid Python 3.8
(``tests/test_steps.py`` checks). The report (``evaluation.json``) has SageMaker's model-quality
shape, so it serves twice: the quality gate reads ``binary_classification_metrics.auc.value`` from it
(a ``PropertyFile``), and the registered model version points to it as its ``ModelMetrics``."""

from __future__ import annotations

import argparse
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

BASE = Path("/opt/ml/processing")
AUC_PATH = "binary_classification_metrics.auc.value"
"""Where the quality gate finds the metric it compares with the threshold (a JSONPath into the report)."""


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); no scikit-learn needed."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=float)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("AUC needs both classes in the test split; use more data or another seed")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=float)
    sorted_scores = scores[order]
    start = 0
    while start < len(scores):
        end = start
        while end + 1 < len(scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    rank_sum = ranks[labels].sum()
    return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))


def report(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """The evaluation report in SageMaker's ``binary_classification_metrics`` shape."""
    labels = np.asarray(labels).astype(int)
    predicted = (np.asarray(scores) >= threshold).astype(int)
    accuracy = float((predicted == labels).mean())
    true_positive = int(((predicted == 1) & (labels == 1)).sum())
    precision = true_positive / max(1, int(predicted.sum()))
    recall = true_positive / max(1, int(labels.sum()))
    return {
        "binary_classification_metrics": {
            "auc": {"value": roc_auc(labels, scores), "standard_deviation": "NaN"},
            "accuracy": {"value": accuracy, "standard_deviation": "NaN"},
            "precision": {"value": precision, "standard_deviation": "NaN"},
            "recall": {"value": recall, "standard_deviation": "NaN"},
        }
    }


def extract_model(archive_path: Path, destination: Path) -> None:
    """Unpack ``model.tar.gz``, refusing members that would land outside ``destination``.

    ``extractall(filter="data")`` exists only from Python 3.12 (and late 3.8-3.11 patch releases), so
    the members are checked here on every version, and the ``data`` filter is used where there is one.
    """
    root = destination.resolve()
    with tarfile.open(archive_path) as archive:
        for member in archive.getmembers():
            target = (root / member.name).resolve()
            if target != root and root not in target.parents:
                raise ValueError(f"model archive member {member.name!r} points outside {root}")
            if not (member.isfile() or member.isdir()):
                raise ValueError(f"model archive member {member.name!r} is not a plain file or folder")
        data_filter = getattr(tarfile, "data_filter", None)
        if data_filter is not None:
            archive.extraction_filter = data_filter
        archive.extractall(root)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", type=Path, default=BASE)
    args = parser.parse_args(argv)

    import xgboost  # noqa: PLC0415  (only in the XGBoost container; imported here so the tests need no xgboost)

    extract_model(args.base / "model" / "model.tar.gz", args.base / "model")
    booster = xgboost.Booster()
    booster.load_model(str(args.base / "model" / "xgboost-model"))
    test = np.loadtxt(args.base / "test" / "test.csv", delimiter=",", ndmin=2)
    labels, features = test[:, 0], test[:, 1:]
    scores = booster.predict(xgboost.DMatrix(features))
    evaluation = report(labels, scores)
    out = args.base / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(evaluation, indent=2))
    print(json.dumps(evaluation))


if __name__ == "__main__":
    main()
