"""Money conservation, checked when a stack's tests are done (``demo_exchange.audit`` on its database)."""

from __future__ import annotations

import asyncio
import threading

from demo_exchange.audit import AuditReport, audit_exchange
from servicekit.mongo import connect, database
from tests.support.stack import Stack


async def _audit(mongo_url: str, db_name: str) -> AuditReport:
    client = connect(mongo_url, app_name="test-audit")
    try:
        return await audit_exchange(database(client, db_name))
    finally:
        await client.close()


def assert_money_conserved(stack: Stack, mongo_url: str) -> AuditReport:
    """Every demo account of the stack reconciles with its funding and trades (run from sync teardown code:
    the audit gets a loop of its own in a thread, whatever loop the caller has)."""
    result: list[AuditReport] = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(_audit(mongo_url, stack.exchange_db))))
    worker.start()
    worker.join()
    report = result[0]
    assert report.failed == [], {a.wallet_id: a.problems for a in report.failed}
    return report
