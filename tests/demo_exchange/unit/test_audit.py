"""Money conservation (``domain.audit``): accounts driven by the real domain functions reconcile exactly;
a doubled fill, a missing trade, a wrong lock or an untracked deposit is reported."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.errors import ServiceError
from contracts.orders import OrderType, Side
from contracts.subjects import EventType
from demo_exchange.domain import account as acc
from demo_exchange.domain.account import Account, Change
from demo_exchange.domain.audit import TradeLine, audit_account
from demo_exchange.domain.ledger import Balance, Ledger
from tests.demo_exchange.unit.factories import BTC, ENGINE, NOW, D, quote, request


class Book:
    """An account and its trade history, moved only by the domain's own commands."""

    def __init__(self, **funding: str) -> None:
        amounts = {a: D(v) for a, v in funding.items()}
        self.account = Account(
            wallet_id="6650c0ffee0000000000000a",
            user_id="u1",
            ledger=Ledger.of(amounts),
            created_at=NOW,
            updated_at=NOW,
            funding=amounts,
        )
        self.trades: list[TradeLine] = []
        self._ids = 0

    def apply(self, change: Change) -> None:
        new, events = acc.build_events(change, NOW, None)
        seqs = iter(e.sequence for e in events if e.event_type is EventType.TRADE_EXECUTED)
        self.trades += [TradeLine.of(fill, next(seqs)) for fill in change.fills]
        self.account = new

    def place(
        self, type_: OrderType, side: Side, qty: str, price: str | None = None, at: str = "66000"
    ) -> None:
        self._ids += 1
        oid = f"{self._ids:024x}"
        req = request(type_, side, qty, price=price)
        self.apply(
            acc.place_order(
                self.account,
                ENGINE,
                BTC,
                req,
                order_id=oid,
                client_order_id=f"c{oid}",
                quote=quote(at),
                now=NOW,
            )
        )

    def tick(self, price: str) -> None:
        self.apply(acc.apply_tick(self.account, ENGINE, BTC, quote(price), NOW))

    def audit(self) -> list[str]:
        return list(audit_account(self.account, self.trades).problems)


def traded_book() -> Book:
    book = Book(USDT="10000")
    book.apply(acc.deposit(book.account, "USDT", D("500"), NOW))
    book.place(OrderType.MARKET, Side.BUY, "0.02")
    book.place(OrderType.LIMIT, Side.SELL, "0.01", price="70000")
    book.place(OrderType.LIMIT, Side.BUY, "0.01", price="60000")
    book.tick("70000")
    book.apply(acc.withdraw(book.account, "USDT", D("100.5"), NOW))
    return book


def test_deposits_trades_fees_locks_and_withdrawals_reconcile_exactly() -> None:
    book = traded_book()
    report = audit_account(book.account, book.trades)
    assert report.ok, report.problems
    assert report.trades == 2
    usdt = next(line for line in report.assets if line.asset == "USDT")
    assert usdt.funded == D("10399.5")
    assert usdt.fees > 0
    assert usdt.locked == usdt.locked_by_orders > 0  # the resting buy at 60000
    assert usdt.total == usdt.funded + usdt.traded


def test_a_fill_recorded_twice_is_reported() -> None:
    book = traded_book()
    problems = audit_account(book.account, [*book.trades, book.trades[0]]).problems
    assert any("has 2 fills" in p for p in problems)
    assert any("recorded 2 times" in p for p in problems)


def test_a_trade_missing_from_the_history_breaks_conservation() -> None:
    book = traded_book()
    problems = audit_account(book.account, book.trades[1:]).problems
    assert any(p.startswith("BTC: total") for p in problems)
    assert any(p.startswith("USDT: total") for p in problems)


def test_a_balance_credited_without_a_deposit_record_is_reported() -> None:
    book = traded_book()
    book.account = replace(book.account, ledger=book.account.ledger.credit("USDT", D("0.00000001")))
    problems = book.audit()
    assert len(problems) == 1
    assert problems[0].startswith("USDT: total")


def test_locked_funds_no_open_order_holds_are_reported() -> None:
    book = traded_book()
    usdt = book.account.ledger.get("USDT")
    leaked = Ledger({**book.account.ledger.balances, "USDT": Balance(usdt.free - 1, usdt.locked + 1)})
    book.account = replace(book.account, ledger=leaked)
    assert any(p.startswith("USDT: locked") for p in book.audit())


def test_a_reset_starts_the_reconciliation_afresh() -> None:
    book = traded_book()
    book.apply(acc.reset_account(book.account, ENGINE, {"USDT": D("5000"), "ETH": D("2")}, NOW))
    book.place(OrderType.MARKET, Side.BUY, "0.01")
    report = audit_account(book.account, book.trades)
    assert report.ok, report.problems
    assert report.trades == 1  # the trades before the reset are history, not this ledger's


def test_an_account_without_a_funding_record_cannot_be_audited() -> None:
    book = traded_book()
    book.account = replace(book.account, funding=None)
    assert book.audit() == ["no funding record (stored by an older version)"]


OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("deposit"), st.sampled_from(["USDT", "BTC"]), st.sampled_from(["0.5", "250", "1000"])
        ),
        st.tuples(
            st.just("withdraw"), st.sampled_from(["USDT", "BTC"]), st.sampled_from(["0.01", "100", "9000"])
        ),
        st.tuples(st.just("market"), st.sampled_from(list(Side)), st.sampled_from(["0.001", "0.05", "0.3"])),
        st.tuples(
            st.just("limit"), st.sampled_from(list(Side)), st.sampled_from(["64000", "66000", "68000"])
        ),
        st.tuples(st.just("tick"), st.just(""), st.sampled_from(["63000", "66000", "69000"])),
        st.tuples(st.just("cancel"), st.just(""), st.just("")),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(ops=OPS)
def test_any_sequence_of_commands_keeps_money_conserved(ops: list[tuple[str, str, str]]) -> None:
    book = Book(USDT="20000")
    for op, arg, value in ops:
        try:
            if op == "deposit":
                book.apply(acc.deposit(book.account, str(arg), D(value), NOW))
            elif op == "withdraw":
                book.apply(acc.withdraw(book.account, str(arg), D(value), NOW))
            elif op == "market":
                book.place(OrderType.MARKET, Side(arg), value)
            elif op == "limit":
                book.place(OrderType.LIMIT, Side(arg), "0.01", price=value)
            elif op == "tick":
                book.tick(value)
            elif book.account.open_orders:
                first = min(book.account.open_orders.values(), key=lambda o: o.id)
                book.apply(acc.cancel_order(book.account, ENGINE, first, NOW))
        except ServiceError:
            continue  # refused (insufficient funds …): a refusal changes nothing
        assert book.audit() == []
