"""The Telegram connector: one chat is one session of the conversation core.

Long polling (`aiguillage telegram`) and webhooks (`webhook_router`, mounted by the web app)
share the same python-telegram-bot `Application` built by `build_application`.

Choices worth knowing:

- Session ids are a keyed hash of the chat id (key: the bot token), so a session id cannot be
  derived from a chat id without the token, and no chat id is stored next to the transcript.
- Replies are sent as MarkdownV2 with every character escaped: the core's text is plain text,
  escaping keeps it literal, and MarkdownV2 still lets us bold the contact names. If Telegram
  ever rejects the markup, the same chunk is sent again as plain text.
- Quick replies are inline buttons whose `callback_data` is `qr:<generation>:<index>` into the
  labels last shown in that chat (kept in `chat_data`): labels may exceed the 64-byte limit,
  and a button from an older message is recognised as stale instead of answering the wrong
  question.
- Logs carry action names and error types, never message text or chat ids.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
import weakref
from collections.abc import AsyncIterator, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final, TypeAlias

from fastapi import APIRouter, HTTPException, Request, Response
from telegram import Bot as TelegramBot
from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ChatAction, MessageLimit, ParseMode
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.helpers import escape_markdown

from assistant.dialogue.conversation import Conversation
from assistant.errors import AiguillageError
from assistant.orientation.contacts import Recommendation
from assistant.runtime import Runtime
from connectors.base import Reply, deliver

__all__ = [
    "COMMANDS",
    "DEFAULT_BASE_URL",
    "SECRET_HEADER",
    "QuickReplyMemory",
    "TelegramApp",
    "TelegramOutput",
    "TelegramStartError",
    "build_application",
    "register_commands",
    "render_chunks",
    "run_polling",
    "session_id_for",
    "split_text",
    "webhook_router",
]

log = logging.getLogger(__name__)

# PTB's Application is generic in six types we never customise.
TelegramApp: TypeAlias = "Application[Any, Any, Any, Any, Any, Any]"
Context: TypeAlias = ContextTypes.DEFAULT_TYPE

DEFAULT_BASE_URL: Final = "https://api.telegram.org/bot"
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
MESSAGE_LIMIT: Final = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
# Chunks are measured escaped; the margin leaves room for the bold markers added afterwards.
SPLIT_LIMIT: Final = MESSAGE_LIMIT - 96
CALLBACK_PREFIX: Final = "qr"
FICHE_FILENAME: Final = "fiche-aiguillage.md"
# The printable page opens in any phone browser: easier to forward or print than Markdown.
FICHE_HTML_FILENAME: Final = "fiche-aiguillage.html"
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
# Several contact sites per reply: previews would bury the text (and cost data on a weak line).
NO_PREVIEW: Final = LinkPreviewOptions(is_disabled=True)
FICHE_CAPTION: Final = "Votre fiche de synthèse, à transmettre à un·e accompagnateur·rice."


def session_id_for(token: str, chat_id: int | str) -> str:
    """The session of a chat: unguessable without the token, stable while the token is."""
    digest = hmac.new(token.encode(), str(chat_id).encode(), hashlib.sha256).hexdigest()
    return "tg-" + digest[:SESSION_ID_HEX]


# -- text: splitting and MarkdownV2 ------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Telegram counts UTF-16 code units, so an emoji weighs two."""
    return len(text.encode("utf-16-le")) // 2


def escaped_len(text: str) -> int:
    return utf16_len(escape_markdown(text, version=2))


_SEPARATORS: Final = ("\n\n", "\n", " ")


def split_text(
    text: str, limit: int = SPLIT_LIMIT, measure: Callable[[str], int] = escaped_len
) -> list[str]:
    """Cut `text` into chunks of at most `limit` (as measured), on paragraph boundaries first,
    then lines, then words; a single overlong word is cut where it must be."""
    if limit < 2:
        raise ValueError("limit too small")
    chunks = _split(text.strip(), limit, measure, _SEPARATORS)
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def _split(
    text: str, limit: int, measure: Callable[[str], int], separators: Sequence[str]
) -> list[str]:
    if measure(text) <= limit:
        return [text]
    if not separators:
        return _hard_cut(text, limit, measure)
    separator, finer = separators[0], separators[1:]
    chunks: list[str] = []
    current: str | None = None
    for piece in text.split(separator):
        if measure(piece) > limit:
            if current is not None:
                chunks.append(current)
                current = None
            chunks.extend(_split(piece, limit, measure, finer))
            continue
        candidate = piece if current is None else f"{current}{separator}{piece}"
        if measure(candidate) <= limit:
            current = candidate
        else:
            if current is not None:
                chunks.append(current)
            current = piece
    if current is not None:
        chunks.append(current)
    return chunks


def _hard_cut(text: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    chunks: list[str] = []
    current, size = "", 0
    for char in text:
        cost = measure(char)  # escaping and UTF-16 length are both per character
        if size + cost > limit and current:
            chunks.append(current)
            current, size = "", 0
        current += char
        size += cost
    if current:
        chunks.append(current)
    return chunks


def to_markdown_v2(text: str, bold: Sequence[str] = ()) -> str:
    """Escape everything, then bold the given names where they head a numbered line."""
    escaped = escape_markdown(text, version=2)
    for name in bold:
        name_md = escape_markdown(name, version=2)
        pattern = re.compile(rf"^(\s*\d+\\\. ){re.escape(name_md)}$", re.MULTILINE)
        escaped = pattern.sub(_bolder(name_md), escaped, count=1)
    return escaped


def _bolder(name_md: str) -> Callable[[re.Match[str]], str]:
    # A function, not a template: the escaped name's backslashes must stay literal.
    return lambda match: f"{match.group(1)}*{name_md}*"


def contacts_text(contacts: Sequence[Recommendation]) -> str:
    """Contacts as plain text, for replies whose text does not already list them."""
    blocks: list[str] = []
    for number, contact in enumerate(contacts, start=1):
        lines = [
            f"{number}. {contact.name}",
            f"   Pourquoi : {contact.why}",
            f"   Comment le joindre : {contact.how_to_reach}",
        ]
        fields = (
            ("Site", contact.contact.website),
            ("Téléphone", contact.contact.phone),
            ("Courriel", contact.contact.email),
            ("Adresse", contact.contact.address),
        )
        lines.extend(f"   {label} : {value}" for label, value in fields if value)
        if not contact.verified:
            lines.append("   (Coordonnées à vérifier.)")
        blocks.append("\n".join(lines))
    return "Vos contacts :\n\n" + "\n\n".join(blocks)


def render_chunks(reply: Reply) -> list[tuple[str, str]]:
    """The reply as Telegram messages: (MarkdownV2, the same as plain text) per chunk."""
    text = reply.text.strip()
    missing = [c for c in reply.contacts if c.name not in text]
    if missing:
        # The core's templates list contacts; a composer that did not must not lose them.
        text = f"{text}\n\n{contacts_text(missing)}".strip()
    names = [c.name for c in reply.contacts]
    chunks = []
    for plain in split_text(text):
        markdown = to_markdown_v2(plain, names)
        if utf16_len(markdown) > MESSAGE_LIMIT:  # cannot happen with SPLIT_LIMIT's margin
            markdown = escape_markdown(plain, version=2)
        chunks.append((markdown, plain))
    return chunks


# -- quick replies -----------------------------------------------------------------------------


class QuickReplyMemory:
    """The labels behind the inline buttons last shown in one chat."""

    KEY: Final = "quick_replies"

    def __init__(self, chat_data: MutableMapping[Any, Any] | None) -> None:
        self._data: MutableMapping[Any, Any] = chat_data if chat_data is not None else {}

    def remember(self, labels: Sequence[str]) -> InlineKeyboardMarkup | None:
        """Store the labels (replacing the previous ones) and return their keyboard."""
        previous = self._data.get(self.KEY)
        # A random first generation: after a restart (chat_data is in memory), buttons of the
        # previous run do not collide with the new ones.
        generation = previous["generation"] + 1 if previous else secrets.randbelow(10**6)
        self._data[self.KEY] = {"generation": generation, "labels": list(labels)}
        if not labels:
            return None
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label, callback_data=f"{CALLBACK_PREFIX}:{generation}:{i}")]
                for i, label in enumerate(labels)
            ]
        )

    def resolve(self, callback_data: str) -> str | None:
        """The label a button stands for, or None if the button is stale or unknown."""
        parts = callback_data.split(":")
        current = self._data.get(self.KEY)
        if len(parts) != 3 or parts[0] != CALLBACK_PREFIX or not current:
            return None
        if not (parts[1].isdigit() and parts[2].isdigit()):
            return None
        generation, index = int(parts[1]), int(parts[2])
        labels: list[str] = current["labels"]
        if generation != current["generation"] or index >= len(labels):
            return None
        return labels[index]

    def forget(self) -> None:
        self._data.pop(self.KEY, None)


# -- output ------------------------------------------------------------------------------------


class TelegramOutput:
    """An `OutputChannel` over a Bot it holds (not inherits), for one chat's quick replies."""

    def __init__(self, bot: TelegramBot, memory: QuickReplyMemory) -> None:
        self.bot = bot
        self.memory = memory

    async def send(self, recipient_id: str, reply: Reply) -> None:
        chunks = render_chunks(reply) or [(escape_markdown("…", version=2), "…")]
        keyboard = self.memory.remember(reply.quick_replies)
        for position, (markdown, plain) in enumerate(chunks):
            markup = keyboard if position == len(chunks) - 1 else None
            await self._send_chunk(recipient_id, markdown, plain, markup)

    async def send_plain(self, recipient_id: str, text: str) -> None:
        """Text as is (no markup), split under the limit."""
        for chunk in split_text(text, MESSAGE_LIMIT, utf16_len):
            await self.bot.send_message(
                chat_id=recipient_id, text=chunk, link_preview_options=NO_PREVIEW
            )

    async def _send_chunk(
        self, chat_id: str, markdown: str, plain: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        try:
            await self.bot.send_message(
                chat_id=chat_id,
                text=markdown,
                parse_mode=ParseMode.MARKDOWN_V2,
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
            )
        except BadRequest as exc:
            # Most likely "can't parse entities": the plain text says the same thing.
            log.warning("markdown message refused (%s); sending plain text", type(exc).__name__)
            await self.bot.send_message(
                chat_id=chat_id, text=plain, reply_markup=markup, link_preview_options=NO_PREVIEW
            )


# -- handlers ----------------------------------------------------------------------------------


class TelegramConnector:
    """The update handlers; the core runs in worker threads, one turn at a time per chat."""

    def __init__(self, runtime: Runtime, token: str) -> None:
        self.runtime = runtime
        self._token = token
        # Updates are processed concurrently across chats, but a chat's turns must not
        # interleave (the core loads, changes and saves one state per turn).
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

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
            label = QuickReplyMemory(context.chat_data).resolve(query.data or "")
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

    def _open(self, session_id: str) -> tuple[Conversation, Reply]:
        """Runs in a worker thread: the first call may load the whole core."""
        conversation = self.runtime.conversation
        greeting, _created = conversation.open(session_id)
        return conversation, Reply.from_turn(greeting)

    async def _greet(self, chat_id: int, context: Context) -> None:
        output = TelegramOutput(context.bot, QuickReplyMemory(context.chat_data))
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
        memory = QuickReplyMemory(context.chat_data)
        output = TelegramOutput(bot, memory)
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
        if turn.action == "forget":
            # The core erased the session; nothing derived from it stays in memory either.
            memory.forget()
            if context.chat_data is not None:
                context.chat_data.clear()
        log.info("telegram turn", extra={"action": turn.action})

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


# -- application -------------------------------------------------------------------------------


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


# -- webhook -----------------------------------------------------------------------------------


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
        expected = runtime.settings.telegram_webhook_secret
        given = request.headers.get(SECRET_HEADER, "")
        if expected is None or not hmac.compare_digest(
            given.encode(), expected.get_secret_value().encode()
        ):
            raise HTTPException(status_code=403, detail="forbidden")
        app = await bot.ready()
        if app is None:
            raise HTTPException(status_code=503, detail="telegram is not configured")
        try:
            payload = await request.json()
        except ValueError as exc:
            raise HTTPException(status_code=400, detail="invalid JSON") from exc
        if not isinstance(payload, dict):
            raise HTTPException(status_code=400, detail="invalid update")
        try:
            update = Update.de_json(payload, app.bot)
        except (KeyError, TypeError, ValueError) as exc:
            raise HTTPException(status_code=400, detail="invalid update") from exc
        # Handlers catch their own errors; errors left over go to PTB's error handler.
        await app.process_update(update)
        return Response(status_code=200)

    return router
