"""``GET /api/v1/events``: Server-Sent Events of the caller's own wallets' events from ``MONIQO_EVENTS``.

Each SSE ``id`` is the event's position in the stream; ``Last-Event-ID`` (or ``?after=`` /
``?since_sequence=``) resumes right after it. Every event is checked against the caller's user id before
it is sent, so another user's event never leaves the gateway.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from nats.js.api import ConsumerConfig, DeliverPolicy

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


@router.get(
    "/events",
    response_class=EventSourceResponse,
    summary="Stream my wallets' events (text/event-stream); resume with Last-Event-ID",
)
async def events(
    request: Request,
    user_id: UserIdDep,
    subject: Annotated[str, Depends(event_filter)],
    after: Annotated[int | None, Query(ge=0, description="resume after this stream position")] = None,
    since_sequence: Annotated[int | None, Query(ge=0, description="same as after")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> AsyncIterable[ServerSentEvent]:
    resume = after if after is not None else since_sequence
    if resume is None and last_event_id is not None and last_event_id.strip().isdigit():
        resume = int(last_event_id.strip())
    config = (
        ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=resume + 1)
        if resume is not None
        else ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
    )
    js = request.app.state.broker.connection.jetstream()
    sub = await js.subscribe(subject, stream=EVENTS_STREAM, ordered_consumer=True, config=config)
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
