"""The encryption suite: MultiFernet round trips, fresh ciphertexts, clear refusals, rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from tests.support.factories import fernet_key
from wallet_registry.crypto import CredentialCipher, CredentialDecryptionError, KeyConfigError, parse_keys
from wallet_registry.domain.credentials import EncryptedCredentials
from wallet_registry.settings import RegistrySettings


def cipher(*keys: str) -> CredentialCipher:
    return CredentialCipher.from_env_value(",".join(keys))


@pytest.mark.parametrize("plaintext", ["k", "sécret-ünïcode-✓", "x" * 4096, "with,comma and spaces"])
def test_string_round_trip(plaintext: str) -> None:
    c = cipher(fernet_key())
    assert c.decrypt_value(c.encrypt_value(plaintext)) == plaintext


def test_credential_dict_round_trip_and_only_names_are_shown() -> None:
    c = cipher(fernet_key())
    stored = c.encrypt({"api_key": SecretStr("AK"), "api_secret": SecretStr("AS")})
    assert {k: v.get_secret_value() for k, v in c.decrypt(stored).items()} == {
        "api_key": "AK",
        "api_secret": "AS",
    }
    assert stored.names == ["api_key", "api_secret"]
    assert "AK" not in repr(stored)
    assert all(token not in repr(stored) for token in stored.tokens.values())


def test_every_encryption_gives_a_new_ciphertext() -> None:
    c = cipher(fernet_key())
    tokens = {c.encrypt_value("same") for _ in range(20)}
    assert len(tokens) == 20


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_missing_key_is_refused_with_a_clear_message(raw: str | None) -> None:
    with pytest.raises(KeyConfigError, match="ENCRYPTION_KEYS is not set"):
        parse_keys(raw)


@pytest.mark.parametrize(
    ("raw", "position"), [("not-a-key", 1), (f"{Fernet.generate_key().decode()},short", 2)]
)
def test_invalid_key_is_refused_naming_its_position(raw: str, position: int) -> None:
    with pytest.raises(KeyConfigError, match=f"key #{position} is not a valid Fernet key"):
        parse_keys(raw)


def test_stray_comma_is_refused() -> None:
    with pytest.raises(KeyConfigError, match="key #2 is empty"):
        parse_keys(f"{fernet_key()},")


def test_service_settings_refuse_a_bad_key_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEYS", "definitely-not-fernet")
    with pytest.raises(ValidationError, match="not a valid Fernet key") as info:
        RegistrySettings()
    assert "definitely-not-fernet" not in str(info.value)


def test_tampered_token_is_a_clear_error() -> None:
    c = cipher(fernet_key())
    token = c.encrypt_value("secret")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(CredentialDecryptionError, match="cannot be decrypted"):
        c.decrypt_value(tampered)


def test_foreign_token_is_a_clear_error() -> None:
    foreign = cipher(fernet_key()).encrypt_value("secret")
    with pytest.raises(CredentialDecryptionError, match="no longer in ENCRYPTION_KEYS"):
        cipher(fernet_key()).decrypt_value(foreign)


def test_old_tokens_read_after_a_new_key_is_put_first() -> None:
    key_a, key_b = fernet_key(), fernet_key()
    stored = cipher(key_a).encrypt({"api_key": SecretStr("AK")})
    assert cipher(key_b, key_a).decrypt(stored)["api_key"].get_secret_value() == "AK"


def test_rotation_reencrypts_under_the_newest_key_so_the_old_one_can_go() -> None:
    key_a, key_b = fernet_key(), fernet_key()
    stored = cipher(key_a).encrypt({"api_key": SecretStr("AK"), "api_secret": SecretStr("AS")})
    both = cipher(key_b, key_a)
    assert both.needs_rotation(stored)
    rotated = both.rotate(stored)
    assert not both.needs_rotation(rotated)
    assert rotated.tokens != stored.tokens
    only_b = cipher(key_b)
    assert only_b.decrypt(rotated)["api_secret"].get_secret_value() == "AS"
    with pytest.raises(CredentialDecryptionError):
        only_b.decrypt(stored)


def test_rotating_an_unreadable_token_is_a_clear_error() -> None:
    stored = EncryptedCredentials({"api_key": cipher(fernet_key()).encrypt_value("AK")})
    with pytest.raises(CredentialDecryptionError, match="cannot be rotated"):
        cipher(fernet_key()).rotate(stored)
