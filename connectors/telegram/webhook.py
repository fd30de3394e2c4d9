"""Telegram's webhook: a FastAPI router the web app mounts (`aiguillage serve`)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Request, Response
from telegram import Update

from assistant.runtime import Runtime
from connectors.telegram.application import build_application
from connectors.telegram.handlers import TelegramApp

__all__ = ["SECRET_HEADER", "webhook_router"]

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"

log = logging.getLogger(__name__)


class _WebhookBot:
    """Builds and initialises the application on the first authorised update; web start-up
    must not depend on Telegram being reachable."""

    def __init__(self, runtime: Runtime, application: TelegramApp | None) -> None:
        self.runtime = runtime
        self.application = application
        self._initialized = False
        self._lock = asyncio.Lock()

    async def ready(self) -> TelegramApp | None:
        async with self._lock:
            if self.application is None:
                settings = self.runtime.settings
                token = (
                    settings.telegram_token.get_secret_value() if settings.telegram_token else ""
                )
                if not token:
                    return None
                self.application = build_application(
                    self.runtime, token, settings.telegram_base_url
                )
            if not self._initialized:
                await self.application.initialize()
                self._initialized = True
            return self.application

    async def close(self) -> None:
        if self.application is not None and self._initialized:
            await self.application.shutdown()
            self._initialized = False


def _authorised(runtime: Runtime, request: Request) -> bool:
    expected = runtime.settings.telegram_webhook_secret
    given = request.headers.get(SECRET_HEADER, "")
    return expected is not None and hmac.compare_digest(
        given.encode(), expected.get_secret_value().encode()
    )


async def _update_of(request: Request, app: TelegramApp) -> Update:
    try:
        payload = await request.json()
    except ValueError as exc:
        raise HTTPException(status_code=400, detail="invalid JSON") from exc
    if not isinstance(payload, dict):
        raise HTTPException(status_code=400, detail="invalid update")
    try:
        return Update.de_json(payload, app.bot)
    except (KeyError, TypeError, ValueError) as exc:
        raise HTTPException(status_code=400, detail="invalid update") from exc


def webhook_router(
    runtime: Runtime,
    application: TelegramApp | None = None,
    path: str = "/telegram/webhook",
) -> APIRouter:
    """A FastAPI router receiving Telegram's webhook calls at `path`.

    Only requests carrying `X-Telegram-Bot-Api-Secret-Token` equal to
    `settings.telegram_webhook_secret` are accepted (403 otherwise, and always when no secret
    is configured). The application is built from the settings unless one is given.
    """
    bot = _WebhookBot(runtime, application)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        await bot.close()

    router = APIRouter(lifespan=lifespan)

    @router.post(path, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        if not _authorised(runtime, request):
            raise HTTPException(status_code=403, detail="forbidden")
        app = await bot.ready()
        if app is None:
            raise HTTPException(status_code=503, detail="telegram is not configured")
        update = await _update_of(request, app)
        # Telegram retries an update on any non-2xx or timeout, and a proxy may send it to
        # another replica: the shared store lets one handler take it, once.
        store = runtime.conversation.store
        first = await asyncio.to_thread(store.claim_once, f"telegram-update:{update.update_id}")
        if not first:
            log.info("telegram update already handled")
            return Response(status_code=200)
        # Handlers catch their own errors; errors left over go to PTB's error handler.
        await app.process_update(update)
        return Response(status_code=200)

    return router
