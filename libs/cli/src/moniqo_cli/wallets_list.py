"""``moniqo wallets list``: the operator's view of users' wallets, read from the registry's database.

Shows which credentials are set (their names), never their values or ciphertext.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from servicekit.mongo import Document, connect, database
from wallet_registry.store import LIVE


async def fetch_wallets(
    mongodb_url: str, database_name: str, *, user: str | None, include_deleted: bool, limit: int
) -> list[Document]:
    query: dict[str, Any] = {} if include_deleted else dict(LIVE)
    if user is not None:
        query["user_id"] = user
    client = connect(mongodb_url, app_name="moniqo-wallets-list")
    try:
        wallets = database(client, database_name)["user_wallets"]
        docs = await wallets.find(query).sort("_id", -1).limit(limit).to_list()
    finally:
        await client.close()
    for doc in docs:  # keep the names of the credentials, drop their ciphertext right away
        doc["credentials_set"] = sorted((doc.pop("credentials", None) or {}).keys())
    return docs


def render(docs: list[Document], console: Console) -> None:
    table = Table(title=f"Wallets ({len(docs)})")
    for column in ("id", "user", "provider", "name", "active", "credentials", "balance", "trades", "synced"):
        table.add_column(column)
    for d in docs:
        balance = ", ".join(f"{a} {v}" for a, v in sorted((d.get("balance") or {}).items()))
        synced = d.get("last_synced_at")
        name = d["custom_name"] + (" (deleted)" if d.get("deleted_at") else "")
        table.add_row(
            str(d["_id"]), d["user_id"], d["provider_slug"], name, "yes" if d["is_active"] else "no",
            ", ".join(d["credentials_set"]) or "-", balance or "-", str(d.get("total_trades", 0)),
            synced.isoformat(timespec="seconds") if synced else "never",
        )  # fmt: skip
    console.print(table)


def as_rows(docs: list[Document]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(d["_id"]),
            "user_id": d["user_id"],
            "provider_slug": d["provider_slug"],
            "custom_name": d["custom_name"],
            "is_active": d["is_active"],
            "deleted": d.get("deleted_at") is not None,
            "credentials_set": d["credentials_set"],
            "balance": {a: str(v) for a, v in (d.get("balance") or {}).items()},
            "total_trades": d.get("total_trades", 0),
        }
        for d in docs
    ]
