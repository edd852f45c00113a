"""``moniqo audit``: money conservation of every demo account, read from the exchange's database."""

from __future__ import annotations

import json

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from demo_exchange.audit import AuditReport, audit_exchange
from servicekit.mongo import connect, database


async def run_audit(mongodb_url: str, database_name: str, *, show_progress: bool) -> AuditReport:
    client = connect(mongodb_url, app_name="moniqo-audit")
    try:
        db = database(client, database_name)
        if not show_progress:
            return await audit_exchange(db)
        total = await db["demo_wallet_state"].count_documents({})
        with Progress(console=Console(stderr=True)) as bar:
            task = bar.add_task("auditing demo accounts", total=total)
            return await audit_exchange(db, progress=lambda: bar.advance(task))
    finally:
        await client.close()


def render(report: AuditReport, console: Console) -> None:
    table = Table(title="Money conservation per asset (all demo accounts)")
    for column in ("asset", "funded", "traded (net)", "fees", "free", "locked", "total", "reconciles"):
        table.add_column(column, justify="left" if column == "asset" else "right")
    for asset, t in sorted(report.totals.items()):
        expected = t.funded + t.traded
        table.add_row(
            asset, str(t.funded), str(t.traded), str(t.fees), str(t.free), str(t.locked), str(t.total),
            "yes" if expected == t.total else "NO",
        )  # fmt: skip
    console.print(table)
    console.print(
        f"{len(report.accounts)} accounts, {report.trades} trades "
        f"({report.pending_trades} still in an outbox), {len(report.failed)} with problems"
    )
    for audit in report.failed:
        console.print(f"[red]{audit.wallet_id}[/red]: " + "; ".join(audit.problems))


def as_json(report: AuditReport) -> str:
    return json.dumps(
        {
            "accounts": len(report.accounts),
            "trades": report.trades,
            "pending_trades": report.pending_trades,
            "ok": not report.failed,
            "totals": {
                asset: {
                    "funded": str(t.funded),
                    "traded": str(t.traded),
                    "fees": str(t.fees),
                    "free": str(t.free),
                    "locked": str(t.locked),
                    "total": str(t.total),
                }
                for asset, t in sorted(report.totals.items())
            },
            "problems": {a.wallet_id: list(a.problems) for a in report.failed},
        },
        indent=2,
    )
