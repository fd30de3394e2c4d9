"""A reply's typed parts as Telegram MarkdownV2 messages, each under Telegram's limit.

Nothing here parses the core's French text: each part is drawn from its fields, and every
piece of text goes through `escape_markdown(..., version=2)`, so it stays literal whatever it
contains. Formatting is only what this module adds around escaped text (bold contact names,
italic remarks). Every message also comes as plain text saying the same thing, sent instead
if Telegram ever refuses the markup.

Links, phone numbers and e-mail addresses are written out as text: Telegram makes them
clickable by itself, and nothing is shown that the directory does not give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from telegram.constants import MessageLimit
from telegram.helpers import escape_markdown

from assistant.answers.answering import SourceRef
from assistant.orientation.contacts import Recommendation
from assistant.render.parts import (
    AckPart,
    AnswerPart,
    ContactsPart,
    GuidesPart,
    NoticePart,
    Part,
    QuestionPart,
    StepsPart,
)
from connectors.base import Reply

__all__ = [
    "MESSAGE_LIMIT",
    "Block",
    "escaped_len",
    "render_blocks",
    "render_chunks",
    "split_text",
    "utf16_len",
]

MESSAGE_LIMIT: Final = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096 UTF-16 code units
MAX_GUIDES: Final = 4  # a short list: the web page and the fiche give them all
UNVERIFIED: Final = "Coordonnées à vérifier"

Style = Literal["", "bold", "italic"]
Segment = tuple[str, Style]
_MARKERS: Final[dict[str, str]] = {"": "", "bold": "*", "italic": "_"}


# -- measuring and splitting -------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Telegram counts UTF-16 code units, so an emoji weighs two."""
    return len(text.encode("utf-16-le")) // 2


def escaped_len(text: str) -> int:
    return utf16_len(escape_markdown(text, version=2))


_SEPARATORS: Final = ("\n\n", "\n", " ")


def split_text(
    text: str, limit: int = MESSAGE_LIMIT, measure: Callable[[str], int] = escaped_len
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


# -- blocks: formatted text that is never cut --------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A few lines that stay in one message (a contact, a paragraph, a list of sources)."""

    lines: tuple[tuple[Segment, ...], ...]

    @property
    def markdown(self) -> str:
        return "\n".join("".join(_markdown(segment) for segment in line) for line in self.lines)

    @property
    def plain(self) -> str:
        return "\n".join("".join(text for text, _style in line) for line in self.lines)


def _markdown(segment: Segment) -> str:
    text, style = segment
    if not text:
        return ""
    marker = _MARKERS[style]
    return f"{marker}{escape_markdown(text, version=2)}{marker}"


def line(*segments: Segment | str) -> tuple[Segment, ...]:
    """One line from segments; a bare string is unstyled text."""
    return tuple((s, "") if isinstance(s, str) else s for s in segments)


def block(*lines: tuple[Segment, ...]) -> Block:
    return Block(tuple(lines))


def paragraphs(text: str, style: Style = "") -> list[Block]:
    """Free text (an answer, a question) as one block per paragraph, lines kept."""
    return [
        block(*(line((text_line.rstrip(), style)) for text_line in paragraph.strip().split("\n")))
        for paragraph in text.strip().split("\n\n")
        if paragraph.strip()
    ]


# -- parts -------------------------------------------------------------------------------------


def render_blocks(reply: Reply) -> list[Block]:
    """The reply's parts as blocks, in order; its plain text when it has no parts."""
    if not reply.parts:
        blocks = paragraphs(reply.text)
    else:
        shown: set[str] = set()  # sources already listed: each is shown once per reply
        blocks = [b for part in reply.parts for b in _part_blocks(part, shown)]
    return blocks


def _part_blocks(part: Part, shown: set[str]) -> list[Block]:
    if isinstance(part, AckPart):
        return paragraphs(part.text, "italic")
    if isinstance(part, AnswerPart):
        return paragraphs(part.body or part.text) + _sources_blocks(part.citations, shown)
    if isinstance(part, ContactsPart):
        return _contacts_blocks(part.title, part.fresh()) + paragraphs(part.again)
    if isinstance(part, StepsPart):
        bullets = [line(f"• {step.text}") for step in part.steps]
        return [block(line(part.title), *bullets)] if bullets else []
    if isinstance(part, GuidesPart):
        return _guides_blocks(part.title, part.guides, shown)
    if isinstance(part, QuestionPart | NoticePart):
        return paragraphs(part.text)
    return paragraphs(getattr(part, "text", ""))  # a part type this channel does not know yet


def _sources_blocks(citations: Sequence[SourceRef], shown: set[str]) -> list[Block]:
    """The cited cards as a compact numbered list; the numbers match the body's [n] markers."""
    if not citations:
        return []
    shown.update(source.id for source in citations)
    entries = [line((f"[{n}] {source.title}", "italic")) for n, source in enumerate(citations, 1)]
    return [block(line(("Sources :", "italic")), *entries)]


def _guides_blocks(title: str, guides: Sequence[SourceRef], shown: set[str]) -> list[Block]:
    fresh = [guide for guide in guides if guide.id not in shown][:MAX_GUIDES]
    if not fresh:
        return []
    shown.update(guide.id for guide in fresh)
    heading = title.strip().rstrip(" :")
    entries = [line(f"• {guide.title}") for guide in fresh]
    return [block(line((f"{heading} :", "italic")), *entries)]


def _contacts_blocks(title: str, contacts: Sequence[Recommendation]) -> list[Block]:
    blocks = [block(line(title.strip()))] if title.strip() else []
    blocks.extend(contact_block(n, contact) for n, contact in enumerate(contacts, start=1))
    return blocks


def contact_block(number: int, contact: Recommendation) -> Block:
    """*Name* — what; why; the directory's links, phone and e-mail, then how to reach."""
    heading = line(f"{number}. ", (contact.name, "bold"))
    if contact.what:
        heading += line(f" — {contact.what}")
    lines = [heading]
    if contact.why:
        lines.append(line(f"Pourquoi : {contact.why}"))
    reach = list(_coordinates(contact))
    if reach:
        lines.append(line(f"Comment le joindre : {' · '.join(reach)}"))
        if contact.how_to_reach:
            lines.append(line(contact.how_to_reach))
    elif contact.how_to_reach:
        lines.append(line(f"Comment le joindre : {contact.how_to_reach}"))
    if contact.finder:
        lines.append(line(f"{contact.finder.label} : {contact.finder.url}"))
    if not contact.verified:
        lines.append(line((UNVERIFIED, "italic")))
    return block(*lines)


def _coordinates(contact: Recommendation) -> Iterable[str]:
    details = contact.contact
    site = details.website or details.site_page
    for value in (site, details.phone, details.email, details.address):
        if value:
            yield str(value)


# -- messages ----------------------------------------------------------------------------------


def render_chunks(reply: Reply, limit: int = MESSAGE_LIMIT) -> list[tuple[str, str]]:
    """The reply as Telegram messages: (MarkdownV2, the same as plain text) per message.

    Blocks are packed into as few messages as fit under `limit`; a block too long for one
    message on its own is cut as plain text (its formatting dropped, its text kept).
    """
    messages: list[tuple[str, str]] = []
    markdown: list[str] = []
    plain: list[str] = []
    for item in _fitting(render_blocks(reply), limit):
        candidate = "\n\n".join([*markdown, item.markdown])
        if markdown and utf16_len(candidate) > limit:
            messages.append(("\n\n".join(markdown), "\n\n".join(plain)))
            markdown, plain = [], []
        markdown.append(item.markdown)
        plain.append(item.plain)
    if markdown:
        messages.append(("\n\n".join(markdown), "\n\n".join(plain)))
    return messages


def _fitting(blocks: Iterable[Block], limit: int) -> Iterable[Block]:
    for item in blocks:
        if not item.plain.strip():
            continue
        if utf16_len(item.markdown) <= limit:
            yield item
            continue
        for chunk in split_text(item.plain, limit):
            yield block(line(chunk))
