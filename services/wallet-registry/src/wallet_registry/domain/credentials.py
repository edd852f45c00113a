"""The stored form of a wallet's credentials: Fernet tokens per name, with a redacted repr."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, repr=False)
class EncryptedCredentials:
    """Credential name -> Fernet token. Only the names are ever shown."""

    tokens: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return sorted(self.tokens)

    def __repr__(self) -> str:
        return f"EncryptedCredentials(names={self.names})"

    __str__ = __repr__


def check_credential_names(required: list[str], given: list[str]) -> str | None:
    """What is wrong with the set of names given for a provider, or None when it matches exactly."""
    missing = sorted(set(required) - set(given))
    unknown = sorted(set(given) - set(required))
    problems = []
    if missing:
        problems.append(f"missing credentials: {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown credentials: {', '.join(unknown)}")
    if not problems:
        return None
    expected = ", ".join(required) if required else "none"
    return f"{'; '.join(problems)} (this provider requires: {expected})"
