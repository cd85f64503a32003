#!/usr/bin/env bash
# Sync integration-tests/suite.yaml to the control plane's config table as the suite of the dev
# endpoint ({project}-dev), with the control plane's own command line, which validates it first:
# a suite that does not match the tester's schema fails here, in CI, not on the endpoint.
#
# Needs: MLOPS_PROJECT, MLOPS_CONFIG_TABLE, MLOPS_CLI_PIP_SPEC (how to install the control plane's
# command line, e.g. git+https://github.com/your-org/mlops-control-plane@v1.2.0), AWS credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MLOPS_PROJECT:?set MLOPS_PROJECT}" "${MLOPS_CONFIG_TABLE:?set MLOPS_CONFIG_TABLE}"
: "${MLOPS_CLI_PIP_SPEC:?set MLOPS_CLI_PIP_SPEC (how to install the control plane command line)}"

# The control plane's package declares no dependencies of its own (its layer pins them): add what
# the suite tool imports.
python -m pip install --quiet "$MLOPS_CLI_PIP_SPEC" "pydantic>=2,<3" "boto3>=1.40,<2" "PyYAML>=6,<7"
python -m mlops_core.suite_tool check integration-tests/suite.yaml
python -m mlops_core.suite_tool put "${MLOPS_PROJECT}-dev" integration-tests/suite.yaml --table "$MLOPS_CONFIG_TABLE"
