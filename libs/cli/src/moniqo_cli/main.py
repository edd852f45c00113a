"""The ``moniqo`` command (typer)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from contracts.bus_permissions import render_authorization
from moniqo_cli import audit as audit_view
from moniqo_cli import wallets_list
from moniqo_cli.devrun import SecureBusError, dev_secrets, run_platform
from moniqo_cli.docs_cmd import docs
from moniqo_cli.sync_stats import fetch_stats, render
from moniqo_cli.tokens import mint_token
from servicekit.mongo import connect, database
from wallet_registry.crypto import CredentialCipher, KeyConfigError, generate_key
from wallet_registry.rotation import RotationReport, rotate_all

app = typer.Typer(
    help="Moniqo: run the platform, mint dev tokens, manage encryption keys.", no_args_is_help=True
)
keys = typer.Typer(help="Credential encryption keys (ENCRYPTION_KEYS).", no_args_is_help=True)
app.add_typer(keys, name="keys")
sync = typer.Typer(help="Balance syncs (operator view).", no_args_is_help=True)
app.add_typer(sync, name="sync")
wallets = typer.Typer(help="Users' wallets (operator view).", no_args_is_help=True)
app.add_typer(wallets, name="wallets")
app.add_typer(docs, name="docs")

MongoUrl = Annotated[str, typer.Option(envvar="MONGODB_URL", help="the platform's MongoDB")]
Prefix = Annotated[str, typer.Option(envvar="MONGODB_DB_PREFIX", help="database prefix")]
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]
DataDir = Annotated[
    Path, typer.Option(envvar="MONIQO_DATA_DIR", help="where local data and dev secrets live")
]


@keys.command("generate")
def keys_generate() -> None:
    """Print a new Fernet key (put it first in ENCRYPTION_KEYS to make it the newest)."""
    typer.echo(generate_key())


@keys.command("rotate")
def keys_rotate(
    mongodb_url: Annotated[str, typer.Option(envvar="MONGODB_URL", help="the registry's MongoDB")],
    encryption_keys: Annotated[
        str,
        typer.Option(envvar="ENCRYPTION_KEYS", help="newest first; old keys still listed to read old tokens"),
    ],
    prefix: Annotated[str, typer.Option(envvar="MONGODB_DB_PREFIX", help="database prefix")] = "moniqo",
    database_name: Annotated[
        str | None, typer.Option("--database", help="override <prefix>_registry")
    ] = None,
) -> None:
    """Re-encrypt every stored credential under the newest key; then older keys can be removed."""
    try:
        cipher = CredentialCipher.from_env_value(encryption_keys)
    except KeyConfigError as exc:
        typer.echo(f"moniqo: {exc}", err=True)
        raise typer.Exit(2) from None
    report = asyncio.run(_rotate(mongodb_url, database_name or f"{prefix}_registry", cipher))
    typer.echo(
        f"rotated {report.rotated}, already current {report.already_current}, "
        f"without credentials {report.without_credentials}, changed meanwhile {report.changed_meanwhile}, "
        f"unreadable {len(report.unreadable)} (of {report.total} wallets)"
    )
    if report.unreadable:
        typer.echo(
            "unreadable (their key is no longer in ENCRYPTION_KEYS): " + ", ".join(report.unreadable),
            err=True,
        )
        raise typer.Exit(1)


async def _rotate(url: str, name: str, cipher: CredentialCipher) -> RotationReport:
    client = connect(url, app_name="moniqo-keys-rotate")
    try:
        wallets = database(client, name)["user_wallets"]
        total = await wallets.count_documents({})
        with Progress(console=Console(stderr=True)) as bar:
            task = bar.add_task("re-encrypting credentials", total=total)
            return await rotate_all(wallets, cipher, progress=lambda: bar.advance(task))
    finally:
        await client.close()


@app.command()
def token(
    user: Annotated[str, typer.Option("--user", "-u", help="the user id (JWT sub)")],
    ttl: Annotated[int, typer.Option(help="lifetime in seconds", min=1)] = 24 * 3600,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Mint a dev JWT (HS256 with JWT_SECRET, or the dev secret `moniqo run` keeps under .data/)."""
    secret = os.environ.get("JWT_SECRET") or dev_secrets(data_dir)["JWT_SECRET"]
    typer.echo(mint_token(user, secret, ttl))


@sync.command("stats")
def sync_stats(
    nats_url: Annotated[
        str, typer.Option(envvar="NATS_URL", help="the platform's NATS (make run prints it)")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
) -> None:
    """Syncs per status in the last hour and day, the last sweep, consumer lag, dead letters."""
    try:
        stats = asyncio.run(fetch_stats(nats_url))
    except Exception as exc:
        typer.echo(f"moniqo: cannot get sync stats from {nats_url}: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(stats.model_dump_json(indent=2))
    else:
        render(stats, Console())


@app.command()
def audit(mongodb_url: MongoUrl, prefix: Prefix = "moniqo", as_json: JsonFlag = False) -> None:
    """Money conservation: every demo account's balances against its funding and trade history.

    Exit code 1 when any account does not reconcile (its problems are listed).
    """
    report = asyncio.run(audit_view.run_audit(mongodb_url, f"{prefix}_exchange", show_progress=not as_json))
    if as_json:
        typer.echo(audit_view.as_json(report))
    else:
        audit_view.render(report, Console())
    if report.failed:
        raise typer.Exit(1)


@wallets.command("list")
def wallets_list_command(
    mongodb_url: MongoUrl,
    prefix: Prefix = "moniqo",
    user: Annotated[str | None, typer.Option(help="only this user's wallets")] = None,
    include_deleted: Annotated[bool, typer.Option(help="also soft-deleted wallets")] = False,
    limit: Annotated[int, typer.Option(min=1, help="at most this many, newest first")] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Users' wallets, newest first: provider, name, credential names (never values), cached balance."""
    docs = asyncio.run(
        wallets_list.fetch_wallets(
            mongodb_url, f"{prefix}_registry", user=user, include_deleted=include_deleted, limit=limit
        )
    )
    if as_json:
        typer.echo(json.dumps(wallets_list.as_rows(docs), indent=2))
    else:
        wallets_list.render(docs, Console())


@app.command()
def run(
    port: Annotated[int, typer.Option(envvar="GATEWAY_PORT", help="gateway HTTP port")] = 8000,
    user: Annotated[str, typer.Option(help="user id of the printed dev token")] = "dev-user",
    data_dir: DataDir = Path(".data"),
    secure_bus: Annotated[
        bool,
        typer.Option(
            "--secure-bus", help="NATS with one user per service, each allowed only its own subjects"
        ),
    ] = False,
) -> None:
    """Start NATS, the Mongo wire server, every service and the gateway; Ctrl-C stops them all."""
    try:
        raise typer.Exit(run_platform(data_dir, port, user, secure_bus=secure_bus))
    except SecureBusError as exc:
        typer.echo(f"moniqo: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("bus-permissions")
def bus_permissions_config(
    prefix: Annotated[
        str, typer.Option(envvar="MONGODB_DB_PREFIX", help="the deployment's prefix (names its sync stream)")
    ] = "moniqo",
) -> None:
    """Print the nats-server `authorization` block: one user per service (deploy/nats/permissions.conf)."""
    typer.echo(render_authorization(prefix), nl=False)


if __name__ == "__main__":
    app()
