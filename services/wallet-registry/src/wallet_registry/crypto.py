"""Credential encryption with MultiFernet: ``ENCRYPTION_KEYS`` = comma-separated Fernet keys, newest first.

Encrypt always uses the newest key; decrypt tries every key, so a key can be added in front, every
stored token rotated under it (``rotate``), and the old key then removed.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from wallet_registry.domain.credentials import EncryptedCredentials


class KeyConfigError(ValueError):
    """``ENCRYPTION_KEYS`` is missing or holds something that is not a Fernet key."""


class CredentialDecryptionError(Exception):
    """A stored token was tampered with, or was encrypted under a key that is no longer configured."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


def parse_keys(raw: str | None) -> list[Fernet]:
    if raw is None or not raw.strip():
        raise KeyConfigError(
            "ENCRYPTION_KEYS is not set: give one or more comma-separated Fernet keys, newest first "
            "(generate one with `moniqo keys generate`)"
        )
    keys = [part.strip() for part in raw.split(",")]
    fernets = []
    for position, key in enumerate(keys, start=1):
        if not key:
            raise KeyConfigError(f"ENCRYPTION_KEYS: key #{position} is empty (check for a stray comma)")
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            raise KeyConfigError(
                f"ENCRYPTION_KEYS: key #{position} is not a valid Fernet key (32 url-safe base64-encoded "
                "bytes, e.g. from `moniqo keys generate`)"
            ) from None
    return fernets


class CredentialCipher:
    def __init__(self, keys: list[Fernet]) -> None:
        if not keys:
            raise KeyConfigError("at least one encryption key is required")
        self._newest = keys[0]
        self._multi = MultiFernet(keys)

    @classmethod
    def from_env_value(cls, raw: str | None) -> CredentialCipher:
        return cls(parse_keys(raw))

    def encrypt_value(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode()).decode()

    def decrypt_value(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode()).decode()
        except InvalidToken:
            raise CredentialDecryptionError(
                "a stored credential cannot be decrypted: it was altered, or its key is no longer in "
                "ENCRYPTION_KEYS"
            ) from None

    def encrypt(self, credentials: Mapping[str, SecretStr]) -> EncryptedCredentials:
        return EncryptedCredentials(
            {name: self.encrypt_value(secret.get_secret_value()) for name, secret in credentials.items()}
        )

    def decrypt(self, stored: EncryptedCredentials) -> dict[str, SecretStr]:
        return {name: SecretStr(self.decrypt_value(token)) for name, token in stored.tokens.items()}

    def needs_rotation(self, stored: EncryptedCredentials) -> bool:
        """True when any token was not encrypted under the newest key."""
        for token in stored.tokens.values():
            try:
                self._newest.decrypt(token.encode())
            except InvalidToken:
                return True
        return False

    def rotate(self, stored: EncryptedCredentials) -> EncryptedCredentials:
        """Re-encrypt every token under the newest key; ``CredentialDecryptionError`` if unreadable."""
        try:
            return EncryptedCredentials(
                {name: self._multi.rotate(token.encode()).decode() for name, token in stored.tokens.items()}
            )
        except InvalidToken:
            raise CredentialDecryptionError(
                "a stored credential cannot be rotated: it was altered, or its key is no longer configured"
            ) from None
