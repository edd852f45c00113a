"""The accounts this process last wrote, so a command on a wallet does not read it back first.

An entry is only ever a *guess* at the stored account: every write is conditional on the ``version`` it
was decided on, so a stale entry (another instance wrote since) costs one failed write and a reload,
never a wrong commit. What a stale entry could get wrong is a refusal or a no-op decided on it — the
caller re-decides those on a fresh read (``ExchangeService._mutate``). Bounded (least recently used
goes first); ``size=0`` turns it off.
"""

from __future__ import annotations

from collections import OrderedDict

from demo_exchange.domain.account import Account


class AccountCache:
    def __init__(self, size: int) -> None:
        self._size = size
        self._accounts: OrderedDict[str, Account] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, wallet_id: str) -> Account | None:
        account = self._accounts.get(wallet_id)
        if account is None:
            self.misses += 1
            return None
        self._accounts.move_to_end(wallet_id)
        self.hits += 1
        return account

    def put(self, account: Account) -> None:
        if self._size <= 0:
            return
        self._accounts[account.wallet_id] = account
        self._accounts.move_to_end(account.wallet_id)
        while len(self._accounts) > self._size:
            self._accounts.popitem(last=False)

    def drop(self, wallet_id: str) -> None:
        self._accounts.pop(wallet_id, None)

    def __len__(self) -> int:
        return len(self._accounts)
