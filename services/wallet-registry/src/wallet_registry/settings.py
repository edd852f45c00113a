"""wallet-registry settings (environment variables)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from servicekit.settings import ServiceSettings
from wallet_registry.crypto import parse_keys


class RegistrySettings(ServiceSettings):
    mongodb_db: str = Field(default="moniqo_registry")
    encryption_keys: SecretStr = Field(
        default=SecretStr(""), description="comma-separated Fernet keys, newest first (required)"
    )

    @field_validator("encryption_keys")
    @classmethod
    def _keys_are_fernet(cls, value: SecretStr) -> SecretStr:
        parse_keys(value.get_secret_value())  # raises KeyConfigError with a clear message
        return value
