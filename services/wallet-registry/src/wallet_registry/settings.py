"""wallet-registry settings (environment variables)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from servicekit.settings import ServiceSettings
from wallet_registry.crypto import parse_keys


class RegistrySettings(ServiceSettings):
    mongodb_db: str | None = Field(default=None, description="override of <MONGODB_DB_PREFIX>_registry")
    encryption_keys: SecretStr = Field(
        default=SecretStr(""), description="comma-separated Fernet keys, newest first (required)"
    )

    demo_sync_timeout: float = Field(default=2.0, gt=0, description="seconds to wait for demo-exchange")

    @property
    def database_name(self) -> str:
        return self.mongodb_db or f"{self.mongodb_db_prefix}_registry"

    @field_validator("encryption_keys")
    @classmethod
    def _keys_are_fernet(cls, value: SecretStr) -> SecretStr:
        parse_keys(value.get_secret_value())  # raises KeyConfigError with a clear message
        return value
