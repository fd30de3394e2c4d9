"""Builds a reply's typed parts and their plain text from the templates in `prompts/parts/`.

The engine decides *what* to say (parts with data); this module gives each part its French
wording, so a curator edits a template and every channel follows. A channel with a richer
medium draws the data (contact cards, folded sources) and uses the titles rendered here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from assistant.answers.answering import Answer
from assistant.orientation.contacts import OrientationResult, lower_label
from assistant.render.composer import Composer
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
from assistant.vocabulary import NEED_LABELS

__all__ = ["ReplyWriter", "reply_text"]

_Listing = TypeVar("_Listing", ContactsPart, StepsPart, GuidesPart)


def reply_text(parts: Sequence[Part]) -> str:
    """The whole reply as plain text: the parts' texts, a blank line apart."""
    return "\n\n".join(part.text for part in parts if part.text)


class ReplyWriter:
    """Makes parts, each with its wording from `prompts/parts/<type>.md.j2`."""

    def __init__(self, composer: Composer) -> None:
        self.composer = composer

    def ack(self, items: Sequence[str]) -> list[Part]:
        if not items:
            return []
        text = self.composer.render("parts/ack.md.j2", items=list(items))
        return [AckPart(text=text, items=list(items))]

    def notice(self, message: str | None) -> list[Part]:
        if not message:
            return []
        return [NoticePart(text=self.composer.render("parts/notice.md.j2", message=message))]

    def answer(self, answer: Answer | None) -> list[Part]:
        if answer is None:
            return []
        body = answer.body or answer.answer
        text = self.composer.render(
            "parts/answer.md.j2", body=body, citations=answer.sources, declined=answer.declined
        )
        return [
            AnswerPart(text=text, body=body, citations=answer.sources, declined=answer.declined)
        ]

    def question(
        self, question: str | None, slot: str | None, quick_replies: Sequence[str]
    ) -> list[Part]:
        if not question and not quick_replies:
            return []
        text = self.composer.render("parts/question.md.j2", question=question or "")
        return [QuestionPart(text=text, slot=slot, quick_replies=list(quick_replies))]

    def orientation(
        self,
        result: OrientationResult,
        missing: Sequence[str],
        shown: Sequence[str] = (),
        new_needs: Sequence[str] = (),
    ) -> list[Part]:
        """Contacts (or the lack of them), next steps, guides, and what would sharpen them;
        `shown`: ids of contacts the person already saw in full; `new_needs`: needs said in
        this turn, whose contacts are named first when no new one comes."""
        parts: list[Part] = []
        if result.contacts:
            seen = [c for c in result.contacts if c.id in shown]
            fresh = [c for c in result.contacts if c.id not in shown]
            # "et pour financer, on a besoin d'argent": the contacts seen before that help
            # with it come first, and the title says so.
            covering = [c for c in seen if set(c.needs) & set(new_needs)]
            for_needs = [n for n in new_needs if any(n in c.needs for c in covering)]
            words = {
                "fresh": fresh,
                "named": [c.name for c in seen],
                "for_needs": [] if fresh else [lower_label(NEED_LABELS[n]) for n in for_needs],
                "first": [c.name for c in covering],
            }
            parts.append(
                self._listing(
                    ContactsPart,
                    result.contacts,
                    words,
                    blocks=("title", "again"),
                    already_shown=[c.id for c in seen],
                )
            )
        else:
            parts.append(NoticePart(text=self.composer.render("parts/no_contacts.md.j2")))
        if result.next_steps:
            parts.append(self._listing(StepsPart, result.next_steps))
        if result.guides:
            parts.append(self._listing(GuidesPart, result.guides))
        if missing:
            text = self.composer.render("parts/refine.md.j2", missing=list(missing))
            parts.append(NoticePart(text=text))
        return parts

    def _listing(
        self,
        kind: type[_Listing],
        items: Sequence[Any],
        words: dict[str, Any] | None = None,
        blocks: Sequence[str] = ("title",),
        **fields: Any,
    ) -> _Listing:
        """A titled list part; its type names its template and the field holding the items
        ("contacts" → parts/contacts.md.j2, `contacts`). `words`: more for the template;
        `blocks`: the template's blocks rendered into the part's fields of the same name."""
        name = str(kind.model_fields["type"].default)
        template = f"parts/{name}.md.j2"
        context = {name: list(items), **(words or {})}
        return kind.model_validate(
            {
                "text": self.composer.render(template, **context),
                **{b: self.composer.render_block(template, b, **context) for b in blocks},
                name: list(items),
                **fields,
            }
        )
