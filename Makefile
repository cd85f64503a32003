# Everything runs from a fresh machine with only Python 3.11+ and make.
#   make demo   the control plane's main job, on the embedded local cloud (no AWS, no Docker)
#   make test   unit, function and end-to-end tests
#   make seed-test  the project template's own tests (seed-code/), in .venv-seed with the SageMaker SDK
#   make ci     what CI runs: lint, types, template checks, sam build, template tests, tests

PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_STAMP := $(SAM_VENV)/.installed
SEED_VENV := .venv-seed
SEED_STAMP := $(SEED_VENV)/.installed
MLFLOW_VENV := .venv-mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
# `sam build` builds the layer with the Lambda runtime's Python (3.13); find it on PATH or in pyenv.
PYTHON313_BIN := $(shell python3.13 -c 'import os, sys; print(os.path.dirname(sys.executable))' 2>/dev/null \
	|| ls -d $(HOME)/.pyenv/versions/3.13*/bin 2>/dev/null | tail -n 1)

.PHONY: demo test seed-test lint format typecheck validate build bench bench-load catalog ci clean

demo: $(STAMP)
	$(BIN)/python -m mlops_local demo

test: $(STAMP) $(MLFLOW_STAMP)
	$(BIN)/pytest

# The project template's tests run from seed-code/ (its own pytest settings) with the template env's
# bin/ first on PATH, so actionlint finds the pinned shellcheck. No bytecode and no pytest cache are
# written into seed-code/: it is copied into every new repository.
seed-test: $(SEED_STAMP)
	cd seed-code && PATH="$(CURDIR)/$(SEED_VENV)/bin:$$PATH" PYTHONDONTWRITEBYTECODE=1 \
		"$(CURDIR)/$(SEED_VENV)/bin/python" -m pytest -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml service-catalog/sagemaker-project.yaml

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

validate: $(SAM_STAMP)
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --region us-east-1

build: $(SAM_STAMP)
	@test -n "$(PYTHON313_BIN)" || { echo "sam build needs Python 3.13 (the Lambda runtime) on PATH"; exit 1; }
	PATH="$(PYTHON313_BIN):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --region us-east-1

# Figures, not tests: cold start per function and the built layer's size (after `make build`), AWS
# calls per deployment, the reaper on 1,000 endpoints. `make bench-load`: the tester's load phase vs
# Locust (Locust in .venv-bench). Results and how they were taken: benchmarks/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/cold_start.py
	$(BIN)/python benchmarks/deployer_api_calls.py
	$(BIN)/python benchmarks/reaper.py

bench-load: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python benchmarks/endpoint_load.py --locust $(BENCH_VENV)/bin/locust

catalog: $(STAMP)
	$(BIN)/python -m mlops_core.catalog > layers/mlops_core/mlops_core/EVENTS.md

ci: lint typecheck validate build seed-test test

clean:
	rm -rf $(VENV) $(SAM_VENV) $(SEED_VENV) $(MLFLOW_VENV) $(BENCH_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

$(STAMP): requirements/dev.txt requirements/constraints.txt layers/mlops_core/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt -c requirements/constraints.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# aws-sam-cli pins an older boto3, so it lives in an environment of its own.
$(SAM_STAMP): requirements/sam.txt requirements/sam-constraints.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/sam.txt -c requirements/sam-constraints.txt
	touch $@

# The SageMaker SDK (~1 GB) in an environment of its own, rebuilt from scratch only when the
# template's requirement files change; pip's cache (~/.cache/pip) makes a rebuild quick.
$(SEED_STAMP): seed-code/requirements.txt seed-code/requirements-dev.txt seed-code/requirements-constraints.txt seed-code/scripts/make-venv.sh
	rm -rf $(SEED_VENV)
	PYTHON=$(PYTHON) bash seed-code/scripts/make-venv.sh $(SEED_VENV)
	touch $@

# A real MLflow tracking server for the MLflow tests; the full server has heavy dependencies, so it
# lives in an environment of its own (about a minute to install).
$(MLFLOW_STAMP): requirements/mlflow-server.txt requirements/mlflow-server-constraints.txt
	rm -rf $(MLFLOW_VENV)
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/mlflow-server.txt -c requirements/mlflow-server-constraints.txt
	touch $@

# Locust brings gevent and its own Flask: an environment of its own, for `make bench-load` only.
$(BENCH_STAMP): requirements/bench.txt requirements/bench-constraints.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/bench.txt -c requirements/bench-constraints.txt
	touch $@
