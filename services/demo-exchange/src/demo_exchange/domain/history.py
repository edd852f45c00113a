"""One page of a wallet's trades from its two sources: the history collection and the account's outbox.

A trade is committed into the outbox with its account and reaches the history collection when it is
relayed, after the reply; until then it is only in the outbox, and for a moment it may be in both. The
page is the union, newest (highest sequence) first, each trade once.
"""

from __future__ import annotations

from collections.abc import Iterable


def newest_first[T](
    stored: Iterable[tuple[int, str, T]],
    pending: Iterable[tuple[int, str, T]],
    *,
    limit: int,
    below: int | None = None,
) -> tuple[list[T], int | None]:
    """``(seq, id, item)`` from history (at most ``limit + 1``, newest first, already below the cursor)
    and from the outbox; returns the page and the sequence to continue below, if there is more."""
    merged: dict[str, tuple[int, T]] = {}
    for seq, item_id, item in (*stored, *pending):
        if below is None or seq < below:
            merged[item_id] = (seq, item)
    ordered = sorted(merged.values(), key=lambda pair: pair[0], reverse=True)
    page = ordered[:limit]
    more = len(ordered) > limit
    return [item for _, item in page], (page[-1][0] if more and page else None)
