"""Pure registry rules, tested as tables of cases without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from contracts.errors import ErrorCode, ServiceError
from contracts.subjects import EventType
from contracts.wallets import IntegrationType, UserWalletCreate, UserWalletUpdate, WalletDefinition
from wallet_registry.domain.credentials import EncryptedCredentials, check_credential_names
from wallet_registry.domain.wallets import (
    create_fingerprint,
    delete_wallet,
    open_wallet,
    require_usable_provider,
    update_wallet,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def provider(slug: str = "binance-v1", *, demo: bool = False, active: bool = True) -> WalletDefinition:
    return WalletDefinition(
        id="6650c0ffee00000000000001",
        name=slug,
        slug=slug,
        integration_type=IntegrationType.DEMO if demo else IntegrationType.CEX,
        is_demo=demo,
        is_active=active,
        required_credentials=[] if demo else ["api_key", "api_secret"],
        supported_symbols=["BTC/USDT"],
        description="",
        created_at=NOW,
        updated_at=NOW,
    )


def body(**fields: Any) -> UserWalletCreate:
    return UserWalletCreate.model_validate({"wallet_provider_id": "demo-v1", "custom_name": "w", **fields})


def tokens(*names: str) -> EncryptedCredentials:
    return EncryptedCredentials({n: f"token-{n}" for n in names})


def opened(
    p: WalletDefinition | None = None, creds: EncryptedCredentials | None = None, **fields: Any
) -> Any:
    p = p or provider(demo=True)
    return open_wallet(
        wallet_id="6650c0ffee0000000000000a",
        user_id="u1",
        provider=p,
        body=body(**fields),
        credentials=creds or tokens(),
        now=NOW,
        correlation_id="cmd-1",
    )


@pytest.mark.parametrize(
    ("required", "given", "problem"),
    [
        (["api_key", "api_secret"], ["api_key", "api_secret"], None),
        (["api_key", "api_secret"], ["api_key"], "missing credentials: api_secret"),
        (["api_key"], ["api_key", "extra"], "unknown credentials: extra"),
        ([], [], None),
        ([], ["api_key"], "unknown credentials: api_key"),
        (["a", "b"], ["c"], "missing credentials: a, b; unknown credentials: c"),
    ],
)
def test_credential_names_must_match_the_provider_exactly(
    required: list[str], given: list[str], problem: str | None
) -> None:
    found = check_credential_names(required, given)
    assert (found is None) if problem is None else (found is not None and found.startswith(problem))


def test_demo_wallet_opens_with_default_balance_and_created_event() -> None:
    change = opened()
    assert change.wallet.balance == {"USDT": Decimal("10000")}
    assert change.event.event_type is EventType.WALLET_CREATED
    assert change.event.sequence == 1
    assert change.event.data.id == change.wallet.id
    assert change.event.correlation_id == "cmd-1"


def test_demo_wallet_takes_given_initial_balances() -> None:
    assert opened(initial_balances={"BTC": "0.5"}).wallet.balance == {"BTC": Decimal("0.5")}


def test_initial_balances_on_a_real_provider_are_refused() -> None:
    with pytest.raises(ServiceError) as info:
        opened(provider(), tokens("api_key", "api_secret"), initial_balances={"USDT": "1"})
    assert info.value.code is ErrorCode.INITIAL_BALANCES_NOT_ALLOWED


def test_missing_credential_is_refused() -> None:
    with pytest.raises(ServiceError) as info:
        opened(provider(), tokens("api_key"))
    assert info.value.code is ErrorCode.INVALID_CREDENTIALS
    assert "api_secret" in info.value.detail


@pytest.mark.parametrize(("p", "ref"), [(None, "nope-v1"), (provider(active=False), "binance-v1")])
def test_unknown_or_inactive_provider_is_refused(p: WalletDefinition | None, ref: str) -> None:
    with pytest.raises(ServiceError) as info:
        require_usable_provider(p, ref)
    assert info.value.code is ErrorCode.INVALID_PROVIDER


def test_update_that_changes_nothing_emits_nothing() -> None:
    wallet = opened().wallet
    same = UserWalletUpdate.model_validate({"custom_name": wallet.custom_name, "is_active": True})
    assert (
        update_wallet(
            wallet, same, provider=provider(demo=True), credentials=None, now=NOW, correlation_id=None
        )
        is None
    )


def test_update_bumps_version_and_sequence_and_describes_the_new_state() -> None:
    wallet = opened().wallet
    later = NOW + timedelta(seconds=5)
    change = update_wallet(
        wallet,
        UserWalletUpdate.model_validate({"custom_name": "renamed", "risk_limits": {"max_open_orders": 3}}),
        provider=provider(demo=True),
        credentials=None,
        now=later,
        correlation_id="cmd-2",
    )
    assert change is not None
    assert (change.wallet.version, change.wallet.event_seq) == (wallet.version + 1, 2)
    assert change.event.event_type is EventType.WALLET_UPDATED
    assert change.event.data.custom_name == "renamed"
    assert change.event.data.risk_limits.max_open_orders == 3
    assert change.wallet.updated_at == later
    assert change.wallet.created_at == NOW


def test_rekey_with_wrong_credential_names_is_refused() -> None:
    wallet = opened(provider(), tokens("api_key", "api_secret")).wallet
    with pytest.raises(ServiceError) as info:
        update_wallet(
            wallet,
            UserWalletUpdate.model_validate({"credentials": {"api_key": "x"}}),
            provider=provider(),
            credentials=tokens("api_key"),
            now=NOW,
            correlation_id=None,
        )
    assert info.value.code is ErrorCode.INVALID_CREDENTIALS


def test_delete_is_soft_and_emits_deleted_event() -> None:
    wallet = opened().wallet
    change = delete_wallet(wallet, now=NOW, correlation_id=None)
    assert change.wallet.deleted_at == NOW
    assert change.event.event_type is EventType.WALLET_DELETED
    assert change.event.sequence == wallet.event_seq + 1


def test_fingerprint_ignores_credential_values_but_not_names_or_fields() -> None:
    a = create_fingerprint(body(credentials={"api_key": "one"}))
    assert a == create_fingerprint(body(credentials={"api_key": "two"}))
    assert a != create_fingerprint(body(credentials={"api_secret": "one"}))
    assert a != create_fingerprint(body(custom_name="other", credentials={"api_key": "one"}))
