"""Preprocessing job: raw CSV → train / validation / test splits in the shape SageMaker's XGBoost reads.

Runs in the scikit-learn processing container (``sagemaker-scikit-learn:1.2-1-cpu-py3``, Python 3.9;
pandas and numpy are there), so it must stay valid Python 3.8: no ``zip(strict=...)``, no ``match``,
no ``str.removeprefix`` (``tests/test_steps.py`` checks). Input: every ``*.csv``
under ``/opt/ml/processing/input`` with a header row and a binary target column (``--target-column``).
Output: headerless CSVs with the target first, which is what built-in XGBoost expects for
``text/csv``. The split is seeded, so the same data and commit give the same model.

Replace :func:`prepare` with your feature engineering; keep the output contract.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

BASE = Path("/opt/ml/processing")


def prepare(frame: pd.DataFrame, target_column: str) -> pd.DataFrame:
    """Clean the raw data: target first, numeric features only, no missing values."""
    if target_column not in frame.columns:
        raise ValueError(
            f"target column {target_column!r} is not in the data (columns: {list(frame.columns)})"
        )
    target = frame[target_column].astype(int)
    features = frame.drop(columns=[target_column]).select_dtypes(include="number")
    features = features.fillna(features.median(numeric_only=True))
    return pd.concat([target.rename(target_column), features], axis=1)


def split(
    frame: pd.DataFrame, *, validation: float, test: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    if not 0 < validation < 1 or not 0 < test < 1 or validation + test >= 1:
        raise ValueError("validation and test fractions must be in (0, 1) and leave rows for training")
    order = np.random.default_rng(seed).permutation(len(frame))
    shuffled = frame.iloc[order]
    n_test = max(1, int(len(frame) * test))
    n_validation = max(1, int(len(frame) * validation))
    test_rows = shuffled.iloc[:n_test]
    validation_rows = shuffled.iloc[n_test : n_test + n_validation]
    train_rows = shuffled.iloc[n_test + n_validation :]
    return train_rows, validation_rows, test_rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target-column", default="label")
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--base", type=Path, default=BASE)
    args = parser.parse_args(argv)

    sources = sorted((args.base / "input").glob("*.csv"))
    if not sources:
        raise SystemExit(f"no CSV files under {args.base / 'input'}")
    raw = pd.concat([pd.read_csv(source) for source in sources], ignore_index=True)
    prepared = prepare(raw, args.target_column)
    parts = split(prepared, validation=args.validation_fraction, test=args.test_fraction, seed=args.seed)
    for name, rows in zip(("train", "validation", "test"), parts):  # noqa: B905 (no strict= in 3.9)
        out = args.base / name
        out.mkdir(parents=True, exist_ok=True)
        rows.to_csv(out / f"{name}.csv", header=False, index=False)
        print(f"{name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
