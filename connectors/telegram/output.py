"""Sending to one Telegram chat: the `OutputChannel` and the quick replies' inline buttons.

Quick replies are inline buttons whose `callback_data` is `qr:<index>:<digest>` (labels may
exceed the 64-byte limit); the session store, shared by replicas, says which labels are offered
now, so a button from an older message is recognised as stale instead of answering the wrong
question.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Final

from telegram import Bot as TelegramBot
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.helpers import escape_markdown

from connectors.base import Reply
from connectors.telegram.render import MESSAGE_LIMIT, render_chunks, split_text, utf16_len

__all__ = ["CALLBACK_PREFIX", "NO_PREVIEW", "QuickReplyButtons", "TelegramOutput"]

log = logging.getLogger(__name__)

CALLBACK_PREFIX: Final = "qr"
DIGEST_HEX: Final = 12  # "qr:" + index + ":" + 12 hex digits: well under 64 bytes
# Several contact sites per reply: previews would bury the text (and cost data on a weak line).
NO_PREVIEW: Final = LinkPreviewOptions(is_disabled=True)


class QuickReplyButtons:
    """Inline buttons for quick replies, remembered by the session store, not by this process.

    A button's `callback_data` is `qr:<index>:<digest of its label>`; when pressed, it is
    looked up among the quick replies the session offers now (the last reply stored with the
    turn, or the greeting's), so any replica, after any restart, resolves it the same way,
    and a button whose label is no longer offered is stale.
    """

    @staticmethod
    def digest(label: str) -> str:
        return hashlib.sha256(label.encode("utf-8")).hexdigest()[:DIGEST_HEX]

    def keyboard(self, labels: Sequence[str]) -> InlineKeyboardMarkup | None:
        if not labels:
            return None
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label, callback_data=self._data(i, label))]
                for i, label in enumerate(labels)
            ]
        )

    def resolve(self, callback_data: str, offered: Sequence[str]) -> str | None:
        """The label a button stands for among those `offered` now, or None (stale, forged)."""
        parts = callback_data.split(":")
        if len(parts) != 3 or parts[0] != CALLBACK_PREFIX or not parts[1].isdigit():
            return None
        index = int(parts[1])
        if index >= len(offered) or self._data(index, offered[index]) != callback_data:
            return None
        return offered[index]

    def _data(self, index: int, label: str) -> str:
        return f"{CALLBACK_PREFIX}:{index}:{self.digest(label)}"


class TelegramOutput:
    """An `OutputChannel` over a Bot it holds (not inherits), for one chat's quick replies.

    The reply's parts go out as MarkdownV2 messages (see `render`); its quick replies become
    the inline keyboard of the last message.
    """

    def __init__(self, bot: TelegramBot, buttons: QuickReplyButtons | None = None) -> None:
        self.bot = bot
        self.buttons = buttons or QuickReplyButtons()

    async def send(self, recipient_id: str, reply: Reply) -> None:
        chunks = render_chunks(reply) or [(escape_markdown("…", version=2), "…")]
        keyboard = self.buttons.keyboard(reply.quick_replies)
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
