"""Grounded answers to free questions: retrieve, decide if it is relevant, compose, cite."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from pydantic import BaseModel

from assistant.answers.limits import Limit, Limits, Reason
from assistant.answers.meaning import MeaningDeclines
from assistant.answers.picking import HasBody, pick_sentences
from assistant.orientation.directory import Structure
from assistant.render.composer import Composer
from assistant.search.base import Hit, Retriever, SearchFilter
from assistant.search.cards import Card
from assistant.search.chunks import PassageOrigin
from assistant.settings import Settings
from assistant.text import normalise, written_in_english
from assistant.vocabulary import CARD_KINDS

MAX_SOURCE_CARDS = 3
SECOND_CARD_RATIO = 0.85  # a second card is quoted only if nearly as good as the first


class _Passage(BaseModel):
    body: str


class SourceRef(BaseModel):
    """A card an answer relies on, as shown to users and returned by the API."""

    id: str
    title: str
    kind: str
    origin: str  # human-readable: the document (and section) or the page the card comes from
    documents: list[str]
    urls: list[str]
    # A curator's document (kind "document") rather than a card: what its citation shows —
    # title, publisher, date, and the page (PDF) or section heading the passage is from.
    citation: PassageOrigin | None = None


class Answer(BaseModel):
    answer: str  # the full text, sources listed at the end (`aiguillage ask`)
    body: str = ""  # the same without the list of sources, for channels that fold them
    sources: list[SourceRef]
    declined: bool
    confidence: float
    limit: str | None = None  # the limit a decline falls under (limits.yaml), if any


class RelevancePolicy(BaseModel):
    """When the best passage is good enough to answer from. Calibrated by scripts/evaluate.py."""

    strong_similarity: float
    min_similarity: float
    min_term_coverage: float
    min_question_similarity: float = 1.0
    english_min_similarity: float = 1.0

    def for_english(self) -> RelevancePolicy:
        """English words share no terms with the French cards: meaning alone decides."""
        return self.model_copy(
            update={"min_term_coverage": 0.0, "min_similarity": self.english_min_similarity}
        )

    def accepts(self, hit: Hit) -> bool:
        if (hit.question_similarity or 0.0) >= self.min_question_similarity:
            return True
        similarity = hit.dense_similarity or 0.0
        if similarity >= self.strong_similarity:
            return True
        return similarity >= self.min_similarity and hit.term_coverage >= self.min_term_coverage

    @classmethod
    def from_settings(cls, settings: Settings) -> RelevancePolicy:
        return cls(
            strong_similarity=settings.strong_dense_similarity,
            min_similarity=settings.min_dense_similarity,
            min_term_coverage=settings.min_term_coverage,
            min_question_similarity=settings.min_question_similarity,
            english_min_similarity=settings.english_min_dense_similarity,
        )


def source_ref(card: Card) -> SourceRef:
    origins = []
    for source in card.sources:
        label = source.title
        if source.section:
            label += f", « {source.section} »"
        if source.url and source.seen:
            label += f" (page consultée le {source.seen:%d/%m/%Y})"
        origins.append(label)
    return SourceRef(
        id=card.id,
        title=card.title,
        kind=card.kind,
        origin=" ; ".join(origins),
        documents=[s.document for s in card.sources if s.document],
        urls=[s.url for s in card.sources if s.url],
    )


def document_ref(origin: PassageOrigin) -> SourceRef:
    """The citation of a document's passage: publisher, date, then page or section."""
    where = (
        f"p. {origin.page}"
        if origin.page is not None
        else f"section « {origin.section} »"
        if origin.section
        else None
    )
    label = [
        origin.publisher or "éditeur non précisé",
        f"{origin.date:%d/%m/%Y}" if origin.date else "sans date",
        *([where] if where else []),
    ]
    return SourceRef(
        id=origin.document_id,
        title=origin.title,
        kind="document",
        origin=", ".join(label),
        documents=[],
        urls=[origin.url] if origin.url else [],
        citation=origin,
    )


def _prose(passage: str) -> str:
    """A document's passage without its title lines: a card marks its sub-headings in bold,
    text extracted from a PDF page does not ("Bilan de l'année 2025" is not an answer)."""
    paragraphs = re.split(r"\n\s*\n", passage)
    return "\n\n".join(
        p for p in paragraphs if p.rstrip().endswith(_PROSE_END) or len(p.split()) > 12
    )


_PROSE_END = (".", "!", "?", ":", ";", "»", ")", "…")


class HumanContact(BaseModel):
    """Where a person can take a question the cards cannot answer."""

    name: str
    how_to_reach: str


EntryPoints = Callable[[SearchFilter | None], list[HumanContact]]
LayeredHits = tuple[list[Hit], list[Hit]]  # (cards that answer, documents' passages that do)


def directory_entry_points(
    structures: Iterable[Structure], national_ids: Sequence[str], regional_kinds: Sequence[str]
) -> EntryPoints:
    """Human entry points from the directory: the region's CRESS or orientation collective
    when the region is known, the national entries named in the diagnostic script otherwise."""
    active = [s for s in structures if s.status == "active"]

    def find(search_filter: SearchFilter | None) -> list[HumanContact]:
        region = search_filter.region if search_filter else None
        chosen = [
            s
            for s in active
            if region and s.kind in regional_kinds and region in s.coverage.regions
        ]
        if not chosen:
            by_id = {s.id: s for s in active}
            chosen = [by_id[i] for i in national_ids if i in by_id]
        return [HumanContact(name=s.name, how_to_reach=s.how_to_reach) for s in chosen[:2]]

    return find


class Answerer:
    """Answers a question from the cards only; declines when nothing is relevant enough."""

    def __init__(
        self,
        retriever: Retriever,
        cards: dict[str, Card],
        composer: Composer,
        policy: RelevancePolicy,
        entry_points: EntryPoints | None = None,
        spell: Callable[[str], str] | None = None,
        limits: Limits | None = None,
        meaning: MeaningDeclines | None = None,
    ) -> None:
        self.retriever = retriever
        self.limits = limits
        self.meaning = meaning
        self.cards = cards
        self.composer = composer
        self.policy = policy
        self.entry_points = entry_points
        # Writes out SMS spellings before searching ("c koi une cae" -> "c'est quoi une cae").
        self.spell = spell or (lambda text: text)
        self._layers_of: tuple[tuple[str, SearchFilter | None, int], LayeredHits] | None = None

    def relevant_hits(
        self, question: str, search_filter: SearchFilter | None = None, k: int = 5
    ) -> list[Hit]:
        """The cards that answer (curators' documents are `document_hits`)."""
        return self._layers(question, search_filter, k)[0]

    def document_hits(
        self, question: str, search_filter: SearchFilter | None = None, k: int = 5
    ) -> list[Hit]:
        """Passages of curators' documents that answer, under the same policy as cards: the
        second layer, asked only when no card answers."""
        return self._layers(question, search_filter, k)[1]

    def _layers(self, question: str, search_filter: SearchFilter | None, k: int) -> LayeredHits:
        key = (question, search_filter, k)
        last = self._layers_of  # read once: requests on other threads replace it
        if last is not None and last[0] == key:
            return last[1]  # the same turn asks for both layers: search once
        query = self.spell(question)
        hits = self.retriever.search(query, k=k, search_filter=search_filter)
        documents = [h for h in hits if h.chunk.origin is not None]
        if documents:
            # Documents competed with the cards: search the cards alone too, so that a card
            # that answers is never pushed out of the top k by a document's passages.
            hits = self.retriever.search(query, k=k, search_filter=_cards_only(search_filter))
        # The best card the policy accepts, not only the first: a card lifted by the fusion
        # through a loosely similar `question` must not hide a passage that answers.
        policy = self.policy.for_english() if written_in_english(question) else self.policy
        cards = [h for h in hits if policy.accepts(h) and h.card_id in self.cards]
        layers = (_kept(cards), _kept([h for h in documents if policy.accepts(h)]))
        self._layers_of = (key, layers)
        return layers

    def answer(
        self,
        question: str,
        search_filter: SearchFilter | None = None,
        history: Sequence[str] = (),
    ) -> Answer:
        """`history` (the user's earlier questions) serves only an answerer that rewrites
        follow-ups (the LLM one); the deterministic composer answers the question as asked."""
        limit = self.limit_for(question)
        by_meaning = None if limit else self.declined_by_meaning(question)
        hits = [] if limit or by_meaning else self.relevant_hits(question, search_filter)
        documents = [] if limit else self.document_hits(question, search_filter)
        bodies: list[HasBody] = [self.cards[h.card_id] for h in hits]
        passages: list[HasBody] = [_Passage(body=_prose(h.chunk.text)) for h in documents]
        if documents and hits and _document_answers_better(hits[0], documents[0]):
            # A card beats a passage when both answer; a card let in by a loosely similar
            # question ("combien de jours dure l'accompagnement…" met by the DLA card, which
            # holds none of it) does not answer as the passage does.
            hits = []
        if not hits:  # no card answers: a curator's document may (the second layer)
            hits, bodies = documents, passages
        if not hits:
            return self.decline(question, search_filter, limit or by_meaning)
        chosen = pick_sentences(self.spell(question), bodies, self.retriever.term_weight)
        if not chosen and hits[0].chunk.origin is not None:
            return self.decline(question, search_filter, limit or by_meaning)  # fragments
        used_cards = sorted({card_rank for card_rank, _, _ in chosen})
        numbering = {rank: n for n, rank in enumerate(used_cards, start=1)}
        refs = [self._ref(hits[rank]) for rank in used_cards]
        context = {
            "sentences": [{"text": s, "ref": numbering[rank]} for rank, _, s in chosen],
            "sources": [
                {"n": i, "title": r.title, "origin": r.origin} for i, r in enumerate(refs, 1)
            ],
        }
        return Answer(
            answer=self.composer.render("answer.md.j2", **context),
            body=self.composer.render_block("answer.md.j2", "body", **context),
            sources=refs,
            declined=False,
            confidence=float(hits[0].dense_similarity or 0.0),
        )

    def _ref(self, hit: Hit) -> SourceRef:
        if hit.chunk.origin is not None:
            return document_ref(hit.chunk.origin)
        return source_ref(self.cards[hit.card_id])

    def limit_for(self, question: str) -> Limit | None:
        """The limit a question falls under (a personal, current or local figure…), if any."""
        return self.limits.find(normalise(self.spell(question))) if self.limits else None

    def declined_by_meaning(self, question: str) -> Reason | None:
        """Why to decline a question no limit caught but whose meaning reads like those the
        cards must decline (declines.yaml); None when it may be answered. A curator's
        document may still answer it: local documents hold what the national cards lack."""
        if self.meaning is None or self.limits is None or self.limits.by_meaning is None:
            return None
        # The text the retriever searches: its vector serves both (one model call).
        return self.limits.by_meaning if self.meaning.declines(self.spell(question)) else None

    def decline(
        self, question: str, search_filter: SearchFilter | None, limit: Reason | None = None
    ) -> Answer:
        """Say that the cards cannot answer (and why, under a limit), and who can."""
        return Answer(
            answer=self.composer.render(
                "decline.md.j2",
                question=question,
                limit=limit,
                contacts=self.entry_points(search_filter) if self.entry_points else [],
            ),
            sources=[],
            declined=True,
            confidence=0.0,
            limit=limit.id if limit else None,
        )


# A document's passage answers instead of an accepted card only when it is at least as close
# in meaning and holds clearly more of the question's terms: otherwise the card stays first.
DOCUMENT_COVERAGE_MARGIN = 0.25


def _document_answers_better(card: Hit, passage: Hit) -> bool:
    return (passage.dense_similarity or 0.0) >= (card.dense_similarity or 0.0) and (
        passage.term_coverage or 0.0
    ) >= (card.term_coverage or 0.0) + DOCUMENT_COVERAGE_MARGIN


def _cards_only(search_filter: SearchFilter | None) -> SearchFilter:
    kinds = (search_filter.card_kinds if search_filter else ()) or CARD_KINDS
    base = search_filter or SearchFilter()
    return base.model_copy(update={"card_kinds": tuple(k for k in kinds if k in CARD_KINDS)})


def _kept(accepted: list[Hit]) -> list[Hit]:
    """The first accepted hit, and those nearly as good, at most MAX_SOURCE_CARDS; one that
    is closer in meaning and holds more of the question's words than the first leads."""
    if not accepted:
        return []
    best = accepted[0].score
    kept = [accepted[0], *(h for h in accepted[1:] if h.score >= best * SECOND_CARD_RATIO)]
    kept = kept[:MAX_SOURCE_CARDS]
    # "…en AGE samedi, on a combien de temps ?": the fusion may lift a card through one
    # phrase of its questions ("combien de temps dure l'agrément"); the card that answers
    # beats it on both measures.
    lead = kept[0]
    for hit in kept[1:]:
        if (hit.dense_similarity or 0.0) > (lead.dense_similarity or 0.0) and (
            hit.term_coverage > lead.term_coverage
        ):
            lead = hit
    return [lead, *(h for h in kept if h is not lead)]
