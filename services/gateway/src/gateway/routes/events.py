"""``GET /api/v1/events``: Server-Sent Events of the caller's own wallets' events from ``MONIQO_EVENTS``.

Each SSE ``id`` is the event's position in the stream; ``Last-Event-ID`` (or ``?after=`` /
``?since_sequence=``) resumes right after it. Every event is checked against the caller's user id before
it is sent, so another user's event never leaves the gateway.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable
from typing import Annotated

import nats.errors
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext

from contracts.errors import ErrorCode, ServiceError
from contracts.subjects import EVENTS_STREAM, EVENTS_WILDCARD, Registry
from contracts.wallets import GetUserWallet, UserWallet
from gateway.auth import UserIdDep
from gateway.deps import BusDep
from gateway.problems import problem_responses
from gateway.routes.wallets import wallet_id_or_404

router = APIRouter(prefix="/api/v1", tags=["events"], responses=problem_responses(401, 404, 422, 503))


async def event_filter(bus: BusDep, user_id: UserIdDep, wallet_id: str | None = None) -> str:
    """The subject filter; a wallet that is not the caller's is a 404 before the stream starts."""
    if wallet_id is None:
        return EVENTS_WILDCARD
    wid = wallet_id_or_404(wallet_id)
    await bus.request(Registry.WALLETS_GET, GetUserWallet(user_id=user_id, wallet_id=wid), UserWallet)
    return f"evt.*.*.{wid}"


MAX_POSITION = 2**63 - 2  # JetStream stream sequences are uint64
_POSITION = re.compile(r"^[0-9]{1,19}$")
Position = Annotated[
    int | None, Query(ge=0, le=MAX_POSITION, description="resume after this stream position")
]


def resume_position(
    after: Position = None,
    since_sequence: Annotated[int | None, Query(ge=0, le=MAX_POSITION, description="same as after")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> int | None:
    """Where to resume. ``Last-Event-ID`` wins: an EventSource reconnects to the same URL (with its
    original ``?after=``) and adds the header, so the header is the newer information."""
    if last_event_id is not None and _POSITION.fullmatch(last_event_id.strip()):
        header = int(last_event_id.strip())
        if header <= MAX_POSITION:
            return header
    return after if after is not None else since_sequence


async def subscription(
    request: Request,
    subject: Annotated[str, Depends(event_filter)],
    resume: Annotated[int | None, Depends(resume_position)],
) -> JetStreamContext.PushSubscription:
    """Opened before the response starts, so a refusal is still a proper problem+json answer."""
    config = (
        ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=resume + 1)
        if resume is not None
        else ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
    )
    js = request.app.state.broker.connection.jetstream()
    try:
        sub: JetStreamContext.PushSubscription = await js.subscribe(
            subject, stream=EVENTS_STREAM, ordered_consumer=True, config=config
        )
    except nats.errors.Error as exc:
        raise ServiceError(
            ErrorCode.SERVICE_UNAVAILABLE, f"the event stream is not available: {type(exc).__name__}"
        ) from None
    return sub


@router.get(
    "/events",
    response_class=EventSourceResponse,
    summary="Stream my wallets' events (text/event-stream); resume with Last-Event-ID",
)
async def events(
    user_id: UserIdDep,
    sub: Annotated[JetStreamContext.PushSubscription, Depends(subscription)],
) -> AsyncIterable[ServerSentEvent]:
    try:
        async for msg in sub.messages:
            try:
                event = json.loads(msg.data)
            except ValueError:
                continue
            if not isinstance(event, dict) or event.get("user_id") != user_id:
                continue  # never another user's event
            yield ServerSentEvent(
                raw_data=msg.data.decode(),
                event=str(event.get("event_type")),
                id=str(msg.metadata.sequence.stream),
            )
    finally:
        await sub.unsubscribe()
