"""The page of trades merged from history and the outbox (pure): each trade once, newest first, and
walking the pages visits every trade exactly once whatever the overlap of the two sources."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from demo_exchange.domain.history import newest_first


def test_a_trade_in_both_sources_is_listed_once_newest_first() -> None:
    stored = [(3, "c", "C"), (2, "b", "B"), (1, "a", "A")]
    pending = [(4, "d", "D"), (3, "c", "C")]
    assert newest_first(stored, pending, limit=10) == (["D", "C", "B", "A"], None)


def test_a_full_page_says_where_to_continue_and_the_cursor_bounds_both_sources() -> None:
    page, below = newest_first([(3, "c", "C"), (2, "b", "B")], [(5, "e", "E"), (4, "d", "D")], limit=3)
    assert (page, below) == (["E", "D", "C"], 3)
    assert newest_first([(2, "b", "B"), (1, "a", "A")], [(5, "e", "E"), (4, "d", "D")], limit=3, below=3) == (
        ["B", "A"],
        None,
    )


@given(
    seqs=st.sets(st.integers(min_value=1, max_value=60), max_size=40),
    split=st.integers(min_value=0, max_value=60),
    overlap=st.integers(min_value=0, max_value=5),
    limit=st.integers(min_value=1, max_value=7),
)
def test_walking_the_pages_visits_every_trade_once(
    seqs: set[int], split: int, overlap: int, limit: int
) -> None:
    """History holds the older trades, the outbox the newer ones (some relayed already: in both)."""
    ordered = sorted(seqs)
    stored_all = [s for s in ordered if s <= split + overlap]
    pending_all = [s for s in ordered if s > split]
    seen: list[int] = []
    below: int | None = None
    while True:
        stored = [(s, str(s), s) for s in reversed(stored_all) if below is None or s < below][: limit + 1]
        page, below = newest_first(stored, [(s, str(s), s) for s in pending_all], limit=limit, below=below)
        seen += page
        if below is None:
            break
    assert seen == sorted(seqs, reverse=True)
