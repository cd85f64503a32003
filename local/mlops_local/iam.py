"""IAM enforced in the local cloud: every AWS call a function makes is evaluated against its role.

Each function runs with credentials of its own execution role, as Lambda gives them
(`credentials_for`); its calls reach the embedded AWS signed with that access key, and
`IamEnforcement.refusal` decides each one before moto sees it: the role's policies as deployed (inline
and attached managed policies, read from the embedded IAM, cached per role), the call mapped to IAM
actions, resources and context (`iam_requests`), evaluated (`iam_policies`). Calls signed with the
operator's credentials (the tests' and the local cloud's own) are not evaluated.

    cloud.iam.denials          # every refused call: principal, action, resource, message
    cloud.iam.unmapped_calls   # calls whose actions or resources could not be determined (denied
                               # unless on ALLOWED_UNMAPPED_CALLS)
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.codecommit.models import codecommit_backends
from moto.dynamodb.models import dynamodb_backends
from moto.events.models import events_backends
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.sagemaker.models import sagemaker_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sts.models import sts_backends

from mlops_local.iam_policies import AuthorizationRequest, ContextValue, PolicyError, evaluate
from mlops_local.iam_requests import (
    ApiCall,
    Resources,
    UnmappedCallError,
    authorizations,
    parse_request,
    service_of_signing_name,
)

# Calls that are allowed although they map to no IAM action, each with the reason.
ALLOWED_UNMAPPED_CALLS: dict[tuple[str, str], str] = {
    ("sts", "GetCallerIdentity"): (
        "STS API reference: no permissions are required to perform this operation (an explicit deny "
        "cannot refuse it either)"
    ),
}
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_FUNCTION_KEY_PREFIX = "ASIA"  # temporary credentials, as Lambda's are


@dataclass(frozen=True)
class Identity:
    """Who signs a call: an assumed-role session of a role."""

    account: str
    role_name: str
    session_name: str

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/{self.role_name}"

    @property
    def principal(self) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{self.role_name}/{self.session_name}"

    def context(self) -> dict[str, ContextValue]:
        return {
            "aws:PrincipalArn": self.role_arn,
            "aws:PrincipalAccount": self.account,
            "aws:PrincipalType": "AssumedRole",
        }


@dataclass(frozen=True)
class Refusal:
    """How a refused call is answered: the service's error code for access denied, and AWS's message."""

    service: str
    code: str
    message: str


@dataclass(frozen=True)
class Denial:
    principal: str
    service: str
    operation: str
    action: str
    resource: str
    message: str


@dataclass(frozen=True)
class UnmappedCall:
    principal: str
    service: str
    operation: str
    reason: str
    allowed: bool  # on ALLOWED_UNMAPPED_CALLS


# The error code a service answers an IAM denial with (the rest answer AccessDeniedException).
_ACCESS_DENIED_CODES = {
    "s3": "AccessDenied",
    "sts": "AccessDenied",
    "cloudwatch": "AccessDenied",
    "sqs": "AccessDenied",
}


class IamEnforcement:
    """The identities of one cloud's functions, and the authorization of their calls."""

    def __init__(self, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self.denials: list[Denial] = []
        self.unmapped_calls: list[UnmappedCall] = []
        self.evaluated_calls = 0
        self._identities: dict[str, Identity] = {}
        self._policies: dict[str, list[dict[str, Any]]] = {}
        self._principals: dict[str, _PrincipalFacts] = {}
        self._template_managed_policies: dict[str, tuple[str, ...]] = {}  # role name → ARNs
        self._lock = threading.Lock()
        self._resources = MotoResources(account, region)

    # ---------------------------------------------------------------------------------- identities

    def attach_managed_policies(self, role_name: str, arns: tuple[str, ...]) -> None:
        """The managed policies a template attaches to a role (ManagedPolicyArns), which moto's
        CloudFormation does not attach: they count as attached."""
        with self._lock:
            self._template_managed_policies[role_name] = arns
            self._policies.clear()

    def credentials_for(self, role_arn: str, session_name: str) -> dict[str, str]:
        """Temporary credentials of an assumed-role session of `role_arn`, as Lambda sets them."""
        access_key = _FUNCTION_KEY_PREFIX + secrets.token_hex(8).upper()
        role_name = role_arn.split(":role/", 1)[1].rsplit("/", 1)[-1]
        with self._lock:
            self._identities[access_key] = Identity(role_arn.split(":")[4], role_name, session_name)
        return {
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
            "AWS_SESSION_TOKEN": secrets.token_urlsafe(60),
        }

    def identity(self, access_key: str) -> Identity | None:
        """The function (or a session it assumed with sts:AssumeRole) behind an access key; None for the
        operator's credentials."""
        with self._lock:
            known = self._identities.get(access_key)
        if known is not None:
            return known
        return _assumed_role_session(access_key)

    # ------------------------------------------------------------------------------ authorization

    def refusal(self, environ: Mapping[str, Any], read_body: Any) -> Refusal | None:
        """None if the request may proceed; else how it is refused. `read_body()` gives its body."""
        authorization = str(environ.get("HTTP_AUTHORIZATION") or "") or unquote(
            str(environ.get("QUERY_STRING") or "")
        )
        match = _CREDENTIAL.search(authorization)
        if match is None:
            return None  # unsigned: moto answers it as it would (no function sends one)
        access_key, region, signing_name = match.groups()
        identity = self.identity(access_key)
        if identity is None:
            return None  # the operator
        service = service_of_signing_name(signing_name)
        try:
            body = b"" if service == "s3" else read_body()  # S3's parameters are in its path and headers
            call = parse_request(environ, body, service=service, region=region, account=identity.account)
        except UnmappedCallError as error:
            operation = str(environ.get("HTTP_X_AMZ_TARGET", "")).rsplit(".", 1)[-1] or str(
                environ.get("PATH_INFO", "")
            )
            return self._unmapped(identity, service, operation, str(error))
        return self.authorize(identity, call)

    def authorize(self, identity: Identity, call: ApiCall) -> Refusal | None:
        if (call.service, call.operation) in ALLOWED_UNMAPPED_CALLS:
            return self._unmapped(identity, call.service, call.operation, "needs no permission")
        principal = self._principal(identity)
        try:
            requests = authorizations(call, self._resources, {**identity.context(), **principal.context})
        except UnmappedCallError as error:
            return self._unmapped(identity, call.service, call.operation, str(error))
        policies = self._role_policies(identity)
        with self._lock:
            self.evaluated_calls += 1
        for request in requests:
            try:
                evaluation = evaluate(policies, request)
                if evaluation.allowed and principal.boundary is not None:
                    # IAM User Guide, "Permissions boundaries for IAM entities": the effective
                    # permissions are what both the identity's policies and its boundary allow.
                    evaluation = evaluate([principal.boundary], request)
            except PolicyError as error:
                return self._unmapped(
                    identity, call.service, call.operation, f"policy not understood: {error}"
                )
            if not evaluation.allowed:
                return self._deny(identity, call.service, call.operation, request, evaluation.explicit_deny)
        return None

    def _principal(self, identity: Identity) -> _PrincipalFacts:
        """The role's tags (``aws:PrincipalTag/…``: "the tags attached to the role", IAM User Guide,
        "AWS global condition context keys") and its permissions boundary, read once per role."""
        key = identity.role_arn
        with self._lock:
            cached = self._principals.get(key)
        if cached is None:
            cached = _principal_facts(identity.account, identity.role_name)
            with self._lock:
                self._principals[key] = cached
        return cached

    def authorize_invoke_endpoint(
        self, authorization: str, endpoint_name: str, region: str, *, operation: str = "InvokeEndpoint"
    ) -> Refusal | None:
        """sagemaker:InvokeEndpoint (or ``operation``: InvokeEndpointAsync) for a request to the inference
        server (SageMaker Runtime)."""
        match = _CREDENTIAL.search(authorization)
        identity = self.identity(match.group(1)) if match else None
        if identity is None:
            return None
        call = ApiCall(
            "sagemaker-runtime", operation, {"EndpointName": endpoint_name}, region, identity.account
        )
        return self.authorize(identity, call)

    def _unmapped(self, identity: Identity, service: str, operation: str, reason: str) -> Refusal | None:
        allowed = (service, operation) in ALLOWED_UNMAPPED_CALLS
        with self._lock:
            self.unmapped_calls.append(UnmappedCall(identity.principal, service, operation, reason, allowed))
        if allowed:
            return None
        message = (
            f"User: {identity.principal} is not authorized to perform: {service}:{operation} "
            f"(the local cloud cannot map this call to IAM: {reason})"
        )
        return Refusal(service, _ACCESS_DENIED_CODES.get(service, "AccessDeniedException"), message)

    def _deny(
        self, identity: Identity, service: str, operation: str, request: AuthorizationRequest, explicit: bool
    ) -> Refusal:
        reason = (
            "with an explicit deny in an identity-based policy"
            if explicit
            else f"because no identity-based policy allows the {request.action} action"
        )
        message = (
            f"User: {identity.principal} is not authorized to perform: {request.action} "
            f"on resource: {request.resource} {reason}"
        )
        with self._lock:
            self.denials.append(
                Denial(identity.principal, service, operation, request.action, request.resource, message)
            )
        return Refusal(service, _ACCESS_DENIED_CODES.get(service, "AccessDeniedException"), message)

    def _role_policies(self, identity: Identity) -> list[dict[str, Any]]:
        key = identity.role_arn
        with self._lock:
            cached = self._policies.get(key)
        if cached is None:
            with self._lock:
                extra = self._template_managed_policies.get(identity.role_name, ())
            cached = role_policies(identity.account, identity.role_name, extra)
            with self._lock:
                self._policies[key] = cached
        return cached

    def forget_role_policies(self) -> None:
        """Read the roles' policies again at the next call (after a test changed one)."""
        with self._lock:
            self._policies.clear()
            self._principals.clear()


@dataclass(frozen=True)
class _PrincipalFacts:
    context: dict[str, ContextValue]
    boundary: dict[str, Any] | None


def _principal_facts(account: str, role_name: str) -> _PrincipalFacts:
    backend = _existing(iam_backends, account, "global")
    try:
        role = backend.get_role(role_name) if backend is not None else None
    except Exception:  # moto's NoSuchEntity: a role deleted since (its sessions then fail anyway)
        role = None
    if role is None:
        return _PrincipalFacts({}, None)
    tags = role.tags or []  # moto keeps a role's tags as a list of {"Key", "Value"} (or a map of them)
    listed = list(tags.values()) if isinstance(tags, Mapping) else list(tags)
    context: dict[str, ContextValue] = {
        f"aws:PrincipalTag/{tag['Key']}": str(tag.get("Value", "")) for tag in listed
    }
    boundary = None
    if role.permissions_boundary_arn:
        managed = backend.managed_policies.get(role.permissions_boundary_arn)
        boundary = (
            _document(next(v.document for v in managed.versions if v.is_default))
            if managed is not None
            else _aws_managed_policy(role.permissions_boundary_arn)
        )
    return _PrincipalFacts(context, boundary)


def role_policies(account: str, role_name: str, attached: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The policy documents of a role in the embedded IAM: inline, attached managed, and the managed
    policies CloudFormation was asked to attach (moto's CloudFormation leaves ManagedPolicyArns out)."""
    backend = iam_backends[account]["global"]
    role = backend.get_role(role_name)
    documents = [_document(document) for document in role.policies.values()]
    arns = set(role.managed_policies) | set(attached)
    for arn in sorted(arns):
        managed = backend.managed_policies.get(arn)
        if managed is not None:  # its default version is the one in force
            documents.append(_document(next(v.document for v in managed.versions if v.is_default)))
        else:
            documents.append(_aws_managed_policy(arn))
    return documents


def _document(document: Any) -> dict[str, Any]:
    if isinstance(document, str):
        parsed: dict[str, Any] = json.loads(unquote(document) if document.startswith("%7B") else document)
    else:
        parsed = dict(document)
    cleaned: dict[str, Any] = _without_no_values(parsed)
    return cleaned


def _without_no_values(node: Any) -> Any:
    """The document without the nulls moto's CloudFormation leaves where a list item was
    `!Ref AWS::NoValue` (CloudFormation removes that item)."""
    if isinstance(node, dict):
        return {key: _without_no_values(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_without_no_values(item) for item in node if item is not None]
    return node


@functools.cache
def _aws_managed_policies() -> dict[str, Any]:
    """moto's copy of the AWS managed policies, by name (read once, when first needed)."""
    policies: dict[str, Any] = json.loads(aws_managed_policies_data)
    return policies


def _aws_managed_policy(arn: str) -> dict[str, Any]:
    data = _aws_managed_policies().get(arn.rsplit("/", 1)[-1])
    if data is None:
        raise LookupError(f"managed policy {arn} is neither in the embedded IAM nor an AWS managed policy")
    return _document(data["Document"])


def _assumed_role_session(access_key: str) -> Identity | None:
    """A session that a function opened with sts:AssumeRole (moto's STS issued its access key; it keeps
    the session in the role's account)."""
    for account in list(dict.keys(sts_backends)):
        backend = _existing(sts_backends, account, "global")
        session = backend.get_assumed_role_from_access_key(access_key) if backend is not None else None
        if session is not None:
            role_arn = str(session.role_arn)
            role_name = role_arn.split(":role/", 1)[1].rsplit("/", 1)[-1]
            return Identity(role_arn.split(":")[4], role_name, str(session.session_name))
    return None


class MotoResources(Resources):
    """Resource facts read from moto's backends in-process (no extra HTTP calls)."""

    def __init__(self, account: str, region: str) -> None:
        self._account = account
        self._region = region

    def tags(self, arn: str) -> dict[str, str] | None:
        parts = arn.split(":", 5)
        if len(parts) != 6:
            return None
        _, _, service, region, account, resource = parts
        if service == "s3" and "/" not in resource:
            s3 = _existing(s3_backends, self.bucket_account(resource) or self._account, "global")
            return None if s3 is None else self._lookup(lambda: s3.get_bucket_tagging(resource)["Tags"])
        lookups: dict[str, tuple[Any, Any]] = {
            "sagemaker": (sagemaker_backends, lambda backend: backend._get_resource_from_arn(arn).tags),
            "secretsmanager": (secretsmanager_backends, lambda backend: backend.describe_secret(arn).tags),
            "cloudwatch": (cloudwatch_backends, lambda backend: _alarm_tags(backend, arn, resource)),
            "dynamodb": (dynamodb_backends, lambda backend: backend.list_tags_of_resource(arn)),
            "events": (events_backends, lambda backend: backend.list_tags_for_resource(arn)["Tags"]),
            # A repository's tags, as moto_gaps.codecommit keeps them (the ARN ends in its name).
            "codecommit": (codecommit_backends, lambda backend: backend.repositories[resource].tags),
        }
        if service not in lookups:
            return None
        backends, read = lookups[service]
        backend = _existing(backends, account or self._account, region or self._region)
        return None if backend is None else self._lookup(lambda: read(backend))

    @staticmethod
    def _lookup(read: Any) -> dict[str, str] | None:
        try:
            return _tag_dict(read())
        except Exception:  # moto's not-found errors differ by service: the resource does not exist
            return None

    def secret_arn(self, secret_id: str) -> str | None:
        backend = _existing(secretsmanager_backends, self._account, self._region)
        try:
            return None if backend is None else str(backend.describe_secret(secret_id).arn)
        except Exception:
            return None

    def scalable_target_arn(self, namespace: str, resource_id: str, dimension: str) -> str | None:
        backend = _existing(applicationautoscaling_backends, self._account, self._region)
        if backend is None:
            return None
        for target in backend.describe_scalable_targets(namespace, [resource_id], dimension):
            return str(target.arn)
        return None

    def next_model_package_arn(self, group: str) -> str | None:
        """The ARN the group's next version gets (its number inferred: one more than the highest)."""
        backend = _existing(sagemaker_backends, self._account, self._region)
        name = group.rsplit("/", 1)[-1]
        numbers = [
            int(getattr(package, "model_package_version", 0) or 0)
            for package in (backend.model_packages.values() if backend is not None else ())
            if getattr(package, "model_package_group_name", None) == name
        ]
        version = max([len(numbers), *numbers]) + 1
        return f"arn:aws:sagemaker:{self._region}:{self._account}:model-package/{name.lower()}/{version}"

    def partition_key(self, table_arn: str) -> str | None:
        backend = _existing(dynamodb_backends, self._account, self._region)
        try:
            table = backend.get_table(table_arn.rsplit("/", 1)[-1]) if backend is not None else None
        except Exception:
            return None
        return (str(table.hash_key_attr) or None) if table is not None else None

    def bucket_account(self, bucket: str) -> str | None:
        for account in list(dict.keys(s3_backends)):
            s3 = _existing(s3_backends, account, "global")
            if s3 is not None and bucket in s3.buckets:
                return str(account)
        return None

    def object_exists(self, bucket: str, key: str) -> bool | None:
        s3 = _existing(s3_backends, self.bucket_account(bucket) or self._account, "global")
        if s3 is None or bucket not in s3.buckets:
            return None  # S3 answers NoSuchBucket, whatever the permissions
        try:
            return s3.get_object(bucket, key) is not None
        except Exception:
            return False

    def object_tags(self, bucket: str, key: str) -> dict[str, str] | None:
        s3 = _existing(s3_backends, self.bucket_account(bucket) or self._account, "global")
        if s3 is None:
            return None
        try:
            stored = s3.get_object(bucket, key)
        except Exception:
            return None
        return None if stored is None else self._lookup(lambda: s3.get_object_tagging(stored)["Tags"])

    def role(self, name: str) -> tuple[str, str | None] | None:
        backend = _existing(iam_backends, self._account, "global")
        try:
            role = backend.get_role(name) if backend is not None else None
        except Exception:  # moto's NoSuchEntity: no such role
            return None
        if role is None:
            return None
        boundary = role.permissions_boundary_arn
        return str(role.path), (str(boundary) if boundary else None)


def _alarm_tags(backend: Any, arn: str, resource: str) -> Any:
    if resource.removeprefix("alarm:") not in backend.alarms:
        raise LookupError(arn)
    return backend.list_tags_for_resource(arn)


def _existing(backends: Any, account: str, region: str) -> Any:
    """A moto backend that already exists, else None: looking a resource up must not create (and pay
    for) the backends of a service nobody used, nor of another account."""
    regions = dict.get(backends, account)
    return None if regions is None else dict.get(regions, "aws" if region == "global" else region)


def _tag_dict(tags: Any) -> dict[str, str]:
    if isinstance(tags, Mapping):
        return {str(key): str(value) for key, value in tags.items()}
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in tags or []}
