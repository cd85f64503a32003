"""SageMaker Search over endpoints and Application Auto Scaling, as the endpoint reaper uses them.

- Search over `Endpoint` filters by tags (every filter, `In`, SubExpressions), pages with MaxResults
  and NextToken, and returns each endpoint with its tags (moto checks only the first tag filter).
- DeleteEndpoint fails while a variant is registered with Application Auto Scaling (deregister first).
"""

import functools
from collections.abc import Callable
from typing import Any

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import (
    FakeEndpoint,
    SageMakerModelBackend,
)
from moto.sagemaker.responses import SageMakerResponse

SEARCH_MAX_RESULTS = 100


def _search_value_matches(actual: Any, operator: str, expected: Any) -> bool:
    """One Search filter's comparison, for the text properties the control plane filters on."""
    if operator == "Exists":
        return actual is not None
    if operator == "NotExists":
        return actual is None
    if actual is None:
        return operator == "NotEquals"
    if operator == "Equals":
        return str(actual) == str(expected)
    if operator == "NotEquals":
        return str(actual) != str(expected)
    if operator == "In":
        return str(actual) in [value.strip() for value in str(expected).split(",")]
    if operator == "Contains":
        return str(expected) in str(actual)
    raise ValidationError(message=f"Search operator {operator} is not supported by the local cloud")


def _endpoint_search_record(endpoint: FakeEndpoint) -> dict[str, Any]:
    """An endpoint as Search returns it: DescribeEndpoint's fields plus its tags."""
    record = {key: value for key, value in endpoint.response_object.items() if value is not None}
    record["Tags"] = list(endpoint.tags or [])
    return record


def _endpoint_property(endpoint: FakeEndpoint, name: str) -> Any:
    if name.startswith("Tags."):
        key = name.removeprefix("Tags.")
        return next((tag["Value"] for tag in endpoint.tags or [] if tag["Key"] == key), None)
    return _endpoint_search_record(endpoint).get(name)


def _endpoint_matches(endpoint: FakeEndpoint, expression: dict[str, Any] | None) -> bool:
    """Filters are ANDed; SubExpressions are combined with the expression's Operator (default And)."""
    if not expression:
        return True
    results = [
        _search_value_matches(
            _endpoint_property(endpoint, item["Name"]), item.get("Operator", "Equals"), item.get("Value")
        )
        for item in expression.get("Filters") or []
    ]
    subresults = [_endpoint_matches(endpoint, sub) for sub in expression.get("SubExpressions") or []]
    if expression.get("Operator", "And") == "Or":
        return all(results) and (not subresults or any(subresults))
    return all(results) and all(subresults)


def _searching_endpoints(search: Callable[..., Any]) -> Callable[..., Any]:
    """Search over `Endpoint`: moto stops at the first tag filter (a second filter is never checked),
    returns the endpoints without their tags, knows no `In` and no SubExpressions, and ignores
    MaxResults and NextToken. AWS pages at most 100 results per call, sorted by the SortBy property."""

    @functools.wraps(search)
    def search_with_endpoints(
        backend: SageMakerModelBackend,
        *,
        resource: Any = None,
        search_expression: Any = None,
        max_results: int | None = None,
        next_token: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> Any:
        if resource != "Endpoint":
            return search(backend, resource=resource, search_expression=search_expression)
        if max_results is not None and not 1 <= int(max_results) <= SEARCH_MAX_RESULTS:
            raise ValidationError(message=f"MaxResults must be between 1 and {SEARCH_MAX_RESULTS}")
        found = [e for e in backend.endpoints.values() if _endpoint_matches(e, search_expression)]
        key = sort_by or "CreationTime"
        found.sort(key=lambda e: (str(_endpoint_property(e, key)), e.endpoint_name))
        if sort_order == "Descending":
            found.reverse()
        start = int(next_token or 0)
        end = start + int(max_results or 10)
        page: dict[str, Any] = {
            "Results": [{"Endpoint": _endpoint_search_record(e)} for e in found[start:end]]
        }
        if end < len(found):
            page["NextToken"] = str(end)
        return page

    return search_with_endpoints


def _search_response(response: SageMakerResponse) -> ActionResult:
    return ActionResult(
        response.sagemaker_backend.search(  # type: ignore[call-arg]  # the parameters _searching_endpoints adds
            resource=response._get_param("Resource"),
            search_expression=response._get_param("SearchExpression"),
            max_results=response._get_param("MaxResults"),
            next_token=response._get_param("NextToken"),
            sort_by=response._get_param("SortBy"),
            sort_order=response._get_param("SortOrder"),
        )
    )


def _refusing_autoscaled_deletion(delete: Callable[..., None]) -> Callable[..., None]:
    """DeleteEndpoint with a variant still registered as an Application Auto Scaling target fails: the
    scalable target must be deregistered first. (moto deletes, leaving the target.)"""

    @functools.wraps(delete)
    def delete_endpoint(backend: SageMakerModelBackend, endpoint_name: str) -> None:
        scaling = applicationautoscaling_backends[backend.account_id][backend.region_name]
        prefix = f"endpoint/{endpoint_name}/variant/"
        registered = [
            target.resource_id
            for target in scaling.describe_scalable_targets("sagemaker", None, None)
            if target.resource_id.startswith(prefix)
        ]
        if registered:
            raise ValidationError(
                message=f"Endpoint {endpoint_name} has registered scalable targets {registered}; "
                "deregister them before deleting the endpoint."
            )
        delete(backend, endpoint_name)

    return delete_endpoint


def patch() -> None:
    backend = SageMakerModelBackend
    backend.search = _searching_endpoints(backend.search)  # type: ignore[method-assign]
    SageMakerResponse.search = _search_response  # type: ignore[method-assign,assignment]
    backend.delete_endpoint = _refusing_autoscaled_deletion(backend.delete_endpoint)  # type: ignore[method-assign]
