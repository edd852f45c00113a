"""gateway settings (environment variables)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import Field, SecretStr, model_validator

from servicekit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    gateway_host: str = Field(default="127.0.0.1")
    gateway_port: int = Field(default=8000, ge=0, le=65535, description="0 = any free port")
    gateway_port_file: str | None = Field(default=None, description="write the bound port here (for tools)")
    jwt_secret: SecretStr | None = Field(default=None, description="HS256 secret for user tokens")
    jwt_public_key: str | None = Field(default=None, description="PEM public key: RS256 tokens instead")
    request_timeout: float = Field(default=5.0, gt=0, le=60, description="seconds to wait for a service")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    order_rate_per_second: float = Field(default=50.0, gt=0, description="per user and gateway process")
    order_burst: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _needs_a_key(self) -> GatewaySettings:
        if self.jwt_public_key:
            try:
                key = serialization.load_pem_public_key(self.jwt_public_key.encode())
            except ValueError:
                raise ValueError("JWT_PUBLIC_KEY is not a PEM public key") from None
            if not isinstance(key, rsa.RSAPublicKey):
                raise ValueError("JWT_PUBLIC_KEY must be an RSA public key (RS256)")
            return self
        secret = self.jwt_secret.get_secret_value() if self.jwt_secret is not None else ""
        if not secret:
            raise ValueError("set JWT_SECRET (HS256) or JWT_PUBLIC_KEY (RS256) to verify user tokens")
        if len(secret) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters (HS256 needs a 256-bit secret)")
        if "change-me" in secret.lower() or len(set(secret)) < 10:
            raise ValueError("JWT_SECRET looks like a placeholder: use 32+ random characters")
        return self
