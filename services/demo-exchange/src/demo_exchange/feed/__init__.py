"""The built-in market feed: ``python -m demo_exchange.feed`` publishes ``contracts.market.Tick`` on
``market.ticks.<BASE>-<QUOTE>`` (``MARKET_FEED=replay|random|off``).

Generation (``bars``, ``generators``) is pure: iterators of ``PricePoint`` with no I/O. Publishing
(``publisher``) turns them into ticks on NATS at the wall-clock times they carry.
"""

from __future__ import annotations
