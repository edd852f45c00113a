"""The envelope every request/reply handler answers with: a result, or an error with a stable code."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from contracts.errors import ErrorInfo


class Reply[T](BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    data: T | None = None
    error: ErrorInfo | None = None


class Empty(BaseModel):
    """The result of a command that returns nothing (e.g. a delete)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
