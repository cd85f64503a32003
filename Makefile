# Everything runs from a fresh machine with only Python 3.11+ and make.
#   make demo   the control plane's main job, on the local cloud (no AWS, no Docker)
#   make test   unit, function and end-to-end tests
#   make seed-test  the seed code's own tests (seed-code/), in .venv-seed with the SageMaker SDK
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
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# `sam build` builds the layer with the Lambda runtime's Python (3.13); find it on PATH or in pyenv.
PYTHON313_BIN := $(shell python3.13 -c 'import os, sys; print(os.path.dirname(sys.executable))' 2>/dev/null \
	|| ls -d $(HOME)/.pyenv/versions/3.13*/bin 2>/dev/null | tail -n 1)

.PHONY: demo test seed-test lint format typecheck validate security build bench bench-load catalog ci clean

demo: $(STAMP)  # make demo [SCENARIO=baseline|advanced|batch|all]
	$(BIN)/python -m mlops_demo --scenario $(or $(SCENARIO),all)

# One worker per core (pytest-xdist), balanced by work stealing: a worker that runs out takes tests
# from the other's queue, so a module's shared local cloud is set up once per worker that runs the
# module. Under 5 minutes warm on two cores (benchmarks/RESULTS.md); the first run also builds .venv
# and .venv-mlflow.
test: $(STAMP) $(MLFLOW_STAMP)
	$(BIN)/pytest -n auto --dist worksteal

# The seed code's tests run from seed-code/ (its own pytest settings) with the seed code env's
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

# mypy --strict over the layer, the local cloud and the demo (pyproject.toml), then each function's
# app.py on its own: every one is module `app`, as Lambda imports it, next to the layer.
typecheck: $(STAMP)
	$(BIN)/mypy
	for app in functions/*/app.py; do $(BIN)/mypy "$$app" || exit 1; done

validate: $(SAM_STAMP)
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --region us-east-1

# parliament lints every IAM policy of template.yaml (after the SAM transform) and of the Service Catalog
# product, and fails on a finding that tests/unit/test_iam_lint.py does not accept (each accepted finding is
# justified in docs/security.md). Then checkov (offline: --skip-download, no API key) on template.yaml, on
# the template after the SAM transform (checkov does not read SAM's shorthand for the functions' roles and
# URL; `python -m tests.unit.test_template_iam` expands it) and on the Service Catalog product. A check
# skipped for every function or log group is in .checkov.yaml, one skipped for one resource next to it in
# template.yaml; each with its reason (docs/security.md).
security: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/python -m tests.unit.test_iam_lint
	mkdir -p .aws-sam/checkov
	$(BIN)/python -m tests.unit.test_template_iam > .aws-sam/checkov/template.json
	env -u BC_API_KEY -u PRISMA_API_URL $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml \
		--framework cloudformation --skip-download --compact --quiet \
		-f template.yaml -f .aws-sam/checkov/template.json -f service-catalog/sagemaker-project.yaml

# Lambda's code and layers are read-only and `sam build` writes no bytecode, so every cold start would
# compile the layer (pydantic, Powertools, mlops_core) and bundled packages again. After the build, the
# functions and the layer get 3.13 bytecode (the runtime's), hash-based (unzipping keeps no source
# mtimes) and unchecked (the sources never change in Lambda), freshly written over a fresh build.
# Parts of the layer no function imports are left as source, so the layer stays under 15 MB.
NO_BYTECODE := /pydantic/(v1/|experimental/|mypy\.py)|/aws_lambda_powertools/(event_handler|utilities/(auth_alpha|batch|circuit_breaker|data_classes|data_masking|feature_flags|kafka|parser|streaming|validation))/
build: $(SAM_STAMP)
	@test -n "$(PYTHON313_BIN)" || { echo "sam build needs Python 3.13 (the Lambda runtime) on PATH"; exit 1; }
	PATH="$(PYTHON313_BIN):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --region us-east-1
	"$(PYTHON313_BIN)/python3.13" -m compileall -q -f --invalidation-mode unchecked-hash -x '$(NO_BYTECODE)' \
		.aws-sam/build/CoreLayer .aws-sam/build/*Function

# Figures, not tests (docs/development.md, "Benchmarks"): benchmarks/run.py runs every benchmark several
# times and writes benchmarks/RESULTS.md (medians, spread, targets, commands, machine): cold start per
# function vs boto3 and the SageMaker SDK (.venv-seed), the built layer's size, AWS calls per deployment,
# per promotion and per reaper run on 5,000 endpoints, the watcher poll's DynamoDB calls by table size,
# the load phase vs Locust (.venv-bench), the demo's
# wall time, and make test's wall time. About 10 minutes, plus one make test. The layer is measured as `make build` leaves it, rebuilt first when its sources changed.
# `make bench-load`: only the load phase vs Locust, printed.
BUILT_LAYER := .aws-sam/build/CoreLayer
bench: $(STAMP) $(BENCH_STAMP) $(SEED_STAMP) $(BUILT_LAYER)
	$(BIN)/python benchmarks/run.py

bench-load: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python benchmarks/endpoint_load.py --locust $(BENCH_VENV)/bin/locust

$(BUILT_LAYER): template.yaml Makefile layers/mlops_core/requirements.txt \
		$(shell find layers/mlops_core/mlops_core functions -name '*.py' -not -path '*/__pycache__/*')
	$(MAKE) build
	touch $@

catalog: $(STAMP)
	$(BIN)/python -m mlops_core.catalog > layers/mlops_core/mlops_core/EVENTS.md

ci: lint typecheck validate security build seed-test test

clean:
	rm -rf $(VENV) $(SAM_VENV) $(SEED_VENV) $(MLFLOW_VENV) $(BENCH_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

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

# checkov pins its own dependencies (boto3 among them), so it lives in an environment of its own.
$(CHECKOV_STAMP): requirements/checkov.txt requirements/checkov-constraints.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/checkov.txt -c requirements/checkov-constraints.txt
	touch $@
