"""Errors as TF Serving reports them: a canonical code and a message.

TF Serving turns its `tensorflow::error::Code` into an HTTP status with one
fixed table (`ToHTTPStatusCode` in model_servers/http_server.cc); keeping the
same table means a client written against this server behaves the same
against the real one.
"""
from __future__ import annotations

from typing import Optional

HTTP_STATUS_BY_CODE = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


class ServingError(Exception):
    """A request or load failure, carried to the client as `{"error": ...}`."""

    def __init__(self, code: str, message: str,
                 http_status: Optional[int] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        # Only for statuses TF Serving has no code for (413 on our body limit).
        self._http_status = http_status

    @property
    def http_status(self) -> int:
        return self._http_status or HTTP_STATUS_BY_CODE.get(self.code, 500)


def invalid_argument(message: str) -> ServingError:
    return ServingError("INVALID_ARGUMENT", message)


def not_found(message: str) -> ServingError:
    return ServingError("NOT_FOUND", message)


def unavailable(message: str) -> ServingError:
    return ServingError("UNAVAILABLE", message)


def body_too_large(size: int, limit: int) -> ServingError:
    return ServingError(
        "INVALID_ARGUMENT",
        f"Request body of {size} bytes exceeds the server's limit of {limit} "
        "bytes: send fewer instances per request, or start the server with "
        "a larger --max-body-mb.", http_status=413)


def body_timeout(timeout_s: float) -> ServingError:
    return ServingError(
        "DEADLINE_EXCEEDED",
        f"The request body did not arrive within {timeout_s:g} s: send it "
        "without pauses, or start the server with a larger "
        "--body-timeout-s.", http_status=408)
