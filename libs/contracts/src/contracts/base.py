"""Base model and generic envelopes shared by every contract module."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from contracts.values import Cursor

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_BATCH = 200
"""The most wallets one batched internal request may name (balances, connectors)."""


class Model(BaseModel):
    """Frozen, closed model: unknown fields are rejected everywhere (no mass assignment)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


class Page[T](Model):
    """One page of a list: newest first unless stated; ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: Cursor | None = None


class PageRequest(Model):
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: Cursor | None = None
