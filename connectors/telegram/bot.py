"""The Telegram connector: one chat is one session of the conversation core.

Long polling (`aiguillage telegram`, `TelegramChannel.run`) and webhooks (`webhook_router`,
mounted by the web app) share the same python-telegram-bot `Application` built by
`build_application`. The connector is split by concern:

- `render`: a reply's typed parts as MarkdownV2 messages under Telegram's size limit;
- `output`: the `OutputChannel` for one chat, and the quick replies' inline buttons;
- `handlers`: commands, messages and button presses, turned into turns of the core;
- `application`: the PTB application and long polling;
- `webhook`: the FastAPI router receiving Telegram's webhook calls.

This module is the connector's public face: other code imports from here.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter

from assistant.runtime import Runtime
from connectors.telegram.application import (
    DEFAULT_BASE_URL,
    TelegramStartError,
    build_application,
    register_commands,
    run_polling,
)
from connectors.telegram.handlers import (
    APOLOGY,
    COMMANDS,
    NOT_TEXT,
    STALE_BUTTON,
    UNKNOWN_COMMAND,
    TelegramApp,
    TelegramConnector,
    session_id_for,
)
from connectors.telegram.output import QuickReplyButtons, TelegramOutput
from connectors.telegram.render import (
    MESSAGE_LIMIT,
    escaped_len,
    render_chunks,
    split_text,
    utf16_len,
)
from connectors.telegram.webhook import SECRET_HEADER, webhook_router

__all__ = [
    "APOLOGY",
    "COMMANDS",
    "DEFAULT_BASE_URL",
    "MESSAGE_LIMIT",
    "NOT_TEXT",
    "SECRET_HEADER",
    "STALE_BUTTON",
    "UNKNOWN_COMMAND",
    "QuickReplyButtons",
    "TelegramApp",
    "TelegramChannel",
    "TelegramConnector",
    "TelegramOutput",
    "TelegramStartError",
    "build_application",
    "escaped_len",
    "register_commands",
    "render_chunks",
    "run_polling",
    "session_id_for",
    "split_text",
    "utf16_len",
    "webhook_router",
]


class TelegramChannel:
    """Telegram as an `InputChannel`: it runs by long polling, or mounts as a webhook."""

    name: Final = "telegram"

    def __init__(self, runtime: Runtime, token: str, base_url: str = DEFAULT_BASE_URL) -> None:
        self.runtime = runtime
        self._token = token
        self.base_url = base_url

    def run(self) -> None:
        """Long polling until Ctrl-C / SIGTERM; raises `TelegramStartError` if it cannot start."""
        run_polling(self.runtime, self._token, self.base_url)

    def router(self, path: str = "/telegram/webhook") -> APIRouter:
        """The webhook, for the web app to mount (secret checked on every call)."""
        application = build_application(self.runtime, self._token, self.base_url)
        return webhook_router(self.runtime, application, path)
