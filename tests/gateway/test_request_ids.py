"""Generated request ids keep the uuid4-like shape clients see (32 hex digits) and never repeat."""

from __future__ import annotations

from gateway.request_id import new_id


def test_generated_request_ids_are_32_hex_digits_and_unique_across_batches() -> None:
    ids = [new_id() for _ in range(3 * 256 + 7)]  # several OS-randomness batches
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 and i == i.lower() for i in ids)
