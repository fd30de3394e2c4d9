"""The python-telegram-bot `Application` shared by long polling and the webhook."""

from __future__ import annotations

import logging
from typing import Final

from telegram import BotCommand
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from assistant.errors import AiguillageError
from assistant.runtime import Runtime
from connectors.telegram.handlers import COMMANDS, TelegramApp, TelegramConnector

__all__ = [
    "DEFAULT_BASE_URL",
    "TelegramStartError",
    "build_application",
    "register_commands",
    "run_polling",
]

DEFAULT_BASE_URL: Final = "https://api.telegram.org/bot"


async def register_commands(application: TelegramApp) -> None:
    """Show the commands in Telegram's menu (run once at start-up)."""
    await application.bot.set_my_commands(
        [BotCommand(name, description) for name, (_text, description) in COMMANDS.items()]
    )


def build_application(
    runtime: Runtime, token: str, base_url: str = DEFAULT_BASE_URL
) -> TelegramApp:
    """The bot: `base_url` in PTB's form (`https://api.telegram.org/bot`, or a local server)."""
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
    application: TelegramApp = (
        Application.builder()
        .token(token)
        .base_url(base_url)
        .concurrent_updates(True)
        .post_init(register_commands)
        .build()
    )
    TelegramConnector(runtime, token).register(application)
    return application


class TelegramStartError(AiguillageError):
    """The bot could not start: Telegram refused the token or could not be reached."""

    def __init__(self, message: str, invalid_token: bool = False) -> None:
        super().__init__(message)
        self.invalid_token = invalid_token


def run_polling(runtime: Runtime, token: str, base_url: str = DEFAULT_BASE_URL) -> None:
    """Serve until Ctrl-C / SIGTERM (blocking), by long polling."""
    application = build_application(runtime, token, base_url)
    try:
        application.run_polling(allowed_updates=["message", "callback_query"])
    except InvalidToken as exc:
        raise TelegramStartError(
            "Telegram refuse ce jeton (AIGUILLAGE_TELEGRAM_TOKEN).", invalid_token=True
        ) from exc
    except TelegramError as exc:
        raise TelegramStartError(f"Telegram est injoignable ({type(exc).__name__}).") from exc
