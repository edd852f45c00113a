"""Re-encrypt every stored credential under the newest key, so older keys can leave ``ENCRYPTION_KEYS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pymongo.asynchronous.collection import AsyncCollection

from servicekit.mongo import Document
from wallet_registry.crypto import CredentialCipher, CredentialDecryptionError
from wallet_registry.domain.credentials import EncryptedCredentials


@dataclass
class RotationReport:
    rotated: int = 0
    already_current: int = 0
    without_credentials: int = 0
    changed_meanwhile: int = 0
    unreadable: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            self.rotated
            + self.already_current
            + self.without_credentials
            + self.changed_meanwhile
            + len(self.unreadable)
        )


async def rotate_all(
    wallets: AsyncCollection[Document],
    cipher: CredentialCipher,
    *,
    progress: Callable[[], None] = lambda: None,
) -> RotationReport:
    """Every wallet, deleted ones included (their tokens would otherwise keep an old key alive)."""
    report = RotationReport()
    async for doc in wallets.find({}, {"credentials": 1}):
        tokens: dict[str, str] = dict(doc.get("credentials") or {})
        progress()
        if not tokens:
            report.without_credentials += 1
            continue
        stored = EncryptedCredentials(tokens)
        try:
            if not cipher.needs_rotation(stored):
                report.already_current += 1
                continue
            rotated = cipher.rotate(stored)
        except CredentialDecryptionError:
            report.unreadable.append(str(doc["_id"]))
            continue
        # Conditional on the tokens we read: a re-key that happened meanwhile is never overwritten.
        result = await wallets.update_one(
            {"_id": doc["_id"], "credentials": tokens}, {"$set": {"credentials": dict(rotated.tokens)}}
        )
        if result.modified_count == 1:
            report.rotated += 1
        else:
            report.changed_meanwhile += 1
    return report
