"""Opaque list cursors (``next_cursor``): url-safe base64 of the last item's sort key."""

from __future__ import annotations

import base64
import binascii
import re

from contracts.errors import ErrorCode, ServiceError

SEQ_CURSOR = re.compile(r"^[0-9]{1,18}$")


def _refused() -> ServiceError:
    return ServiceError(ErrorCode.VALIDATION_ERROR, "cursor is not one this API returned")


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _refused() from None


def decode_seq_cursor(cursor: str) -> int:
    """A cursor over a per-wallet sequence number."""
    raw = decode_cursor(cursor)
    if not SEQ_CURSOR.fullmatch(raw):
        raise _refused()
    return int(raw)
