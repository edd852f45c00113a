"""The Mongo client every store uses: ``Decimal`` <-> ``Decimal128`` and tz-aware UTC datetimes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bson.codec_options import CodecOptions, TypeDecoder, TypeEncoder, TypeRegistry
from bson.decimal128 import Decimal128
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

Document = dict[str, Any]


class DecimalEncoder(TypeEncoder):
    python_type = Decimal

    def transform_python(self, value: Any) -> Decimal128:
        return Decimal128(value)


class DecimalDecoder(TypeDecoder):
    bson_type = Decimal128

    def transform_bson(self, value: Any) -> Decimal:
        return value.to_decimal()  # type: ignore[no-any-return]


CODEC_OPTIONS: CodecOptions[Document] = CodecOptions(
    document_class=dict,
    tz_aware=True,
    type_registry=TypeRegistry([DecimalEncoder(), DecimalDecoder()]),
)


def connect(url: str, *, app_name: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, appname=app_name, document_class=dict, tz_aware=True, connect=False)


def database(client: AsyncMongoClient[Document], name: str) -> AsyncDatabase[Document]:
    return client.get_database(name, codec_options=CODEC_OPTIONS)


DUPLICATE_KEY = 11000
"""MongoDB's error code for a write that breaks a unique index (``_id`` included)."""


async def insert_new(collection: AsyncCollection[Document], docs: list[Document]) -> None:
    """Insert many documents in one unordered round trip; those whose ``_id`` (or another unique key) is
    already there stay as they are. Any other error is raised."""
    if not docs:
        return
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if exc.details.get("writeConcernErrors") or any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
