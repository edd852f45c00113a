"""Liveness and readiness (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: NATS is connected", responses={503: {"description": "not ready"}})
async def readyz(request: Request) -> JSONResponse:
    try:
        connected = bool(request.app.state.broker.connection.is_connected)
    except Exception:  # not connected yet: the broker has no connection to ask
        connected = False
    checks = {"nats": "ok" if connected else "down"}
    return JSONResponse(
        {"status": "ready" if connected else "not_ready", "checks": checks},
        status_code=200 if connected else 503,
    )
