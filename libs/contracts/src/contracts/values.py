"""Value types: decimal amounts (strings on the wire, never floats), ids, assets, names."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainSerializer,
    SecretStr,
    StringConstraints,
    WithJsonSchema,
)

# At most 16 integer and 18 fractional digits: every accepted amount fits Decimal128's 34 digits exactly.
_SIGNED = re.compile(r"^-?\d{1,16}(\.\d{1,18})?$")
_UNSIGNED = re.compile(r"^\d{1,16}(\.\d{1,18})?$")


def _decimal_parser(pattern: re.Pattern[str], what: str) -> Any:
    def parse(value: object) -> Decimal:
        # bool is an int subclass; JSON numbers arrive as int/float: both are refused.
        if isinstance(value, bool | int | float):
            raise ValueError(f'{what} must be a decimal string such as "0.015", not a JSON number')
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"{what} must be finite")
            text = format(value, "f")
        elif isinstance(value, str):
            text = value
        else:
            raise ValueError(f'{what} must be a decimal string such as "0.015"')
        if not pattern.fullmatch(text):
            raise ValueError(f'{what} must be a plain decimal string such as "0.015"')
        try:
            return Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already guarantees a number
            raise ValueError(f"{what} is not a decimal number") from exc

    return parse


def format_decimal(value: Decimal) -> str:
    """Plain (never scientific) decimal text, as clients receive every amount."""
    return format(value, "f")


_serialize = PlainSerializer(format_decimal, return_type=str, when_used="json")

SignedAmount = Annotated[
    Decimal,
    BeforeValidator(_decimal_parser(_SIGNED, "amount")),
    _serialize,
    WithJsonSchema({"type": "string", "pattern": _SIGNED.pattern, "examples": ["-12.5", "0.015"]}),
]
"""A decimal that may be negative (PnL, balance changes)."""

Amount = Annotated[
    Decimal,
    BeforeValidator(_decimal_parser(_UNSIGNED, "amount")),
    _serialize,
    WithJsonSchema({"type": "string", "pattern": _UNSIGNED.pattern, "examples": ["10000", "0.015"]}),
]
"""A non-negative decimal amount, price or quantity."""

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")  # a MongoDB ObjectId as we spell it (lowercase hex)
ObjectIdStr = Annotated[str, StringConstraints(pattern=OBJECT_ID.pattern)]
WalletId = ObjectIdStr
ProviderId = ObjectIdStr
UserId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s]+$")]
CommandId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
EventId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+=*$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
ProviderRef = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
"""A provider's id (24 hex) or its slug (``demo-v1``)."""
Asset = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,12}$")]
Symbol = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,12}/[A-Z0-9]{2,12}$")]
CredentialName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
WalletName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _reveal(secret: SecretStr) -> str:
    return secret.get_secret_value()


def _encodable(secret: SecretStr) -> SecretStr:
    try:
        secret.get_secret_value().encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("credential values must be valid UTF-8 text") from None
    return secret


CredentialValue = Annotated[
    SecretStr,
    StringConstraints(min_length=1, max_length=4096),
    AfterValidator(_encodable),
    # Revealed only when a command is serialised for the internal bus; repr() and python dumps stay redacted.
    PlainSerializer(_reveal, return_type=str, when_used="json"),
]
