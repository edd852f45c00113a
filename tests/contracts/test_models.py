"""Contract models are frozen and closed; secrets stay redacted except on the internal wire."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from contracts.wallets import CreateUserWallet, UserWalletCreate, UserWalletUpdate
from tests.support.factories import binance_wallet_body


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        UserWalletCreate.model_validate(
            {"wallet_provider_id": "demo-v1", "custom_name": "x", "user_id": "mallory"}
        )


def test_models_are_frozen() -> None:
    body = UserWalletCreate.model_validate({"wallet_provider_id": "demo-v1", "custom_name": "x"})
    with pytest.raises(ValidationError):
        body.custom_name = "y"  # type: ignore[misc]


def test_credential_values_are_redacted_in_repr_and_python_dumps() -> None:
    raw = binance_wallet_body()
    body = UserWalletCreate.model_validate(raw)
    secret = raw["credentials"]["api_secret"]
    assert secret not in repr(body)
    assert secret not in str(body.model_dump())


def test_credential_values_travel_in_the_internal_command_json() -> None:
    raw = binance_wallet_body()
    cmd = CreateUserWallet(command_id="c1", user_id="u1", body=UserWalletCreate.model_validate(raw))
    again = CreateUserWallet.model_validate_json(cmd.model_dump_json())
    assert again.body.credentials is not None
    assert again.body.credentials["api_key"].get_secret_value() == raw["credentials"]["api_key"]


@pytest.mark.parametrize("body", [{}, {"custom_name": None}, {"is_active": None}])
def test_update_needs_at_least_one_non_null_field(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        UserWalletUpdate.model_validate(body)


def test_custom_name_is_trimmed_and_must_not_be_blank() -> None:
    assert (
        UserWalletCreate.model_validate({"wallet_provider_id": "demo-v1", "custom_name": "  a "}).custom_name
        == "a"
    )
    with pytest.raises(ValidationError):
        UserWalletCreate.model_validate({"wallet_provider_id": "demo-v1", "custom_name": "   "})


def test_credential_value_that_is_not_valid_utf8_text_is_refused() -> None:
    with pytest.raises(ValidationError, match="valid UTF-8"):
        UserWalletCreate.model_validate(
            {"wallet_provider_id": "binance-v1", "custom_name": "b", "credentials": {"api_key": "a\ud800"}}
        )
