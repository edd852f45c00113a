"""``test-connection``: build the wallet from its provider and decrypted credentials, then probe it.

Transient failures (network, timeouts, rate limits) are retried with exponential backoff; definite
refusals and the final transient failure come back as ``success: false`` with a message, never a 500.
The credentials are decrypted only here, for the probe, and never leave this function.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_exponential

import wallets.demo  # noqa: F401 - registers DemoWallet with the factory
from contracts.wallets import ConnectionTest, WalletDefinition
from wallet_registry.crypto import CredentialCipher, CredentialDecryptionError
from wallet_registry.domain.wallets import WalletRecord
from wallets.errors import NotSupported, WalletError
from wallets.factory import create_wallet

ATTEMPTS = 3
DEADLINE_SECONDS = 3.0  # retries stop starting after this, so the answer beats the gateway's timeout


def _failed(message: str) -> ConnectionTest:
    return ConnectionTest(success=False, latency_ms=0, message=message[:500], tested_at=datetime.now(UTC))


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, WalletError) and exc.transient


async def probe(
    record: WalletRecord, provider: WalletDefinition, cipher: CredentialCipher, **deps: Any
) -> ConnectionTest:
    try:
        credentials = cipher.decrypt(record.credentials)
    except CredentialDecryptionError as exc:
        return _failed(str(exc))
    try:
        wallet = create_wallet(provider, credentials, wallet_id=record.id, user_id=record.user_id, **deps)
    except NotSupported:
        return _failed(f"no connector for {provider.name} ({provider.slug}) in this build yet")
    except WalletError as exc:
        return _failed(exc.detail)
    try:
        async with wallet:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(ATTEMPTS) | stop_after_delay(DEADLINE_SECONDS),
                wait=wait_exponential(multiplier=0.2, max=2),
                retry=retry_if_exception(_transient),
                reraise=True,
            ):
                with attempt:
                    return await wallet.test_connection()
    except WalletError as exc:
        return _failed(f"{provider.name} did not answer after {ATTEMPTS} attempts: {exc.detail}")
    return _failed("the connection test did not run")  # pragma: no cover - AsyncRetrying always yields
