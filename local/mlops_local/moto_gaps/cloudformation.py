"""CloudFormation's gaps in moto, filled: the resources the template declares that moto skips or gets wrong.

- `Ref` of an `AWS::Events::EventBus` gives the bus name (moto: the Python object, which then breaks
  every API that returns it, e.g. a function's environment), `Ref` of a layer version its ARN.
- `AWS::Lambda::EventInvokeConfig` sets the function's asynchronous invocation config (moto skips it).
- `AWS::SecretsManager::Secret` creates the secret (moto skips it); `Ref` gives its ARN, as in AWS.
- `AWS::Lambda::Url` creates the function's URL config (moto skips it); `GetAtt FunctionUrl` gives the
  URL AWS would (the local cloud serves it on loopback, see `function_urls`).
- `AWS::IAM::OIDCProvider` creates the identity provider (moto has the API, not the resource); `Ref`
  gives its ARN, as in AWS.
- A resource that fails to create fails the stack with the reason on the resource's CREATE_FAILED event
  (moto raises out of CreateStack and leaves the stack CREATE_IN_PROGRESS).
- A JSON template body is read as JSON (moto reads every body with PyYAML's pure-Python loader first:
  the same dict for our JSON, about 10 times slower, on every stack the local cloud deploys).
"""

import functools
import json
from collections.abc import Callable
from typing import Any

from moto.awslambda.models import LayerVersion, lambda_backends
from moto.cloudformation import parsing
from moto.cloudformation.models import Event as StackEvent
from moto.cloudformation.models import Stack
from moto.core.common_models import CloudFormationModel
from moto.events.models import EventBus
from moto.iam.models import iam_backends
from moto.secretsmanager.models import secretsmanager_backends

from mlops_local.moto_gaps.template_resources import TemplateResource


class _LambdaEventInvokeConfig(TemplateResource, CloudFormationModel):
    """AWS::Lambda::EventInvokeConfig: AWS applies it with PutFunctionEventInvokeConfig.

    That is where Lambda keeps the retries and the on-failure destination of asynchronous invocations
    (EventBridge invokes functions asynchronously), and where the local cloud reads them back.
    """

    TYPE = "AWS::Lambda::EventInvokeConfig"

    @classmethod
    def create(
        cls, properties: Any, resource_name: str, account_id: str, region_name: str
    ) -> "_LambdaEventInvokeConfig":
        config = {
            key: properties[key]
            for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
            if key in properties
        }
        lambda_backends[account_id][region_name].put_function_event_invoke_config(
            properties["FunctionName"], config
        )
        return cls(f"{properties['FunctionName']}:{properties['Qualifier']}")


class _SecretsManagerSecret(TemplateResource, CloudFormationModel):
    """AWS::SecretsManager::Secret with a `SecretString` (what the control plane's template uses).

    AWS names a secret without a `Name` after the stack and the logical ID, and `Ref` gives its ARN.
    """

    TYPE = "AWS::SecretsManager::Secret"
    NAME_PROPERTY = "Name"

    @classmethod
    def create(
        cls, properties: Any, resource_name: str, account_id: str, region_name: str
    ) -> "_SecretsManagerSecret":
        backend = secretsmanager_backends[account_id][region_name]
        backend.create_secret(
            name=resource_name,
            secret_string=properties.get("SecretString"),
            secret_binary=None,
            description=properties.get("Description"),
            tags=properties.get("Tags"),
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        return cls(backend.secrets[resource_name].arn)


class _ResourceFailedError(Exception):
    def __init__(self, logical_id: str, resource_type: str, cause: Exception) -> None:
        # moto's errors carry their text in `message`; their str() repeats the class name
        self.reason = f"{type(cause).__name__}: {getattr(cause, 'message', None) or cause}"
        super().__init__(f"{logical_id} ({resource_type}): {self.reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type


def _naming_the_failed_resource(create: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(create)
    def parse_and_create_resource(
        logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return create(logical_id, resource_json, *args, **kwargs)
        except _ResourceFailedError:
            raise  # a resource this one refers to failed first: that one is the cause
        except Exception as cause:
            raise _ResourceFailedError(logical_id, resource_json.get("Type", "?"), cause) from cause

    return parse_and_create_resource


def _failing_the_stack(create_resources: Callable[[Stack], None]) -> Callable[[Stack], None]:
    @functools.wraps(create_resources)
    def failing_create_resources(stack: Stack) -> None:
        try:
            create_resources(stack)
        except _ResourceFailedError as failure:
            stack.events.append(
                StackEvent(
                    stack_id=stack.stack_id,
                    stack_name=stack.name,
                    logical_resource_id=failure.logical_id,
                    physical_resource_id="",
                    resource_type=failure.resource_type,
                    resource_status="CREATE_FAILED",
                    resource_status_reason=failure.reason,
                    resource_properties=None,
                )
            )
            stack.status = "ROLLBACK_COMPLETE"
            stack._add_stack_event(
                "ROLLBACK_COMPLETE",
                resource_status_reason=f"The following resource(s) failed to create: [{failure.logical_id}].",
            )

    return failing_create_resources


class _LambdaUrl(TemplateResource, CloudFormationModel):
    """AWS::Lambda::Url: AWS applies it with CreateFunctionUrlConfig (moto has the API, not the resource)."""

    TYPE = "AWS::Lambda::Url"

    def __init__(self, url: str, function_arn: str) -> None:
        self.url = url
        self.function_arn = function_arn

    @property
    def physical_resource_id(self) -> str:
        return self.function_arn

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("FunctionUrl", "FunctionArn")

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.url if attribute_name == "FunctionUrl" else self.function_arn

    @classmethod
    def create(cls, properties: Any, resource_name: str, account_id: str, region_name: str) -> "_LambdaUrl":
        config = {key: properties[key] for key in ("AuthType", "Cors", "InvokeMode") if key in properties}
        url_config = lambda_backends[account_id][region_name].create_function_url_config(
            properties["TargetFunctionArn"], config
        )
        return cls(url_config.url + "/", url_config.function.function_arn)


def _json_read_as_json(parse: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    @functools.wraps(parse)
    def parse_template(template: str) -> dict[str, Any]:
        if template.lstrip().startswith("{"):
            parsed: dict[str, Any] = json.loads(template)
            return parsed
        return parse(template)

    return parse_template


class _IamOidcProvider(TemplateResource, CloudFormationModel):
    """AWS::IAM::OIDCProvider: AWS applies it with CreateOpenIDConnectProvider; `Ref` gives its ARN."""

    TYPE = "AWS::IAM::OIDCProvider"

    @classmethod
    def create(
        cls, properties: Any, resource_name: str, account_id: str, region_name: str
    ) -> "_IamOidcProvider":
        provider = iam_backends[account_id]["global"].create_open_id_connect_provider(
            properties["Url"],
            list(properties.get("ThumbprintList", [])),
            list(properties.get("ClientIdList", [])),
            list(properties.get("Tags", [])),
        )
        return cls(str(provider.arn))


def patch() -> None:
    Stack.parse_template = staticmethod(_json_read_as_json(Stack.parse_template))  # type: ignore[method-assign,assignment]
    EventBus.physical_resource_id = property(lambda bus: bus.name)  # type: ignore[attr-defined]
    LayerVersion.physical_resource_id = property(lambda layer: layer.arn)  # type: ignore[attr-defined]
    # moto finds resource types among CloudFormationModel's subclasses, and caches what it found.
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    parsing.parse_and_create_resource = _naming_the_failed_resource(parsing.parse_and_create_resource)
    Stack.create_resources = _failing_the_stack(Stack.create_resources)  # type: ignore[method-assign,assignment]
