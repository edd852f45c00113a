"""Results of the wallet port that have no contract model yet.

Orders, trades and balances use ``contracts.orders`` (``Order``, ``Trade``, ``Balances``, ``OrderCreate``) and
market data ``contracts.market`` (``SymbolInfo``, ``Ticker``). ``ConnectionTest`` (the body of
``POST /user-wallets/{id}/test-connection``) lives in ``contracts.wallets`` and is re-exported here.
"""

from __future__ import annotations

from typing import Literal

from contracts.wallets import ConnectionTest

__all__ = ["ConnectionTest", "OrderListStatus"]

OrderListStatus = Literal["open", "closed", "all"]
"""The ``status`` filter of ``GET .../orders`` (closed = filled, canceled, expired or rejected)."""
