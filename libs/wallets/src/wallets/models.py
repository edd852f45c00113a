"""Results of the wallet port that have no contract model yet.

Orders, trades and balances use ``contracts.orders`` (``Order``, ``Trade``, ``Balances``, ``OrderCreate``) and
market data ``contracts.market`` (``SymbolInfo``, ``Ticker``). ``ConnectionTest`` is the body of
``POST /user-wallets/{id}/test-connection`` (CONTRACT.md); it may move to ``contracts.wallets`` with issue 3.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from contracts.base import Model

OrderListStatus = Literal["open", "closed", "all"]
"""The ``status`` filter of ``GET .../orders`` (closed = filled, canceled, expired or rejected)."""


class ConnectionTest(Model):
    """The outcome of ``BaseWallet.test_connection``: never carries credential values."""

    success: bool
    latency_ms: float = Field(ge=0, description="round trip of the probe, in milliseconds")
    message: str = Field(max_length=500)
    tested_at: datetime
