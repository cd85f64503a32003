"""The endpoint tester's settings (its environment in template.yaml), validated at its cold start."""

from pydantic import Field

from mlops_core.integration_tests.suites import MAX_LOAD_WORKERS
from mlops_core.settings import ControlPlaneSettings


class TesterSettings(ControlPlaneSettings):
    test_run_retention_days: int = Field(alias="TEST_RUN_RETENTION_DAYS", ge=1, le=3650)
    # The most workers (invocations of this function) one load phase may use: the LoadWorkersCap parameter.
    max_load_workers: int = Field(default=1, alias="MAX_LOAD_WORKERS", ge=1, le=MAX_LOAD_WORKERS)
    # The stack's AsyncInferenceBucket: an async endpoint's case inputs go under {endpoint}/inputs/.
    async_inference_bucket: str = Field(default="", alias="ASYNC_INFERENCE_BUCKET")
    # Lambda sets it: the workers of a load phase are invocations of this function.
    function_name: str | None = Field(default=None, alias="AWS_LAMBDA_FUNCTION_NAME")
    # The stack's bucket for the test data of batch stages (empty: batch stages are not tested).
    batch_test_data_bucket: str = Field(default="", alias="BATCH_TEST_DATA_BUCKET")
