"""Grounded answers composed by a chat model, behind the same interface as `Answerer`.

`LLMAnswerer` retrieves exactly as the deterministic `Answerer` does (same relevance policy,
so it declines the same questions), numbers the retrieved cards, asks the model to answer
citing them (prompts/llm_answer.md.j2), and passes the reply through `guards.py`. Whenever the
model fails, times out, or writes something the guards reject as a whole, the answer is the
deterministic one: the user sees an answer either way, and the log says why (reason codes,
never message text).

Streaming: `stream` / `astream` yield `AnswerEvent`s: "delta" events carry lines that have
already passed the guards, and one "final" event carries the authoritative `Answer` (with its
sources list, or the deterministic answer when the model's was rejected), which a channel
shows in place of the deltas.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from assistant.answers.answering import Answer, Answerer, EntryPoints, RelevancePolicy, source_ref
from assistant.answers.limits import Limits
from assistant.answers.meaning import MeaningDeclines
from assistant.errors import LLMUnavailableError
from assistant.llm.chat import ChatLLM
from assistant.llm.guards import AnswerGuard, Grounding, GuardReport
from assistant.render.composer import Composer
from assistant.search.base import Hit, Retriever, SearchFilter
from assistant.search.cards import Card

logger = logging.getLogger(__name__)

REWRITE_SHARE = 0.25  # of the LLM time budget; the answer gets what is left
MAX_PASSAGE_WORDS = 400
MAX_REWRITE_CHARS = 300
MIN_ANSWER_SECONDS = 0.05
# Our own delimiters, removed from passages and user text so that neither can close the
# block it sits in and pose as instructions (the guards hold regardless).
_DELIMITERS = re.compile(r"</?\s*(passages?|question|historique)\b[^>]*>", re.IGNORECASE)


class AnswerEvent(BaseModel):
    """One step of a streamed answer."""

    kind: Literal["delta", "final"]
    text: str = ""  # delta: guarded text to append (a line, newline included)
    answer: Answer | None = None  # final: what to show in place of the deltas
    fallback: str | None = None  # final: why the deterministic answer was used, if it was


@dataclass
class _Prepared:
    question: str
    search_query: str
    hits: list[Hit]
    messages: list[BaseMessage]
    grounding: Grounding
    started: float
    budget_start: float  # the model's clock: rewriting counts, retrieval (both modes) does not


def _data(text: str) -> str:
    return _DELIMITERS.sub(" ", text)


class LLMAnswerer(Answerer):
    """An `Answerer` whose replies are written by a chat model, under guards, with fallback."""

    def __init__(
        self,
        retriever: Retriever,
        cards: dict[str, Card],
        composer: Composer,
        policy: RelevancePolicy,
        llm: ChatLLM,
        grounding: Grounding,
        rewrite_queries: bool = True,
        entry_points: EntryPoints | None = None,
        spell: Callable[[str], str] | None = None,
        limits: Limits | None = None,
        meaning: MeaningDeclines | None = None,
    ) -> None:
        super().__init__(retriever, cards, composer, policy, entry_points, spell, limits, meaning)
        self.llm = llm
        self.grounding = grounding  # the directory part; passages are added per answer
        self.rewrite_queries = rewrite_queries
        self._last_hits: tuple[tuple[str, SearchFilter | None, int], list[Hit]] | None = None

    def relevant_hits(
        self, question: str, search_filter: SearchFilter | None = None, k: int = 5
    ) -> list[Hit]:
        # Remembered for the turn: a fallback composes from the same hits instead of paying
        # for a second query embedding.
        key = (question, search_filter, k)
        if self._last_hits is None or self._last_hits[0] != key:
            self._last_hits = (key, super().relevant_hits(question, search_filter, k))
        return list(self._last_hits[1])

    # -- the Answerer interface -----------------------------------------------------------
    def answer(
        self,
        question: str,
        search_filter: SearchFilter | None = None,
        history: Sequence[str] = (),
    ) -> Answer:
        """`history`: the user's earlier messages, to make a follow-up question self-contained."""
        prepared = self._prepare(question, search_filter, history)
        if isinstance(prepared, Answer):
            return prepared
        try:
            text = self.llm.complete(prepared.messages, self._remaining(prepared))
        except LLMUnavailableError as exc:
            return self._fallback(prepared, search_filter, exc.reason)
        guard = AnswerGuard(prepared.grounding)
        guard.feed(text)
        answer, _ = self._finish(prepared, guard.finish(), search_filter)
        return answer

    def stream(
        self,
        question: str,
        search_filter: SearchFilter | None = None,
        history: Sequence[str] = (),
    ) -> Iterator[AnswerEvent]:
        prepared = self._prepare(question, search_filter, history)
        if isinstance(prepared, Answer):
            yield AnswerEvent(kind="final", answer=prepared)
            return
        guard = AnswerGuard(prepared.grounding)
        try:
            for piece in self.llm.stream(prepared.messages, self._remaining(prepared)):
                for line in guard.feed(piece):
                    yield AnswerEvent(kind="delta", text=line + "\n")
                if guard.fallback:
                    break  # the answer is lost already: stop paying for tokens
        except LLMUnavailableError as exc:
            answer = self._fallback(prepared, search_filter, exc.reason)
            yield AnswerEvent(kind="final", answer=answer, fallback=exc.reason)
            return
        answer, reason = self._finish(prepared, guard.finish(), search_filter)
        yield AnswerEvent(kind="final", answer=answer, fallback=reason)

    async def astream(
        self,
        question: str,
        search_filter: SearchFilter | None = None,
        history: Sequence[str] = (),
    ) -> AsyncIterator[AnswerEvent]:
        # Retrieval and the deterministic composer are CPU work: kept off the event loop.
        prepared = await asyncio.to_thread(self._prepare, question, search_filter, history)
        if isinstance(prepared, Answer):
            yield AnswerEvent(kind="final", answer=prepared)
            return
        guard = AnswerGuard(prepared.grounding)
        try:
            async for piece in self.llm.astream(prepared.messages, self._remaining(prepared)):
                for line in guard.feed(piece):
                    yield AnswerEvent(kind="delta", text=line + "\n")
                if guard.fallback:
                    break
        except LLMUnavailableError as exc:
            answer = await asyncio.to_thread(self._fallback, prepared, search_filter, exc.reason)
            yield AnswerEvent(kind="final", answer=answer, fallback=exc.reason)
            return
        answer, reason = await asyncio.to_thread(
            self._finish, prepared, guard.finish(), search_filter
        )
        yield AnswerEvent(kind="final", answer=answer, fallback=reason)

    # -- query rewriting ------------------------------------------------------------------
    def rewrite(self, question: str, history: Sequence[str]) -> str:
        """The question made self-contained from the earlier messages; itself on any doubt."""
        if not history or not self.rewrite_queries:
            return question
        messages = [
            SystemMessage(self.composer.render("llm_rewrite.md.j2", part="system")),
            HumanMessage(
                self.composer.render(
                    "llm_rewrite.md.j2",
                    part="user",
                    history=[_data(h) for h in history],
                    question=_data(question),
                )
            ),
        ]
        try:
            text = self.llm.complete(messages, self.llm.timeout_seconds * REWRITE_SHARE)
        except LLMUnavailableError as exc:
            logger.warning(
                "llm rewrite skipped: reason=%s",
                exc.reason,
                extra={"llm_outcome": f"rewrite-fallback:{exc.reason}"},
            )
            return question
        lines = [line.strip().strip("\"'«» ") for line in text.splitlines() if line.strip()]
        if not lines or len(lines[0]) > max(MAX_REWRITE_CHARS, 3 * len(question)):
            return question
        return lines[0]

    # -- steps ----------------------------------------------------------------------------
    def _prepare(
        self, question: str, search_filter: SearchFilter | None, history: Sequence[str]
    ) -> _Prepared | Answer:
        limit = self.limit_for(question)
        if limit:
            return self.decline(question, search_filter, limit)  # no model call either
        if self.declined_by_meaning(question):
            # Declined, or answered from a curator's document, as the deterministic path does.
            return super().answer(question, search_filter)
        started = time.perf_counter()
        search_query = self.rewrite(question, history)
        rewrite_seconds = time.perf_counter() - started
        hits = self.relevant_hits(search_query, search_filter)
        if not hits:
            # Nothing relevant: decline exactly as the deterministic path does; no model call.
            return super().answer(search_query, search_filter)
        passages = []
        for n, hit in enumerate(hits, start=1):
            card = self.cards[hit.card_id]
            words = card.body.split()
            text = (
                card.body
                if len(words) <= MAX_PASSAGE_WORDS
                else " ".join(words[:MAX_PASSAGE_WORDS]) + " …"
            )
            passages.append(
                {"n": n, "card_id": card.id, "title": _data(card.title), "text": _data(text)}
            )
        grounding = self.grounding.with_passages(
            [
                (
                    h.card_id,
                    f"{p['title']}\n{p['text']}\n{source_ref(self.cards[h.card_id]).origin}",
                )
                for h, p in zip(hits, passages, strict=True)
            ]
        )
        context = {
            "passages": passages,
            "question": _data(question),
            "search_query": _data(search_query),
        }
        messages: list[BaseMessage] = [
            SystemMessage(self.composer.render("llm_answer.md.j2", part="system", **context)),
            HumanMessage(self.composer.render("llm_answer.md.j2", part="user", **context)),
        ]
        budget_start = time.perf_counter() - rewrite_seconds
        return _Prepared(question, search_query, hits, messages, grounding, started, budget_start)

    def _remaining(self, prepared: _Prepared) -> float:
        elapsed = time.perf_counter() - prepared.budget_start
        return max(self.llm.timeout_seconds - elapsed, MIN_ANSWER_SECONDS)

    def _finish(
        self, prepared: _Prepared, report: GuardReport, search_filter: SearchFilter | None
    ) -> tuple[Answer, str | None]:
        if report.fallback:
            return self._fallback(prepared, search_filter, report.fallback), report.fallback
        refs = [source_ref(self.cards[prepared.hits[n - 1].card_id]) for n in report.cited]
        text = self.composer.render(
            "llm_reply.md.j2",
            body=report.text,
            sources=[{"n": i, "title": r.title, "origin": r.origin} for i, r in enumerate(refs, 1)],
        )
        logger.info(
            "llm answer: passages=%d cited=%d removed=%s ms=%d",
            len(prepared.hits),
            len(report.cited),
            ",".join(sorted(set(report.removed))) or "-",
            self._elapsed_ms(prepared),
            extra={"llm_outcome": "llm"},
        )
        answer = Answer(
            answer=text,
            body=report.text,
            sources=refs,
            declined=False,
            confidence=float(prepared.hits[0].dense_similarity or 0.0),
        )
        return answer, None

    def _fallback(
        self, prepared: _Prepared, search_filter: SearchFilter | None, reason: str
    ) -> Answer:
        logger.warning(
            "llm answer fell back to the deterministic composer: reason=%s ms=%d",
            reason,
            self._elapsed_ms(prepared),
            extra={"llm_outcome": f"fallback:{reason}"},
        )
        return super().answer(prepared.search_query, search_filter)

    @staticmethod
    def _elapsed_ms(prepared: _Prepared) -> int:
        return round((time.perf_counter() - prepared.started) * 1000)
