"""The update handlers: one chat is one session of the conversation core.

- Session ids are a keyed hash of the chat id (key: the bot token), so a session id cannot be
  derived from a chat id without the token, and no chat id is stored next to the transcript.
- The core runs in worker threads; a chat's turns run one at a time, chats concurrently.
- Logs carry action names and error types, never message text or chat ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
import weakref
from typing import Any, Final, TypeAlias

from telegram import Bot as TelegramBot
from telegram import CallbackQuery, InputFile, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from assistant.dialogue.conversation import Conversation
from assistant.errors import SessionNotFoundError
from assistant.runtime import Runtime
from connectors.base import Reply, deliver
from connectors.ratelimit import RateLimiter
from connectors.telegram.output import QuickReplyButtons, TelegramOutput

__all__ = [
    "APOLOGY",
    "COMMANDS",
    "NOT_TEXT",
    "STALE_BUTTON",
    "UNKNOWN_COMMAND",
    "Context",
    "TelegramApp",
    "TelegramConnector",
    "session_id_for",
]

log = logging.getLogger(__name__)

# PTB's Application is generic in six types we never customise.
TelegramApp: TypeAlias = "Application[Any, Any, Any, Any, Any, Any]"
Context: TypeAlias = ContextTypes.DEFAULT_TYPE

FICHE_FILENAME: Final = "fiche-aiguillage.md"
# The printable page opens in any phone browser: easier to forward or print than Markdown.
FICHE_HTML_FILENAME: Final = "fiche-aiguillage.html"
FICHE_CAPTION: Final = "Votre fiche de synthèse, à transmettre à un·e accompagnateur·rice."
SESSION_ID_HEX: Final = 48  # 192 bits, like random session ids; the store's ids are ≤ 64 chars

# Telegram command -> what the core understands (the script's `commands` list it).
COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "start": ("/start", "Commencer ou reprendre la conversation"),
    "recommencer": ("/recommencer", "Tout recommencer depuis le début"),
    "contacts": ("/contacts", "Voir mes contacts"),
    "fiche": ("/fiche", "Recevoir ma fiche de synthèse"),
    "oubli": ("/oubli", "Effacer toutes mes données"),
}

APOLOGY: Final = (
    "Désolé, un problème technique m'empêche de vous répondre pour le moment. "
    "Réessayez dans quelques minutes."
)
STALE_BUTTON: Final = (
    "Ce bouton n'est plus valable : répondez par écrit ou utilisez le dernier message."
)
NOT_TEXT: Final = (
    "Je ne lis que les messages écrits. Décrivez-moi votre projet en quelques mots, "
    "ou tapez /start."
)
UNKNOWN_COMMAND: Final = (
    "Je ne connais pas cette commande. Essayez /start, /contacts, /fiche, /recommencer ou /oubli."
)


def session_id_for(token: str, chat_id: int | str) -> str:
    """The session of a chat: unguessable without the token, stable while the token is."""
    digest = hmac.new(token.encode(), str(chat_id).encode(), hashlib.sha256).hexdigest()
    return "tg-" + digest[:SESSION_ID_HEX]


class TelegramConnector:
    """The update handlers; the core runs in worker threads, one turn at a time per chat."""

    def __init__(self, runtime: Runtime, token: str) -> None:
        self.runtime = runtime
        self._token = token
        # Updates are processed concurrently across chats, but a chat's turns must not
        # interleave (the core loads, changes and saves one state per turn).
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        rule = runtime.settings.rate_limit
        self._limiter = RateLimiter(rule) if rule.strip() else None
        self._warned: dict[int, float] = {}  # chat -> until when it was told to slow down

    def register(self, application: TelegramApp) -> None:
        application.add_handler(CommandHandler("start", self.on_start))
        for command in ("recommencer", "contacts", "fiche", "oubli"):
            application.add_handler(CommandHandler(command, self.on_command))
        application.add_handler(CallbackQueryHandler(self.on_button))
        # New messages only: an edited message would otherwise replay a turn.
        new = filters.UpdateType.MESSAGE
        application.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, self.on_text))
        application.add_handler(MessageHandler(new & filters.COMMAND, self.on_unknown_command))
        application.add_handler(
            MessageHandler(new & filters.ChatType.PRIVATE & ~filters.TEXT, self.on_not_text)
        )
        application.add_error_handler(self.on_error)

    # -- callbacks -----------------------------------------------------------------------
    async def on_start(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        async with self._lock(chat.id):
            await self._greet(chat.id, context)

    async def on_command(self, update: Update, context: Context) -> None:
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None or not message.text:
            return
        # "/fiche@SomeBot args" -> "fiche": the core knows each command by its plain form.
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        text = COMMANDS.get(name, (message.text, ""))[0]
        async with self._lock(chat.id):
            await self._turn(chat.id, context, text)

    async def on_text(self, update: Update, context: Context) -> None:
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None or not message.text:
            return
        async with self._lock(chat.id):
            await self._turn(chat.id, context, message.text)

    async def on_button(self, update: Update, context: Context) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None:
            return
        if chat is None:  # a button on a message we can no longer see
            await self._answer(query, STALE_BUTTON)
            return
        async with self._lock(chat.id):
            session_id = session_id_for(self._token, chat.id)
            offered = await asyncio.to_thread(self._offered, session_id)
            label = QuickReplyButtons().resolve(query.data or "", offered)
            await self._answer(query, STALE_BUTTON if label is None else None)
            if label is None:
                return
            try:
                # Answered buttons disappear, so an old question cannot be answered twice.
                await query.edit_message_reply_markup(reply_markup=None)
            except BadRequest as exc:  # e.g. the message is too old to edit: harmless
                log.debug("keyboard not removed (%s)", type(exc).__name__)
            await self._turn(chat.id, context, label)

    async def on_unknown_command(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is not None:
            await context.bot.send_message(chat_id=chat.id, text=UNKNOWN_COMMAND)

    async def on_not_text(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is not None:
            await context.bot.send_message(chat_id=chat.id, text=NOT_TEXT)

    async def on_error(self, update: object, context: Context) -> None:
        # The update is not logged: it holds what the user wrote and their chat id.
        error = context.error
        log.error("telegram handler failed (%s)", type(error).__name__, exc_info=error)

    # -- turns ---------------------------------------------------------------------------
    def _lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat_id] = lock
        return lock

    def _offered(self, session_id: str) -> list[str]:
        """Runs in a worker thread: the quick replies the session offers now."""
        try:
            return self.runtime.conversation.offered_replies(session_id)
        except SessionNotFoundError:
            return []

    def _open(self, session_id: str) -> tuple[Conversation, Reply]:
        """Runs in a worker thread: the first call may load the whole core."""
        conversation = self.runtime.conversation
        greeting, _created = conversation.open(session_id)
        return conversation, Reply.from_turn(greeting)

    async def _greet(self, chat_id: int, context: Context) -> None:
        output = TelegramOutput(context.bot)
        session_id = session_id_for(self._token, chat_id)
        try:
            _conversation, greeting = await asyncio.to_thread(self._open, session_id)
        except Exception:
            log.exception("telegram greeting failed")
            await self._apologise(context.bot, chat_id)
            return
        await output.send(str(chat_id), greeting)

    async def _turn(self, chat_id: int, context: Context, text: str) -> None:
        bot = context.bot
        if await self._flooding(bot, chat_id):
            return
        output = TelegramOutput(bot)
        session_id = session_id_for(self._token, chat_id)
        await self._typing(bot, chat_id)
        text = text[: self.runtime.settings.max_message_chars]
        try:
            conversation, _greeting = await asyncio.to_thread(self._open, session_id)
            turn = await deliver(conversation, session_id, text, output, str(chat_id))
            if turn.action == "fiche":
                fiche = await asyncio.to_thread(conversation.fiche, session_id)
                await self._send_fiche(output, chat_id, fiche.markdown, fiche.html)
        except TelegramError as exc:
            # Telegram itself is failing: an apology would fail the same way.
            log.warning("telegram send failed (%s)", type(exc).__name__)
            return
        except Exception:
            log.exception("telegram turn failed")
            await self._apologise(bot, chat_id)
            return
        if turn.action == "forget" and context.chat_data is not None:
            # The core erased the session; nothing derived from it stays in memory either.
            context.chat_data.clear()
        log.info("telegram turn", extra={"action": turn.action})

    async def _flooding(self, bot: TelegramBot, chat_id: int) -> bool:
        """Too many messages from this chat: say so once per wait, and drop the message."""
        seconds = self._limiter.wait(f"chat:{chat_id}") if self._limiter else 0
        if not seconds:
            return False
        now = time.monotonic()
        if self._warned.get(chat_id, 0.0) < now:
            self._warned[chat_id] = now + seconds
            with contextlib.suppress(TelegramError):
                await bot.send_message(chat_id, RateLimiter.message(seconds))
        log.info("telegram message dropped: rate limit")
        return True

    async def _send_fiche(
        self, output: TelegramOutput, chat_id: int, markdown: str, html: str
    ) -> None:
        page = InputFile(html.encode("utf-8"), filename=FICHE_HTML_FILENAME)
        document = InputFile(markdown.encode("utf-8"), filename=FICHE_FILENAME)
        try:
            await output.bot.send_document(chat_id=chat_id, document=page, caption=FICHE_CAPTION)
            await output.bot.send_document(chat_id=chat_id, document=document)
        except BadRequest as exc:
            # A server refusing the upload: the text itself still reaches the user.
            log.warning("fiche document refused (%s); sending text", type(exc).__name__)
            await output.send_plain(str(chat_id), markdown)

    async def _answer(self, query: CallbackQuery, notice: str | None) -> None:
        """Stop the button's spinner; a late answer is refused by Telegram, harmlessly."""
        try:
            await query.answer(notice)
        except BadRequest as exc:
            log.debug("callback query not answered (%s)", type(exc).__name__)

    async def _typing(self, bot: TelegramBot, chat_id: int) -> None:
        try:
            await bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
        except TelegramError as exc:  # cosmetic: the turn goes on without it
            log.debug("chat action failed (%s)", type(exc).__name__)

    async def _apologise(self, bot: TelegramBot, chat_id: int) -> None:
        try:
            await bot.send_message(chat_id=chat_id, text=APOLOGY)
        except TelegramError as exc:
            log.warning("apology not sent (%s)", type(exc).__name__)
