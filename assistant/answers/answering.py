"""Grounded answers to free questions: retrieve, decide if it is relevant, compose, cite."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Protocol

from pydantic import BaseModel

from assistant.answers.limits import Limit, Limits, Reason
from assistant.answers.meaning import MeaningDeclines
from assistant.orientation.directory import Structure
from assistant.render.composer import Composer
from assistant.search.base import Hit, Retriever, SearchFilter
from assistant.search.cards import Card
from assistant.search.chunks import PassageOrigin
from assistant.settings import Settings
from assistant.text import fold, normalise, sentences, terms, written_in_english
from assistant.vocabulary import CARD_KINDS

MAX_SENTENCES = 3
MAX_SOURCE_CARDS = 3
SECOND_CARD_RATIO = 0.85  # a second card is quoted only if nearly as good as the first
_FIGURE_QUESTION = re.compile(
    r"\b(combien|chiffre|chiffres|nombre|taux|pourcentage|montant|duree|combien de temps|"
    r"quelle part|quel budget|how many|how much)\b|%"
)
# A bold line alone is a card's sub-heading ("**Qui peut en bénéficier ?**"), not an answer.
_HEADING = re.compile(r"^\*\*[^*]+\*\*\s*:?$")
# What a question word calls for in the sentence that answers it: "combien ça coûte" is
# answered by "gratuit" or a price, "combien de temps" by a duration, "depuis quand" by a date.
_ANSWER_CUES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (
        re.compile(r"\b(coute|coutent|cout|couts|prix|tarifs?|payant|payer|paie|gratuit|frais)\b"),
        re.compile(
            r"\b(gratuit\w*|payant\w*|pris en charge|prise en charge|sans frais|frais|tarif\w*|"
            r"prix|cout\w*|factur\w*)\b|€|\beuros?\b"
        ),
    ),
    (
        re.compile(
            r"\b(dure|durent|duree|combien de temps|longtemps|valable|validite|valide|"
            r"how long)\b"
        ),
        re.compile(
            r"\b(\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|dix huit|vingt) "
            r"(mois|ans?|annees?|jours?|semaines?|heures?)\b|\bduree\b"
        ),
    ),
    (
        re.compile(
            r"\b(depuis quand|c'est quand|quelle annee|en quelle annee|quelle date|"
            r"since when|cree quand|creee quand)\b|^quand\b"
        ),
        re.compile(r"\b(19|20)\d\d\b|\bdepuis\b"),
    ),
)
CUE_BONUS = 2.0  # a sentence of the kind asked for, as strong as two rare question terms
# A yes-or-no question ("le DLA peut nous financer ?") is answered by the card's "Oui, …" or
# "Non, …", which leads even over a sentence that repeats more of the question's words.
_YES_NO_QUESTION = re.compile(
    r"^(?!.*\b(quoi|comment|combien|pourquoi|quel|quelle|quels|quelles|qui|ou|quand)\b)"
    r".*\b(peut|peuvent|peux|pouvons|puis|a le droit|ont le droit|avons le droit|"
    r"faut il|doit|doivent|dois|est ce que|est ce qu|y a t il|existe t il)\b"
)
_YES_NO_ANSWER = re.compile(r"^(oui|non)\b")
YES_NO_BONUS = 4.0
_DIGIT = re.compile(
    r"\d|\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|quinze|vingt|trente|cent|"
    r"mille|million|millions|milliard|milliards|moitie|tiers|quart)\b"
)


class HasBody(Protocol):
    """What sentences are picked from: a card, or a document's passage."""

    @property
    def body(self) -> str: ...


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


def _clean(sentence: str) -> str:
    return re.sub(r"\*\*|__", "", sentence).strip()


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
        chosen = self.pick_sentences(self.spell(question), bodies, self.retriever.term_weight)
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

    @staticmethod
    def pick_sentences(
        question: str, cards: Sequence[HasBody], weight: Callable[[str], float] = lambda _: 1.0
    ) -> list[tuple[int, int, str]]:
        """The sentences that answer best, as (card rank, position, text), in reading order.

        Cards are written to lead with the answer, so a card's first sentence gets a bonus;
        otherwise a sentence scores by the (IDF-weighted) question terms it contains, and a
        question about a figure ("combien", "quel taux") favours sentences with numbers.
        """
        fits = _SentenceFit(question, weight)
        scored: list[tuple[float, int, int, str]] = []
        fit: dict[tuple[int, int], float] = {}  # how well a sentence itself answers
        for rank, card in enumerate(cards):
            for position, sentence in enumerate(sentences(card.body)):
                text = _clean(sentence)
                if len(text.split()) < 4 or _HEADING.match(sentence.strip()):
                    continue
                overlap, figure = fits.overlap(text), fits.figure(text)
                fit[rank, position] = overlap + figure - 0.6 * rank
                score = fit[rank, position] + (0.8 if position == 0 else 0.0)
                # a sentence of the kind asked for ("Non, …") answers even without the
                # question's words, but only from the best card: elsewhere a bare duration
                # ("huit jours avant l'embauche") is about something else
                if overlap or position == 0 or (figure >= CUE_BONUS and rank == 0):
                    scored.append((score, rank, position, text))
        scored.sort(key=lambda item: (-item[0], item[1], item[2]))
        best = scored[:MAX_SENTENCES]
        first = next((s for s in scored if s[1] == 0), None)
        if best and first is not None and all(rank != 0 for _, rank, _, _ in best):
            best[-1] = first  # always quote the best card
        other = _other_subject(fits, best, scored)
        if other is not None:
            # the weakest detail gives way, never the best card's only sentence
            ranks = [rank for _, rank, _, _ in best]
            spare = [i for i in range(1, len(best)) if ranks[i] != 0 or ranks.count(0) > 1]
            if spare:
                best[spare[-1]] = other
        # The sentence that answers best leads (a phone shows the first lines); the others
        # follow in reading order, as details.
        best.sort(key=lambda item: (-fit[item[1], item[2]], item[1], item[2]))
        lead, rest = best[:1], sorted(best[1:], key=lambda item: (item[1], item[2]))
        return [(r, p, t) for _, r, p, t in lead + rest]


_TWO_SUBJECTS = re.compile(
    r"\b(comme|ou|vs|versus|plutot|difference|diff|pareil|compar\w*|entre)\b"
)
# A question term counts as a subject of its own from this share of the rarest term's weight.
SUBJECT_WEIGHT = 0.6


def _other_subject(
    fits: _SentenceFit,
    best: list[tuple[float, int, int, str]],
    scored: list[tuple[float, int, int, str]],
) -> tuple[float, int, int, str] | None:
    """ "une subvention, faut la rembourser comme un prêt d'honneur ?": a question about two
    things hears from the second card too, when it holds a rare question term that no chosen
    sentence has (its best such sentence); None when the chosen ones cover the question."""
    if len(best) < MAX_SENTENCES or any(rank == 1 for _, rank, _, _ in best):
        return None
    if not fits.two_subjects:
        return None
    covered = set().union(*(_read(text)[0] for *_, text in best))
    missing = {t for t in fits.wanted - covered if fits.weight(t) >= SUBJECT_WEIGHT * fits.scale}
    return next((item for item in scored if item[1] == 1 and missing & _read(item[3])[0]), None)


@lru_cache(maxsize=8192)
def _read(sentence: str) -> tuple[frozenset[str], str]:
    """A card sentence's terms and folded text: the cards do not change between questions,
    so each sentence is read once (a few ms a question otherwise)."""
    return frozenset(terms(sentence)), fold(sentence)


class _SentenceFit:
    """How well a sentence answers a question: the (IDF-weighted) question terms it holds,
    and a figure when the question asks for one."""

    def __init__(self, question: str, weight: Callable[[str], float]) -> None:
        self.wanted = set(terms(question))
        self.weight = weight
        folded = fold(question)  # once: it is read by every pattern below
        self.asks_figure = bool(_FIGURE_QUESTION.search(folded))
        self.cues = [answer for asked, answer in _ANSWER_CUES if asked.search(folded)]
        self.yes_no = bool(_YES_NO_QUESTION.search(folded))
        # "une subvention, faut la rembourser comme un prêt d'honneur ?", "scop ou scic"
        self.two_subjects = bool(_TWO_SUBJECTS.search(folded))
        self.scale = max((weight(t) for t in self.wanted), default=1.0)

    def overlap(self, text: str) -> float:
        return sum(self.weight(t) for t in self.wanted & _read(text)[0]) / self.scale

    def figure(self, text: str) -> float:
        """A figure when the question asks for one; the kind of answer its question word calls
        for (a price, a duration, a date) when it asks for that."""
        folded = _read(text)[1]
        bonus = 1.2 if self.asks_figure and _DIGIT.search(folded) else 0.0
        if self.yes_no and _YES_NO_ANSWER.search(folded):
            bonus += YES_NO_BONUS
        return bonus + sum(CUE_BONUS for answer in self.cues if answer.search(folded))


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
    """The first accepted hit, and those nearly as good, at most MAX_SOURCE_CARDS."""
    if not accepted:
        return []
    best = accepted[0].score
    kept = [accepted[0], *(h for h in accepted[1:] if h.score >= best * SECOND_CARD_RATIO)]
    return kept[:MAX_SOURCE_CARDS]
