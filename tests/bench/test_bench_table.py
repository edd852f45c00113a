"""The bench's table: a failed scenario is a row saying why; an unfinished sweep says how far it got."""

from __future__ import annotations

from typing import Any

from bench.__main__ import table


def _p4(one: dict[str, Any], three: dict[str, Any]) -> dict[str, Any]:
    return {"wallets": 1000, "one_instance": one, "three_instances": three}


def _sweep(**fields: Any) -> dict[str, Any]:
    done = {"completed": True, "timeout_s": 300, "wallets_synced": 1000, "duplicates": 0, "sweep_s": 12.5}
    return done | fields


def test_a_failed_scenario_is_one_row_with_its_error_and_the_others_are_still_printed() -> None:
    results = {
        "P3": {"error": "TimeoutError: the store did not answer"},
        "P4": _p4(_sweep(), _sweep(sweep_s=9.0)),
    }

    rows = table(results)

    assert ("P3", "FAILED", "TimeoutError: the store did not answer", "") in rows
    assert [r[2] for r in rows if r[0] == "P4*"] == ["12.5", "9, 0"]


def test_an_unfinished_sweep_says_how_many_wallets_were_synced_before_the_deadline() -> None:
    unfinished = _sweep(completed=False, wallets_synced=313, sweep_s=None, duplicates=0)

    rows = table({"P4": _p4(_sweep(), unfinished)})

    three = next(r for r in rows if r[1].startswith("3 instances"))
    assert three[2] == "not finished: 313/1000 synced in 300 s, 0"
