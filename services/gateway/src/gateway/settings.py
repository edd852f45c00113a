"""gateway settings (environment variables)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from servicekit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    gateway_host: str = Field(default="127.0.0.1")
    gateway_port: int = Field(default=8000, ge=1, le=65535)
    jwt_secret: SecretStr | None = Field(default=None, description="HS256 secret for user tokens")
    jwt_public_key: str | None = Field(default=None, description="PEM public key: RS256 tokens instead")
    request_timeout: float = Field(default=5.0, gt=0, le=60, description="seconds to wait for a service")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    @model_validator(mode="after")
    def _needs_a_key(self) -> GatewaySettings:
        if self.jwt_public_key is None and (
            self.jwt_secret is None or not self.jwt_secret.get_secret_value()
        ):
            raise ValueError("set JWT_SECRET (HS256) or JWT_PUBLIC_KEY (RS256) to verify user tokens")
        if (
            self.jwt_secret is not None
            and len(self.jwt_secret.get_secret_value()) < 32
            and not self.jwt_public_key
        ):
            raise ValueError("JWT_SECRET must be at least 32 characters (HS256 needs a 256-bit secret)")
        return self
