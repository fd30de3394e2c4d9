"""Sending to one Telegram chat: the `OutputChannel` and the quick replies' inline buttons.

Quick replies are inline buttons whose `callback_data` is `qr:<generation>:<index>` into the
labels last shown in that chat (kept in `chat_data`): labels may exceed the 64-byte limit, and
a button from an older message is recognised as stale instead of answering the wrong question.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import MutableMapping, Sequence
from typing import Any, Final

from telegram import Bot as TelegramBot
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.helpers import escape_markdown

from connectors.base import Reply
from connectors.telegram.render import MESSAGE_LIMIT, render_chunks, split_text, utf16_len

__all__ = ["CALLBACK_PREFIX", "NO_PREVIEW", "QuickReplyMemory", "TelegramOutput"]

log = logging.getLogger(__name__)

CALLBACK_PREFIX: Final = "qr"
# Several contact sites per reply: previews would bury the text (and cost data on a weak line).
NO_PREVIEW: Final = LinkPreviewOptions(is_disabled=True)


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


class TelegramOutput:
    """An `OutputChannel` over a Bot it holds (not inherits), for one chat's quick replies.

    The reply's parts go out as MarkdownV2 messages (see `render`); its quick replies become
    the inline keyboard of the last message.
    """

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
