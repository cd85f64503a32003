"""What an AWS error says, read in one place: its code, whether it means "not found", "already exists",
"refused by a condition", "access denied" or "try again later", and one line for a message.

Every adapter asks these questions of a ``ClientError`` (botocore's answer to a refused call) instead
of parsing ``error.response`` itself. An adapter whose caller must tell errors apart translates them
into that component's own exception with :func:`reraised_as` (the original is its ``__cause__``), so
that no domain module imports botocore.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from botocore.exceptions import BotoCoreError, ClientError

# The service answered with an error; and, with it, the calls that failed on the way (no connection,
# a read timeout: botocore raises those as BotoCoreError).
SERVICE_ERRORS: tuple[type[Exception], ...] = (ClientError,)
CALL_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)

# Codes that mean "no such resource" whatever the message: S3's (HeadObject has no body, so its code
# is the status, "404").
NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
# Codes that a missing resource shares with other refusals: SageMaker answers ValidationException both
# for a missing endpoint and for a bad request (Application Auto Scaling answers ObjectNotFoundException
# for a missing scalable target); only the message tells which.
NOT_FOUND_IF_SAID_CODES = frozenset({"ResourceNotFound", "ValidationException", "ObjectNotFoundException"})
NOT_FOUND_PHRASES = ("could not find", "does not exist", "not found", "no scalable")
ALREADY_EXISTS_PHRASE = "already exist"  # "already exists", "already existing"
CONDITION_FAILED_CODE = "ConditionalCheckFailedException"  # DynamoDB: the condition refused the write
ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied"})
# Codes a retry can get past (throttling, a conflict of the moment, an AWS-side failure); anything else,
# unless the status is a 5xx, fails the same way again.
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionConflictException",
    }
)


def error_code(error: BaseException) -> str:
    """The error's code (``ValidationException``, ``404``, ...); empty if it is not a service's answer."""
    if not isinstance(error, ClientError):
        return ""
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: BaseException) -> str:
    if not isinstance(error, ClientError):
        return str(error)
    return str(error.response.get("Error", {}).get("Message", ""))


def http_status(error: BaseException) -> int:
    """The HTTP status of the service's answer (0 when there was none)."""
    if not isinstance(error, ClientError):
        return 0
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def describe(error: BaseException) -> str:
    """One line for a message or an event: ``Code: Message`` (a failed call: its own text)."""
    if not isinstance(error, ClientError):
        return str(error)
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Error')}: {details.get('Message', str(error))}"


def describe_call(error: BaseException) -> str:
    """``Operation failed: Code: Message``: :func:`describe`, with the call that failed."""
    if not isinstance(error, ClientError):
        return str(error)
    return f"{error.operation_name} failed: {describe(error)}"


def is_not_found(error: BaseException) -> bool:
    """The resource the call names does not exist (a delete of it has nothing left to do)."""
    code = error_code(error)
    if code in NOT_FOUND_CODES:
        return True
    message = error_message(error).lower()
    return code in NOT_FOUND_IF_SAID_CODES and any(phrase in message for phrase in NOT_FOUND_PHRASES)


def is_already_exists(error: BaseException) -> bool:
    """A create found a resource of that name (SageMaker says so in the message, under several codes)."""
    return isinstance(error, ClientError) and ALREADY_EXISTS_PHRASE in error_message(error).lower()


def is_condition_failed(error: BaseException) -> bool:
    """A conditional DynamoDB write (or delete) was refused by its condition."""
    return error_code(error) == CONDITION_FAILED_CODE


def is_access_denied(error: BaseException) -> bool:
    return error_code(error) in ACCESS_DENIED_CODES


def is_retryable(error: BaseException) -> bool:
    """Throttling, AWS-side failures and connection trouble: a later attempt may succeed."""
    if isinstance(error, BotoCoreError):
        return True
    if not isinstance(error, ClientError):
        return False
    return error_code(error) in RETRYABLE_CODES or http_status(error) >= 500


@contextmanager
def reraised_as(
    into: Callable[[Exception], Exception], *, catching: tuple[type[Exception], ...] = SERVICE_ERRORS
) -> Iterator[None]:
    """Raise ``into(error)`` from an AWS error raised in the block (``catching``: which ones): how an
    adapter answers in its port's terms."""
    try:
        yield
    except catching as error:
        raise into(error) from error


def reraised_with_retryable(error_type: Callable[..., Exception]) -> AbstractContextManager[None]:
    """A block whose AWS errors, and calls that failed on the way, are raised as
    ``error_type(describe(error), retryable=is_retryable(error))``: for a caller that retries what a
    later attempt may get past and reports the rest."""
    return reraised_as(
        lambda error: error_type(describe(error), retryable=is_retryable(error)), catching=CALL_ERRORS
    )
