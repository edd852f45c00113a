"""Provider registration and the wallet factory: provider document + decrypted credentials -> ``BaseWallet``.

Implementations register themselves by provider slug and/or integration type::

    @register_wallet(integration_type="demo")
    class DemoWallet(BaseWallet): ...

``create_wallet`` picks the class registered for the provider's slug first, then for its integration type.
Nothing here ever formats a credential value: refusals name credentials, never show them.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from pydantic import SecretStr

from contracts.wallets import IntegrationType, WalletDefinition
from wallets.base import BaseWallet
from wallets.errors import AuthenticationError, NotSupported

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class WalletRegistry:
    """Which ``BaseWallet`` class serves which provider; apps use ``default_registry``, tests their own."""

    def __init__(self) -> None:
        self._by_slug: dict[str, type[BaseWallet]] = {}
        self._by_type: dict[IntegrationType, type[BaseWallet]] = {}

    def register(
        self,
        cls: type[BaseWallet],
        *,
        slug: str | None = None,
        integration_type: IntegrationType | str | None = None,
    ) -> None:
        """Register ``cls`` for a slug and/or an integration type; a key already taken is refused."""
        if slug is None and integration_type is None:
            raise ValueError("register a wallet class for a slug, an integration_type, or both")
        if not (isinstance(cls, type) and issubclass(cls, BaseWallet)) or inspect.isabstract(cls):
            raise TypeError(f"{cls!r} is not a concrete BaseWallet subclass")
        kind = IntegrationType(integration_type) if integration_type is not None else None
        if slug is not None and not _SLUG.fullmatch(slug):
            raise ValueError(f"{slug[:64]!r} is not a provider slug")
        if slug is not None and slug in self._by_slug:
            raise ValueError(f"slug {slug!r} is already served by {self._by_slug[slug].__name__}")
        if kind is not None and kind in self._by_type:
            raise ValueError(
                f"integration_type {kind.value!r} is already served by {self._by_type[kind].__name__}"
            )
        if slug is not None:
            self._by_slug[slug] = cls
        if kind is not None:
            self._by_type[kind] = cls

    def register_wallet[W: BaseWallet](
        self, *, slug: str | None = None, integration_type: IntegrationType | str | None = None
    ) -> Callable[[type[W]], type[W]]:
        """Class decorator form of ``register``."""

        def decorate(cls: type[W]) -> type[W]:
            self.register(cls, slug=slug, integration_type=integration_type)
            return cls

        return decorate

    @property
    def by_slug(self) -> Mapping[str, type[BaseWallet]]:
        return MappingProxyType(self._by_slug)

    @property
    def by_integration_type(self) -> Mapping[IntegrationType, type[BaseWallet]]:
        return MappingProxyType(self._by_type)

    def resolve(self, provider: WalletDefinition) -> type[BaseWallet]:
        """The class for ``provider``: by slug, else by integration type, else ``NotSupported``."""
        found = self._by_slug.get(provider.slug) or self._by_type.get(provider.integration_type)
        if found is None:
            raise NotSupported(
                f"no wallet implementation is registered for provider {provider.slug!r} "
                f"(integration_type {provider.integration_type.value!r})"
            )
        return found

    def create(
        self, provider: WalletDefinition, credentials: Mapping[str, SecretStr], **deps: Any
    ) -> BaseWallet:
        """A wallet for ``provider``; ``credentials`` must be exactly its ``required_credentials``."""
        cls = self.resolve(provider)
        check_credentials(provider, credentials)
        return cls(provider=provider, credentials=credentials, **deps)


def check_credentials(provider: WalletDefinition, credentials: Mapping[str, SecretStr]) -> None:
    """Refuse missing, unexpected, unwrapped or empty credentials without ever showing a value."""
    required = set(provider.required_credentials)
    given = set(credentials)
    missing = sorted(required - given)
    unexpected = len(given - required)  # counted, not named: a value pasted as a name must not echo back
    if missing or unexpected:
        problems = [f"missing: {', '.join(missing)}"] if missing else []
        if unexpected:
            problems.append(f"{unexpected} unexpected credential name(s)")
        expected = ", ".join(sorted(required)) or "none"
        raise AuthenticationError(
            f"credentials for {provider.slug!r} do not match (requires: {expected}; {'; '.join(problems)})"
        )
    for name in sorted(required):
        value = credentials[name]
        if not isinstance(value, SecretStr):
            raise TypeError(f"credential {name!r} must be a pydantic SecretStr")
        if not value.get_secret_value():
            raise AuthenticationError(f"credential {name!r} for {provider.slug!r} is empty")


default_registry = WalletRegistry()
"""The process-wide registry that ``register_wallet`` and ``create_wallet`` use unless given another."""


def register_wallet[W: BaseWallet](
    *,
    slug: str | None = None,
    integration_type: IntegrationType | str | None = None,
    registry: WalletRegistry | None = None,
) -> Callable[[type[W]], type[W]]:
    """Class decorator on ``default_registry`` (or ``registry``), by slug and/or integration type."""
    return (default_registry if registry is None else registry).register_wallet(
        slug=slug, integration_type=integration_type
    )


def create_wallet(
    provider: WalletDefinition,
    credentials: Mapping[str, SecretStr],
    *,
    registry: WalletRegistry | None = None,
    **deps: Any,
) -> BaseWallet:
    """Build the wallet for ``provider`` from decrypted ``credentials``; ``deps`` go to its constructor."""
    return (default_registry if registry is None else registry).create(provider, credentials, **deps)
