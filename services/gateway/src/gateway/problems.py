"""RFC 9457 problem details: every error the gateway answers, with a stable ``code``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.errors import HTTP_STATUS, TITLES, ErrorCode, ErrorInfo, FieldError, ServiceError
from gateway.ratelimit import RateLimited

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """application/problem+json (RFC 9457) plus ``code`` and, for validation, ``errors``."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "urn:moniqo:problem:wallet_not_found",
                "title": "Wallet not found",
                "status": 404,
                "detail": "wallet 6650c0ffee00000000000001 not found",
                "code": "wallet_not_found",
            }
        }
    )

    type: str
    title: str
    status: int
    detail: str
    code: ErrorCode
    errors: list[FieldError] | None = None


def problem_response(
    code: ErrorCode,
    detail: str,
    *,
    status: int | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    status = status or HTTP_STATUS.get(code, 500)
    body = Problem(
        type=f"urn:moniqo:problem:{code.value}",
        title=TITLES[code],
        status=status,
        detail=detail,
        code=code,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def refusal_response(exc: ServiceError) -> JSONResponse:
    """A refusal as problem+json, with the headers its code calls for (a challenge, a retry time)."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.code is ErrorCode.UNAUTHORIZED else None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": exc.retry_after_header}
    return problem_response(exc.code, exc.detail, errors=exc.errors, headers=headers)


def from_error_info(info: ErrorInfo) -> JSONResponse:
    return problem_response(info.code, info.detail, errors=info.errors)


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    # Only location, message and type: never the input (it may be a credential).
    return [
        FieldError(
            loc=[p for p in e.get("loc", ()) if isinstance(p, str | int)],
            msg=str(e.get("msg")),
            type=str(e.get("type")),
        )
        for e in exc.errors()
    ]


_STATUS_CODES = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.UNAUTHORIZED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.VALIDATION_ERROR,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.SERVICE_UNAVAILABLE,
    504: ErrorCode.SERVICE_TIMEOUT,
}


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return refusal_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            ErrorCode.VALIDATION_ERROR, "the request is not valid", errors=_validation_errors(exc)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot even decode (not UTF-8): the same 422 as a body that
            # decodes but is not JSON, so clients see one documented status for "this is not JSON".
            errors = [FieldError(loc=["body"], msg="the body is not valid JSON", type="json_invalid")]
            return problem_response(ErrorCode.VALIDATION_ERROR, "the request is not valid", errors=errors)
        code = _STATUS_CODES.get(exc.status_code, ErrorCode.INTERNAL_ERROR)
        detail = exc.detail if isinstance(exc.detail, str) else TITLES[code]
        headers: dict[str, Any] | None = getattr(exc, "headers", None)
        return problem_response(code, detail, status=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return problem_response(ErrorCode.INTERNAL_ERROR, "the gateway failed to handle the request")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the problem+json answers of a route."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
