#!/usr/bin/env bash
# Create a virtual environment with the pipeline's pinned dependencies and the test tools:
#   bash scripts/make-venv.sh [.venv]        then   .venv/bin/python -m pytest
# The SageMaker SDK with its dependencies is about 1 GB; pip's cache makes a second install quick.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-.venv}"
python="${PYTHON:-python3}"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  -r "$here/requirements.txt" -r "$here/requirements-dev.txt" -c "$here/requirements-constraints.txt"
echo "ready: $venv (python -m pytest in $here)"
