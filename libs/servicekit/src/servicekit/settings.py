"""Settings every service reads (pydantic-settings, environment variables)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.bus_permissions import inbox_prefix_for_url, redact_url


class ServiceSettings(BaseSettings):
    # hide_input_in_errors: a refused setting may be a secret (ENCRYPTION_KEYS, JWT_SECRET); never echo it.
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True, hide_input_in_errors=True)

    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS server URL(s), comma-separated")
    mongodb_url: str = Field(default="mongodb://127.0.0.1:27017/?directConnection=true")
    mongodb_db_prefix: str = Field(
        default="moniqo",
        pattern=r"^[A-Za-z0-9_]{1,40}$",
        description="each service's database is <prefix>_<service>",
    )
    log_level: str = Field(default="INFO")
    log_format: str = Field(default="console", pattern="^(console|json)$")
    request_workers: int = Field(default=16, ge=1, le=1024, description="concurrent requests per subscriber")
    outbox_relay_interval: float = Field(default=2.0, gt=0, description="seconds between outbox sweeps")
    # The operations endpoint (/metrics, /healthz, /readyz). Off unless METRICS_PORT is set, so any number
    # of processes can share a host; 0 = a free port the process picks and writes to METRICS_PORT_FILE.
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="port of /metrics, /healthz, /readyz; unset = off"
    )
    metrics_host: str = Field(default="127.0.0.1", description="where that endpoint listens")
    metrics_port_file: str | None = Field(
        default=None,
        description="write the bound port here; {service} and {pid} are replaced (one file per process)",
    )
    readiness_timeout: float = Field(
        default=2.0, gt=0, le=30, description="seconds /readyz waits for each check (e.g. the Mongo ping)"
    )

    @property
    def nats_servers(self) -> list[str]:
        return [s.strip() for s in self.nats_url.split(",") if s.strip()]

    @property
    def nats_servers_for_log(self) -> list[str]:
        """The servers without their credentials (``nats://gateway:***@host:4222``): what logs may show."""
        return [redact_url(s) for s in self.nats_servers]

    @property
    def nats_inbox_prefix(self) -> str:
        """Replies come back on ``_INBOX_<user>`` when ``NATS_URL`` names a bus user (bus_permissions)."""
        return inbox_prefix_for_url(self.nats_url)
