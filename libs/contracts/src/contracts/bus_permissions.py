"""Who may publish and subscribe what on the bus: one NATS user per service, derived from the subjects.

``render_authorization(prefix)`` turns the table into a nats-server ``authorization`` block (the file
``deploy/nats/permissions.conf`` is its output for the default prefix; ``moniqo run --secure-bus`` renders
it for the prefix in use). Passwords are never in the file: each user's is the environment variable
``BusUser.password_env`` of the nats-server process (``password: $NATS_GATEWAY_PASSWORD``).

What the table encodes (least privilege, from who calls whom in the code):

- a service answers requests only on its own ``svc.<service>.>`` subjects, only in its queue group, and
  may reply to what it received (``allow_responses``);
- it sends only the commands it really calls: the gateway the user-facing ones (never
  ``svc.registry.wallets.connector(s)``, which answer with decrypted credentials), balance-sync the
  registry's connector(s) / active-wallet pages and DemoWallet's ``svc.exchange.balances.get`` / ``.batch``
  (a batch of sync jobs asks once for many wallets), the registry
  ``svc.exchange.accounts.sync`` and the connection test's ``svc.exchange.ping``;
- it publishes only its own events (``evt.<domain>.>``) and dead letters of what it consumes;
- only the market feed publishes ticks; demo-exchange (and the read-only operator) read them;
- JetStream API access is per stream: create/update the streams it declares, create/read/pull its
  consumers and ack their messages. Consumer names carry the deployment prefix but NATS wildcards match
  whole tokens only, so consumers are scoped by stream, not by name. No user may delete or purge a stream.
- replies come back on a per-user inbox prefix, ``_INBOX_<user>.>`` (``inbox_prefix``; the services
  derive it from the user in their ``NATS_URL``), which only that user may subscribe to: no other
  credential can read the registry's connector replies (decrypted credentials) or the gateway's replies.
  Services also subscribe to ``_INBOX.>``: FastStream's pull subscribers fetch into ``_INBOX.<id>``
  whatever the connection's prefix, so JetStream deliveries (events, sync jobs — never replies) use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from contracts.subjects import (
    EVENTS_STREAM,
    TICKS_WILDCARD,
    Exchange,
    QueueGroup,
    Registry,
    Sync,
    subject_matches,
)

INBOX: Final = "_INBOX.>"
"""The default inbox: JetStream pull deliveries of every service (and any plain client's replies)."""
URL_SAFE_PASSWORD: Final = re.compile(r"^[A-Za-z0-9._~-]{16,}$")
"""nats-py takes the password from the URL as it is written (no percent-decoding): keep it URL-safe."""
JS_API: Final = "$JS.API"


@dataclass(frozen=True)
class BusUser:
    name: str
    password_env: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    allow_responses: bool = False
    note: str = ""

    def can_publish(self, subject: str) -> bool:
        return any(subject_matches(p, subject) for p in self.publish)

    def can_subscribe(self, subject: str, queue: str | None = None) -> bool:
        for entry in self.subscribe:
            pattern, _, group = entry.partition(" ")
            if subject_matches(pattern, subject) and (not group or group == queue):
                return True
        return False


@dataclass(frozen=True)
class BusPermissions:
    prefix: str
    users: dict[str, BusUser] = field(default_factory=dict)

    def __getitem__(self, name: str) -> BusUser:
        return self.users[name]


def inbox_prefix(user: str) -> str:
    """The inbox prefix of one bus user's connection: its replies arrive on ``_INBOX_<user>.<id>``."""
    return f"_INBOX_{user}"


def own_inbox(user: str) -> str:
    return f"{inbox_prefix(user)}.>"


def inbox_prefix_for_url(url: str) -> str:
    """``_INBOX_<user>`` when the (first) server URL carries a user, else the default ``_INBOX``."""
    first = url.split(",", 1)[0].strip()
    authority = first.partition("://")[2].split("/", 1)[0] if "://" in first else first.split("/", 1)[0]
    userinfo = authority.rpartition("@")[0]
    user = userinfo.partition(":")[0] if ":" in userinfo else ""
    return inbox_prefix(user) if user else "_INBOX"


def stream_admin(stream: str) -> tuple[str, ...]:
    """Declare (create if missing, bring up to date) one stream; no delete, no purge."""
    return tuple(f"{JS_API}.STREAM.{verb}.{stream}" for verb in ("INFO", "CREATE", "UPDATE"))


def consume(stream: str) -> tuple[str, ...]:
    """Durable pull consumers on one stream: create / look up / pull, and ack what they got."""
    return (
        f"{JS_API}.CONSUMER.CREATE.{stream}",
        f"{JS_API}.CONSUMER.CREATE.{stream}.>",
        f"{JS_API}.CONSUMER.DURABLE.CREATE.{stream}.>",
        f"{JS_API}.CONSUMER.INFO.{stream}.>",
        f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.>",
        f"$JS.ACK.{stream}.>",
    )


def watch(stream: str) -> tuple[str, ...]:
    """Ephemeral ordered push consumers (the gateway's SSE, an operator's ``nats sub``), flow control."""
    return (
        f"{JS_API}.CONSUMER.CREATE.{stream}",
        f"{JS_API}.CONSUMER.CREATE.{stream}.>",
        f"{JS_API}.CONSUMER.DELETE.{stream}.>",
        f"$JS.FC.{stream}.>",
    )


# What every ServiceRuntime does at start: declare the events and dead-letter streams.
SERVICE_STREAMS: Final = (*stream_admin(EVENTS_STREAM), *stream_admin(Sync.DLQ_STREAM))

GATEWAY_COMMANDS: Final = (
    Registry.PROVIDERS_LIST,
    Registry.PROVIDERS_GET,
    Registry.WALLETS_CREATE,
    Registry.WALLETS_LIST,
    Registry.WALLETS_GET,
    Registry.WALLETS_UPDATE,
    Registry.WALLETS_DELETE,
    Registry.WALLETS_TEST,
    Exchange.MARKET_SYMBOLS,
    Exchange.MARKET_TICKER,
    Exchange.ORDERS_PLACE,
    Exchange.ORDERS_CANCEL,
    Exchange.ORDERS_GET,
    Exchange.ORDERS_LIST,
    Exchange.TRADES_LIST,
    Exchange.BALANCES_GET,
    Exchange.ACCOUNTS_RESET,
    Exchange.FUNDS_DEPOSIT,
    Exchange.FUNDS_WITHDRAW,
    Sync.RUN,
    Sync.LOGS,
)
"""The commands behind the HTTP routes (nothing internal: no connector, no active-wallet pages)."""

USER_ORDER: Final = (
    "gateway",
    "wallet-registry",
    "demo-exchange",
    "balance-sync",
    "market-feed",
    "operator",
)


def password_env(user: str) -> str:
    return f"NATS_{user.upper().replace('-', '_')}_PASSWORD"


def bus_permissions(prefix: str = "moniqo") -> BusPermissions:
    """The permission table for one deployment (``MONGODB_DB_PREFIX`` names its sync stream)."""
    sync_stream = Sync.stream(prefix)
    users = [
        BusUser(
            "gateway",
            password_env("gateway"),
            publish=(*GATEWAY_COMMANDS, *watch(EVENTS_STREAM)),
            subscribe=(own_inbox("gateway"),),
            note="HTTP routes → commands; SSE reads MONIQO_EVENTS through ordered consumers",
        ),
        BusUser(
            "wallet-registry",
            password_env("wallet-registry"),
            publish=(
                Exchange.ACCOUNTS_SYNC,
                Exchange.PING,
                "evt.wallet.>",
                "dlq.evt.>",
                *SERVICE_STREAMS,
                *consume(EVENTS_STREAM),
            ),
            subscribe=(f"svc.registry.> {QueueGroup.WALLET_REGISTRY}", own_inbox("wallet-registry"), INBOX),
            allow_responses=True,
            note="opens demo accounts; the connection test pings demo-exchange (DemoWallet.ping)",
        ),
        BusUser(
            "demo-exchange",
            password_env("demo-exchange"),
            publish=(
                "evt.order.>",
                "evt.trade.>",
                "evt.balance.changed.>",
                "dlq.evt.>",
                *SERVICE_STREAMS,
                *consume(EVENTS_STREAM),
            ),
            subscribe=(
                f"svc.exchange.> {QueueGroup.DEMO_EXCHANGE}",
                TICKS_WILDCARD,
                own_inbox("demo-exchange"),
                INBOX,
            ),
            allow_responses=True,
            note="calls no other service",
        ),
        BusUser(
            "balance-sync",
            password_env("balance-sync"),
            publish=(
                Registry.WALLETS_CONNECTOR,
                Registry.WALLETS_CONNECTORS,
                Registry.WALLETS_ACTIVE,
                Exchange.BALANCES_GET,
                Exchange.BALANCES_BATCH,
                "evt.balance.synced.>",
                Sync.subjects(prefix),
                "dlq.evt.>",
                f"dlq.{Sync.subjects(prefix)}",
                *SERVICE_STREAMS,
                *stream_admin(sync_stream),
                *consume(EVENTS_STREAM),
                *consume(sync_stream),
            ),
            subscribe=(f"svc.sync.> {QueueGroup.BALANCE_SYNC}", own_inbox("balance-sync"), INBOX),
            allow_responses=True,
            note="registry: connector(s), active wallets; DemoWallet balances (one or many); its work queue",
        ),
        BusUser(
            "market-feed",
            password_env("market-feed"),
            publish=(TICKS_WILDCARD,),
            subscribe=(),
            note="publishes ticks, nothing else",
        ),
        BusUser(
            "operator",
            password_env("operator"),
            publish=(
                Sync.STATS,
                f"{JS_API}.INFO",
                f"{JS_API}.STREAM.NAMES",
                f"{JS_API}.STREAM.LIST",
                f"{JS_API}.STREAM.INFO.*",
                f"{JS_API}.CONSUMER.NAMES.*",
                f"{JS_API}.CONSUMER.LIST.*",
                f"{JS_API}.CONSUMER.INFO.*.*",
                f"{JS_API}.STREAM.MSG.GET.{EVENTS_STREAM}",
                f"{JS_API}.STREAM.MSG.GET.{Sync.DLQ_STREAM}",
                *watch(EVENTS_STREAM),
                *watch(Sync.DLQ_STREAM),
            ),
            subscribe=(INBOX, "evt.>", TICKS_WILDCARD, Sync.DLQ_WILDCARD),
            note="read-only: `moniqo sync stats`, `nats sub 'evt.>'`, stream/consumer info, dead letters",
        ),
    ]
    return BusPermissions(prefix, {u.name: u for u in users})


def _permission(kind: str, subjects: tuple[str, ...]) -> list[str]:
    if not subjects:
        return [f'        {kind}: {{ deny: [">"] }}']
    return [f"        {kind}: {{ allow: [", *(f'          "{s}"' for s in subjects), "        ] }"]


def render_authorization(prefix: str = "moniqo") -> str:
    """The nats-server ``authorization`` block; passwords are ``$NATS_<USER>_PASSWORD`` references."""
    table = bus_permissions(prefix)
    lines = [
        "# Generated from contracts.bus_permissions (`moniqo bus-permissions --prefix "
        f"{prefix}`): do not edit by hand.",
        "# One user per service; each password comes from the nats-server's environment.",
        "authorization {",
        "  users = [",
    ]
    for name in USER_ORDER:
        user = table[name]
        lines += [
            f"    # {user.name}: {user.note}",
            "    {",
            f'      user: "{user.name}"',
            f"      password: ${user.password_env}",
            "      permissions: {",
            *_permission("publish", user.publish),
            *_permission("subscribe", user.subscribe),
            *(["        allow_responses: true"] if user.allow_responses else []),
            "      }",
            "    }",
        ]
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


def with_credentials(url: str, user: str, password: str) -> str:
    """``nats://host:4222`` → ``nats://user:password@host:4222`` for each comma-separated server."""
    if not URL_SAFE_PASSWORD.match(password):
        raise ValueError(f"the NATS password of {user!r} must be 16+ URL-safe characters ([A-Za-z0-9._~-])")
    out = []
    for server in (s.strip() for s in url.split(",") if s.strip()):
        scheme, sep, rest = server.partition("://")
        if not sep:
            scheme, sep, rest = "nats", "://", server
        authority = rest.split("/", 1)[0]
        host = authority.rpartition("@")[2]
        out.append(f"{scheme}{sep}{user}:{password}@{host}{rest[len(authority) :]}")
    return ",".join(out)


def redact_url(url: str) -> str:
    """A server URL fit for logs: any ``user:password@`` becomes ``user:***@`` (a bare token ``***@``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority = rest.split("/", 1)[0]
    if "@" not in authority:
        return url
    userinfo, _, host = authority.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:***" if colon else "***"
    return f"{scheme}{sep}{shown}@{host}{rest[len(authority) :]}"
