"""IAM identity-based policy evaluation: does a set of policies allow one action on one resource?

    evaluate(policies, AuthorizationRequest("sagemaker:CreateEndpoint", arn, {"aws:RequestTag/k": "v"}))

The logic of AWS's policy evaluation for identity-based policies alone: an explicit Deny in any
statement wins; otherwise an Allow that matches allows; otherwise the request is implicitly denied.
A statement matches when its Action (or NotAction), its Resource (or NotResource) and every condition
of its Condition block match. What this supports, as the IAM User Guide's policy element reference
describes it:

- Action/NotAction and Resource/NotResource, with `*` and `?` wildcards (actions compared without
  regard to case, ARNs with it) and policy variables (`${aws:username}`-style, resolved from the request
  context; an unresolved variable matches nothing);
- the condition operators String*, Numeric*, Date*, Bool, Arn*, IpAddress/NotIpAddress and Null, each
  with the `...IfExists` suffix and the `ForAllValues:`/`ForAnyValue:` set prefixes;
- condition key names compared without regard to case (values with it, but for *IgnoreCase).

A key missing from the context fails a positive operator and satisfies a negated one (StringNotEquals,
ArnNotLike...), IfExists makes a missing key satisfy any operator, ForAllValues is true of a missing or
empty key and ForAnyValue false, as the User Guide's condition operator reference says. Resource
policies, permission boundaries, session policies and SCPs are not evaluated (docs/local-cloud.md).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ContextValue = str | bool | int | float | Sequence[str]


class PolicyError(ValueError):
    """A policy this evaluator cannot read (an unknown condition operator, say): never guessed at."""


@dataclass(frozen=True)
class AuthorizationRequest:
    """One action on one resource, with the request context its conditions are evaluated against."""

    action: str  # "service:Action"
    resource: str  # an ARN, or "*" for actions that name no resource
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    allowed: bool
    explicit_deny: bool = False
    statement: str | None = None  # the Sid (or index) of the decisive statement, if any


def evaluate(policies: Iterable[Mapping[str, Any]], request: AuthorizationRequest) -> Evaluation:
    """AWS's decision for `request` under the identity-based `policies` (policy documents)."""
    context = {key.lower(): value for key, value in request.context.items()}
    allowing: str | None = None
    for policy_index, policy in enumerate(policies):
        statements = policy.get("Statement", [])
        if isinstance(statements, Mapping):
            statements = [statements]
        for index, statement in enumerate(statements):
            if not _statement_matches(statement, request, context):
                continue
            name = str(statement.get("Sid") or f"policy {policy_index} statement {index}")
            effect = statement.get("Effect")
            if effect == "Deny":
                return Evaluation(allowed=False, explicit_deny=True, statement=name)
            if effect == "Allow" and allowing is None:
                allowing = name
            elif effect not in ("Allow", "Deny"):
                raise PolicyError(f"statement {name} has Effect {effect!r}")
    return Evaluation(allowed=allowing is not None, statement=allowing)


def _statement_matches(statement: Mapping[str, Any], request: AuthorizationRequest, context: Context) -> bool:
    if "Action" in statement:
        if not any(action_matches(pattern, request.action) for pattern in _listed(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(action_matches(pattern, request.action) for pattern in _listed(statement["NotAction"])):
            return False
    else:
        raise PolicyError("a statement needs Action or NotAction")
    if "Resource" in statement:
        if not any(
            _resource_matches(pattern, request.resource, context)
            for pattern in _listed(statement["Resource"])
        ):
            return False
    elif "NotResource" in statement:
        if any(
            _resource_matches(pattern, request.resource, context)
            for pattern in _listed(statement["NotResource"])
        ):
            return False
    else:
        raise PolicyError("a statement needs Resource or NotResource")
    return all(
        _condition_matches(operator, key, values, context)
        for operator, conditions in (statement.get("Condition") or {}).items()
        for key, values in conditions.items()
    )


Context = Mapping[str, ContextValue]  # keys in lower case


def action_matches(pattern: str, action: str) -> bool:
    return _wildcard(pattern, ignore_case=True).fullmatch(action) is not None


def _resource_matches(pattern: str, resource: str, context: Context) -> bool:
    resolved = _with_variables(pattern, context)
    return resolved is not None and _wildcard(resolved, ignore_case=False).fullmatch(resource) is not None


_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_SPECIAL_VARIABLES = {"*": "*", "?": "?", "$": "$"}  # ${*}: a literal asterisk, and so on


def _with_variables(text: str, context: Context) -> str | None:
    """`text` with its policy variables replaced from the context; None if one has no value."""
    if "${" not in text:
        return text
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name in _SPECIAL_VARIABLES:
            return _SPECIAL_VARIABLES[name]
        found = context.get(name.lower())
        if found is None or not isinstance(found, str):
            missing = True
            return ""
        return found

    replaced = _VARIABLE.sub(value, text)
    return None if missing else replaced


@functools.lru_cache(maxsize=4096)
def _wildcard(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    """`*` is any run of characters, `?` any one character; everything else is literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


# --------------------------------------------------------------------------------------------- conditions


def condition_matches(
    operator: str, key: str, policy_values: Any, context: Mapping[str, ContextValue]
) -> bool:
    """Whether one `operator: {key: values}` pair of a Condition block holds for the context."""
    return _condition_matches(
        operator, key, policy_values, {name.lower(): value for name, value in context.items()}
    )


def _condition_matches(operator: str, key: str, policy_values: Any, context: Context) -> bool:
    set_operator, _, base = operator.rpartition(":")
    if set_operator not in ("", "ForAllValues", "ForAnyValue"):
        raise PolicyError(f"unknown set operator {set_operator!r} in {operator}")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base.removesuffix("IfExists")
    values = [_as_text(value) for value in _listed(policy_values)]
    present = context.get(key.lower())
    context_values = _context_values(present)
    if base == "Null":
        missing = not context_values
        return all((value.lower() == "true") == missing for value in values)
    compare, negated = _operator(base)
    if set_operator == "ForAllValues":
        return all(_one_value_matches(compare, negated, value, values, context) for value in context_values)
    if set_operator == "ForAnyValue":
        return any(_one_value_matches(compare, negated, value, values, context) for value in context_values)
    if not context_values:
        return if_exists or negated
    if negated:  # no value of the key matches any value of the policy
        return not any(compare(value, expected, context) for value in context_values for expected in values)
    return any(compare(value, expected, context) for value in context_values for expected in values)


def _one_value_matches(
    compare: Compare, negated: bool, value: str, expected: list[str], context: Context
) -> bool:
    matched = any(compare(value, candidate, context) for candidate in expected)
    return not matched if negated else matched


def _context_values(value: ContextValue | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, bool, int, float)):
        return [_as_text(value)]
    return [_as_text(item) for item in value]


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _listed(value: Any) -> list[Any]:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if any(item is None or isinstance(item, (dict, list)) for item in values):
        raise PolicyError(f"not a value or a list of values: {value!r}")
    return values


# The operators: a comparison of one context value with one policy value, and whether it is negated.
Compare = Any  # Callable[[str, str, Context], bool]


def _string_equals(value: str, expected: str, context: Context) -> bool:
    resolved = _with_variables(expected, context)
    return resolved is not None and value == resolved


def _string_equals_ignore_case(value: str, expected: str, context: Context) -> bool:
    resolved = _with_variables(expected, context)
    return resolved is not None and value.lower() == resolved.lower()


def _string_like(value: str, expected: str, context: Context) -> bool:
    resolved = _with_variables(expected, context)
    return resolved is not None and _wildcard(resolved, ignore_case=False).fullmatch(value) is not None


def _arn_like(value: str, expected: str, context: Context) -> bool:
    """ARNs match component by component (partition, service, region, account, resource)."""
    resolved = _with_variables(expected, context)
    if resolved is None:
        return False
    actual_parts = value.split(":", 5)
    expected_parts = resolved.split(":", 5)
    if len(actual_parts) != 6 or len(expected_parts) != 6:
        return False
    return all(
        _wildcard(pattern, ignore_case=False).fullmatch(part) is not None
        for part, pattern in zip(actual_parts, expected_parts, strict=True)
    )


def _numeric(test: Any) -> Compare:
    def compare(value: str, expected: str, context: Context) -> bool:
        try:
            return bool(test(float(value), float(expected)))
        except ValueError:
            return False

    return compare


def _date(test: Any) -> Compare:
    def compare(value: str, expected: str, context: Context) -> bool:
        try:
            return bool(test(_instant(value), _instant(expected)))
        except ValueError:
            return False

    return compare


def _instant(text: str) -> float:
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)  # epoch seconds
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _bool(value: str, expected: str, context: Context) -> bool:
    return value.lower() == expected.lower()


def _ip_address(value: str, expected: str, context: Context) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


_OPERATORS: dict[str, tuple[Compare, bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_like, False),  # AWS: ArnEquals and ArnLike behave the same
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
    "DateEquals": (_date(lambda a, b: a == b), False),
    "DateNotEquals": (_date(lambda a, b: a == b), True),
    "DateLessThan": (_date(lambda a, b: a < b), False),
    "DateLessThanEquals": (_date(lambda a, b: a <= b), False),
    "DateGreaterThan": (_date(lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_date(lambda a, b: a >= b), False),
    "Bool": (_bool, False),
    "IpAddress": (_ip_address, False),
    "NotIpAddress": (_ip_address, True),
}


def _operator(name: str) -> tuple[Compare, bool]:
    try:
        return _OPERATORS[name]
    except KeyError:
        raise PolicyError(f"unknown condition operator {name!r}") from None
