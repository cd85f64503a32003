"""The demo model: a logistic regression small enough to read, in the artifact format of docs/demo-model.md.

A ``model.tar.gz`` holds one ``model.json``: feature names, weights, bias and the decision threshold
(plus ``latency_ms``, a delay the local inference server adds to each request, to show a latency budget
being broken). :class:`DemoModel` is the predictor that reads it: pure Python, no dependencies.

Three versions, for the demo and the tests: :data:`GOOD_MODEL` passes :data:`DEMO_SUITE`;
:data:`BROKEN_MODEL` has the sign of every weight flipped, so it says a customer about to leave stays
(the case ``churner-leaves`` fails, visibly); :data:`SLOW_MODEL` is right but takes 250 ms an answer,
over the suite's 150 ms budget for ``loyal-customer-stays``.
"""

import contextlib
import io
import json
import math
import tarfile
from dataclasses import dataclass
from typing import Any

import boto3

ARTIFACT_FORMAT = "mlops-demo-linear/1"
ARTIFACT_MEMBER = "model.json"
DEMO_BUCKET = "mlops-demo-models"
FEATURES = ["tenure_months", "monthly_charges", "support_calls"]

GOOD_MODEL: dict[str, Any] = {
    "format": ARTIFACT_FORMAT,
    "features": FEATURES,
    "weights": [-0.12, 0.04, 0.9],
    "bias": -1.5,
    "threshold": 0.5,
    "latency_ms": 0,
}
BROKEN_MODEL: dict[str, Any] = {**GOOD_MODEL, "weights": [0.12, -0.04, -0.9], "bias": 1.5}
SLOW_MODEL: dict[str, Any] = {**GOOD_MODEL, "latency_ms": 250}

# The suite a project keeps next to its model code (CI writes it with `python -m mlops_core.suite_tool`).
DEMO_SUITE: dict[str, Any] = {
    "description": "churn model: two customers we know, a malformed request, and a short load phase",
    "cases": [
        {
            "name": "churner-leaves",
            "request": {"json": {"instances": [[2, 95.0, 4]]}},
            "expect": {
                "content_type": "application/json",
                "json": [
                    {"path": "$.predictions[0].score", "at_least": 0.5},
                    {"path": "$.predictions[0].label", "equals": 1},
                ],
            },
            "latency_budget_ms": 150,
        },
        {
            "name": "loyal-customer-stays",
            "request": {"csv": "60,20.0,0\n", "accept": "text/csv"},
            "expect": {
                "csv": [{"row": 0, "column": 0, "at_most": 0.5}, {"row": 0, "column": 1, "equals": "0"}]
            },
            "latency_budget_ms": 150,
        },
        {
            "name": "malformed-row-is-refused",
            "request": {"csv": "1,2\n"},
            "expect": {"error_code": "ModelError"},
        },
    ],
    "load": {
        "request": {"json": {"instances": [[12, 50.0, 1]]}},
        "requests": 200,
        "concurrency": 4,
        "p95_budget_ms": 500,
        "p99_budget_ms": 1000,
        "max_error_rate": 0.0,
    },
}


class ModelInputError(ValueError):
    """The request does not fit the model; SageMaker reports it as ModelError (the container said 400)."""


@dataclass(frozen=True)
class DemoModel:
    features: list[str]
    weights: list[float]
    bias: float
    threshold: float
    latency_ms: float

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> "DemoModel":
        if parameters.get("format") != ARTIFACT_FORMAT:
            found = parameters.get("format")
            raise ValueError(f"model.json format is {found!r}, expected {ARTIFACT_FORMAT!r}")
        features, weights = list(parameters["features"]), [float(w) for w in parameters["weights"]]
        if len(features) != len(weights):
            raise ValueError(f"{len(features)} features but {len(weights)} weights")
        return cls(
            features,
            weights,
            float(parameters.get("bias", 0.0)),
            float(parameters.get("threshold", 0.5)),
            float(parameters.get("latency_ms", 0)),
        )

    @classmethod
    def from_artifact(cls, artifact: bytes) -> "DemoModel":
        with tarfile.open(fileobj=io.BytesIO(artifact), mode="r:gz") as archive:
            member = archive.extractfile(ARTIFACT_MEMBER)
            if member is None:
                raise ValueError(f"the artifact has no {ARTIFACT_MEMBER}")
            return cls.from_parameters(json.loads(member.read()))

    def score(self, row: list[float]) -> float:
        if len(row) != len(self.features):
            raise ModelInputError(
                f"a row has {len(row)} values; the model takes {len(self.features)}: "
                + ", ".join(self.features)
            )
        z = self.bias + sum(w * x for w, x in zip(self.weights, row, strict=True))
        return 1 / (1 + math.exp(-z))

    def invoke(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        """Predict for a request body; (response body, response content type)."""
        rows = self._rows(body, content_type)
        scores = [self.score(row) for row in rows]
        labels = [int(score >= self.threshold) for score in scores]
        wants_csv = (accept or content_type).startswith("text/csv")
        if wants_csv:
            text = "".join(f"{score:.6f},{label}\n" for score, label in zip(scores, labels, strict=True))
            return text.encode(), "text/csv"
        predictions = [
            {"score": round(score, 6), "label": label} for score, label in zip(scores, labels, strict=True)
        ]
        return json.dumps({"predictions": predictions}).encode(), "application/json"

    def _rows(self, body: bytes, content_type: str) -> list[list[float]]:
        try:
            if content_type.startswith("text/csv"):
                return [
                    [float(value) for value in line.split(",")]
                    for line in body.decode().splitlines()
                    if line.strip()
                ]
            if content_type.startswith("application/json"):
                instances = json.loads(body)["instances"]
                return [
                    [float(instance[name]) for name in self.features]
                    if isinstance(instance, dict)
                    else [float(value) for value in instance]
                    for instance in instances
                ]
        except (ValueError, KeyError, TypeError) as error:
            raise ModelInputError(f"cannot read the {content_type} body: {error}") from error
        raise ModelInputError(f"content type {content_type} is not supported (text/csv, application/json)")


def model_artifact(parameters: dict[str, Any]) -> bytes:
    """A model.tar.gz holding ``parameters`` as model.json."""
    data = json.dumps(parameters, indent=2).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo(ARTIFACT_MEMBER)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def upload_model(session: boto3.Session, parameters: dict[str, Any], key: str) -> str:
    """Put the artifact in the demo bucket (created on first use); its s3:// URL."""
    s3 = session.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(Bucket=DEMO_BUCKET)
    s3.put_object(Bucket=DEMO_BUCKET, Key=key, Body=model_artifact(parameters))
    return f"s3://{DEMO_BUCKET}/{key}"


def register_demo_version(
    session: boto3.Session,
    group: str,
    parameters: dict[str, Any],
    *,
    commit_id: str = "c0ffee",
    repository: str | None = None,
    dataset: str | None = None,
    drift_check_baselines: dict[str, Any] | None = None,
    customer_metadata: dict[str, str] | None = None,
) -> str:
    """Register a version of the demo model in ``group`` (pending approval), as a pipeline would; its ARN.

    With ``dataset`` the version carries the lineage a production stage requires, as the project
    template's pipeline records it: the dataset (``CustomerMetadataProperties['mlops:dataset']``) and
    the evaluation report (``ModelMetrics``, a JSON file uploaded next to the model).
    ``drift_check_baselines``: the version's ``DriftCheckBaselines`` (a pipeline's quality-check step
    registers them), e.g. the data-quality baselines a Model Monitor schedule checks against.
    ``customer_metadata``: more ``CustomerMetadataProperties`` (the local CI's branch and label).
    """
    sagemaker = session.client("sagemaker")
    with contextlib.suppress(sagemaker.exceptions.ClientError):
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    count = len(sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"])
    prefix = f"{group}/{count + 1}-{commit_id}"
    url = upload_model(session, parameters, f"{prefix}/model.tar.gz")
    lineage: dict[str, Any] = {}
    if dataset is not None:
        report = json.dumps({"binary_classification_metrics": {"auc": {"value": 0.91}}}).encode()
        session.client("s3").put_object(Bucket=DEMO_BUCKET, Key=f"{prefix}/evaluation.json", Body=report)
        lineage = {
            "CustomerMetadataProperties": {"mlops:dataset": dataset},
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": f"s3://{DEMO_BUCKET}/{prefix}/evaluation.json",
                    }
                }
            },
        }
    if customer_metadata:
        lineage.setdefault("CustomerMetadataProperties", {}).update(customer_metadata)
    metadata = {"CommitId": commit_id, **({"Repository": repository} if repository else {})}
    return str(
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-demo-linear:1",
                        "ModelDataUrl": url,
                    }
                ],
                "SupportedContentTypes": ["text/csv", "application/json"],
                "SupportedResponseMIMETypes": ["text/csv", "application/json"],
            },
            MetadataProperties=metadata,
            **lineage,
            **({"DriftCheckBaselines": drift_check_baselines} if drift_check_baselines else {}),
        )["ModelPackageArn"]
    )
