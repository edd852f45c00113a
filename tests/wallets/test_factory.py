"""The factory picks a wallet class by slug then integration type, checks credentials, never leaks them."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from contracts.errors import ErrorCode
from contracts.wallets import IntegrationType
from tests.wallets.support import WALLET_ID, BalanceOnlyWallet, TradingWallet, binance, provider, secrets
from wallets import (
    AuthenticationError,
    BaseWallet,
    NotSupported,
    WalletRegistry,
    create_wallet,
    factory,
    register_wallet,
)


class OtherWallet(BalanceOnlyWallet):
    pass


@pytest.fixture
def registry() -> WalletRegistry:
    return WalletRegistry()


def test_decorator_registers_by_slug_and_returns_the_class_unchanged(registry: WalletRegistry) -> None:
    decorated = registry.register_wallet(slug="binance-v1")(BalanceOnlyWallet)
    assert decorated is BalanceOnlyWallet
    assert registry.by_slug == {"binance-v1": BalanceOnlyWallet}


def test_provider_with_a_registered_slug_gets_that_class_over_its_integration_type(
    registry: WalletRegistry,
) -> None:
    registry.register(OtherWallet, integration_type="cex")
    registry.register(BalanceOnlyWallet, slug="binance-v1")
    wallet = registry.create(binance(), secrets())
    assert type(wallet) is BalanceOnlyWallet


def test_provider_without_a_slug_registration_falls_back_to_its_integration_type(
    registry: WalletRegistry,
) -> None:
    registry.register(OtherWallet, integration_type=IntegrationType.DEMO)
    registry.register(BalanceOnlyWallet, slug="binance-v1")
    wallet = registry.create(provider("demo-v2"), {})
    assert type(wallet) is OtherWallet


def test_provider_nobody_serves_is_not_supported_and_named(registry: WalletRegistry) -> None:
    registry.register(OtherWallet, integration_type="demo")
    with pytest.raises(NotSupported) as raised:
        registry.create(binance(), secrets())
    assert raised.value.code is ErrorCode.NOT_SUPPORTED
    assert "binance-v1" in raised.value.detail
    assert "cex" in raised.value.detail


def test_one_class_may_serve_a_slug_and_an_integration_type(registry: WalletRegistry) -> None:
    registry.register(BalanceOnlyWallet, slug="demo-v1", integration_type="demo")
    assert registry.by_slug["demo-v1"] is BalanceOnlyWallet
    assert registry.by_integration_type[IntegrationType.DEMO] is BalanceOnlyWallet


def test_second_registration_of_a_slug_is_refused(registry: WalletRegistry) -> None:
    registry.register(BalanceOnlyWallet, slug="binance-v1")
    with pytest.raises(ValueError, match="already served by BalanceOnlyWallet"):
        registry.register(OtherWallet, slug="binance-v1")
    assert registry.by_slug["binance-v1"] is BalanceOnlyWallet


def test_second_registration_of_an_integration_type_is_refused_without_taking_the_slug(
    registry: WalletRegistry,
) -> None:
    registry.register(BalanceOnlyWallet, integration_type="demo")
    with pytest.raises(ValueError, match="already served"):
        registry.register(OtherWallet, slug="demo-v2", integration_type="demo")
    assert "demo-v2" not in registry.by_slug


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, ValueError),
        ({"slug": "Not A Slug"}, ValueError),
        ({"integration_type": "quantum"}, ValueError),
    ],
)
def test_registration_without_a_valid_key_is_refused(
    registry: WalletRegistry, kwargs: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        registry.register(BalanceOnlyWallet, **kwargs)
    assert not registry.by_slug
    assert not registry.by_integration_type


@pytest.mark.parametrize("cls", [BaseWallet, dict])
def test_registering_an_abstract_or_foreign_class_is_refused(registry: WalletRegistry, cls: type) -> None:
    with pytest.raises(TypeError, match="concrete BaseWallet"):
        registry.register(cls, slug="x-v1")


def test_factory_passes_provider_credentials_and_deps_to_the_wallet(registry: WalletRegistry) -> None:
    registry.register(TradingWallet, slug="binance-v1")
    creds = secrets()
    wallet = registry.create(binance(), creds, wallet_id=WALLET_ID, free={"BTC": "1"})
    assert isinstance(wallet, TradingWallet)
    assert wallet.provider.slug == "binance-v1"
    assert wallet.wallet_id == WALLET_ID
    assert wallet.free == {"BTC": "1"}
    assert wallet.credential_names == ["api_key", "api_secret"]
    assert wallet.credential("api_secret") is creds["api_secret"]


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        (["api_key"], "missing: api_secret"),
        ([], "missing: api_key, api_secret"),
        (["api_key", "api_secret", "passphrase"], "1 unexpected credential name(s)"),
        (["api_key", "passphrase"], "missing: api_secret; 1 unexpected"),
    ],
)
def test_credential_names_that_differ_from_the_provider_are_refused(
    registry: WalletRegistry, given: list[str], fragment: str
) -> None:
    registry.register(BalanceOnlyWallet, slug="binance-v1")
    creds = {name: SecretStr(f"VALUE-{name}") for name in given}
    with pytest.raises(AuthenticationError) as raised:
        registry.create(binance(), creds)
    assert raised.value.code is ErrorCode.INVALID_CREDENTIALS
    assert fragment in raised.value.detail
    assert "VALUE-" not in str(raised.value)


def test_credentials_given_to_a_provider_that_needs_none_are_refused(registry: WalletRegistry) -> None:
    registry.register(BalanceOnlyWallet, integration_type="demo")
    with pytest.raises(AuthenticationError, match="requires: none"):
        registry.create(provider(), {"api_key": SecretStr("x")})


def test_unexpected_credential_name_is_counted_not_echoed(registry: WalletRegistry) -> None:
    registry.register(BalanceOnlyWallet, integration_type="demo")
    pasted = "sk-live-looks-like-a-secret"
    with pytest.raises(AuthenticationError) as raised:
        registry.create(provider(), {pasted: SecretStr("x")})
    assert pasted not in str(raised.value)
    assert pasted not in repr(raised.value)


def test_plain_string_credential_is_refused_without_showing_it(registry: WalletRegistry) -> None:
    registry.register(BalanceOnlyWallet, slug="binance-v1")
    creds: dict[str, object] = {"api_key": SecretStr("k"), "api_secret": "PLAINTEXT-SECRET"}
    with pytest.raises(TypeError, match="api_secret") as raised:
        registry.create(binance(), creds)  # type: ignore[arg-type]
    assert "PLAINTEXT-SECRET" not in str(raised.value)


def test_empty_credential_is_refused(registry: WalletRegistry) -> None:
    registry.register(BalanceOnlyWallet, slug="binance-v1")
    with pytest.raises(AuthenticationError, match="'api_key' for 'binance-v1' is empty"):
        registry.create(binance(), {"api_key": SecretStr(""), "api_secret": SecretStr("s")})


def test_wallet_repr_str_and_state_show_credential_names_never_values(registry: WalletRegistry) -> None:
    registry.register(BalanceOnlyWallet, slug="binance-v1")
    creds = secrets()
    wallet = registry.create(binance(), creds, wallet_id=WALLET_ID)
    shown = [repr(wallet), str(wallet), f"{wallet}", repr(vars(wallet)), repr(wallet.credential("api_key"))]
    for value in (c.get_secret_value() for c in creds.values()):
        assert all(value not in text for text in shown)
    assert "api_key" in repr(wallet)
    assert "binance-v1" in repr(wallet)


def test_missing_credential_lookup_names_it_without_values(registry: WalletRegistry) -> None:
    registry.register(BalanceOnlyWallet, integration_type="demo")
    wallet = registry.create(provider(), {})
    with pytest.raises(AuthenticationError, match="needs the credential 'api_key'"):
        wallet.credential("api_key")


def test_module_level_decorator_and_factory_use_the_default_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    isolated = WalletRegistry()
    monkeypatch.setattr(factory, "default_registry", isolated)

    @register_wallet(integration_type="demo")
    class ScratchWallet(BalanceOnlyWallet):
        pass

    assert isolated.by_integration_type[IntegrationType.DEMO] is ScratchWallet
    assert type(create_wallet(provider(), {})) is ScratchWallet


def test_module_level_factory_accepts_an_explicit_registry(registry: WalletRegistry) -> None:
    register_wallet(slug="binance-v1", registry=registry)(BalanceOnlyWallet)
    wallet = create_wallet(binance(), secrets(), registry=registry)
    assert type(wallet) is BalanceOnlyWallet
