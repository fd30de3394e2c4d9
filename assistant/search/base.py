"""The retriever seam: what the answerer needs from a search backend, and nothing more.

`HybridRetriever` (bm25s + ChromaDB, `retrieval.py`) is the real one; `InMemoryRetriever`
(`fakes.py`) serves the fast test tier. Only `assistant/runtime.py` picks one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from assistant.search.chunks import Chunk

__all__ = ["Hit", "Retriever", "SearchFilter", "best_by_card"]


class Scoped(Protocol):
    """What a filter reads of a passage: a `Chunk`, or its `table.Scope` (shared by a card's
    passages, so a filter is judged once per scope rather than once per passage)."""

    @property
    def kind(self) -> str: ...
    @property
    def stages(self) -> Sequence[str]: ...
    @property
    def national(self) -> bool: ...
    @property
    def regions(self) -> Sequence[str]: ...
    @property
    def departements(self) -> Sequence[str]: ...


class SearchFilter(BaseModel):
    """Hard constraints on passages. Unset fields constrain nothing."""

    model_config = ConfigDict(frozen=True)

    stage: str | None = None
    departement: str | None = None
    region: str | None = None
    card_kinds: tuple[str, ...] = ()

    def accepts(self, chunk: Scoped) -> bool:
        # A card with no stage (or national scope) applies to every stage (territory).
        if self.stage and chunk.stages and self.stage not in chunk.stages:
            return False
        if self.card_kinds and chunk.kind not in self.card_kinds:
            return False
        if (self.departement or self.region) and not chunk.national:
            in_dep = self.departement is not None and self.departement in chunk.departements
            in_reg = self.region is not None and self.region in chunk.regions
            if not (in_dep or in_reg):
                return False
        return True


class Hit(BaseModel):
    """One card found for a query, represented by its best passage."""

    card_id: str
    chunk: Chunk
    score: float  # fused score; only comparable within one query
    lexical_rank: int | None = None
    dense_rank: int | None = None
    dense_similarity: float | None = None  # cosine, query vs. best passage
    term_coverage: float = 0.0  # IDF-weighted share of the query's terms present in the card
    question_similarity: float | None = None  # cosine, query vs. the card's closest `question`


def best_by_card(
    scored: Iterable[tuple[Chunk, float]],
) -> tuple[dict[str, float], dict[str, float]]:
    """Per card, the best similarity of its passages and of its `questions`."""
    passages: dict[str, float] = {}
    questions: dict[str, float] = {}
    for chunk, similarity in scored:
        table = questions if chunk.question else passages
        table[chunk.card_id] = max(similarity, table.get(chunk.card_id, similarity))
    return passages, questions


class Retriever(Protocol):
    """Finds the cards that answer a query."""

    def search(
        self, query: str, k: int = 5, search_filter: SearchFilter | None = None
    ) -> list[Hit]:
        """The k best cards for the query, best first, one hit per card."""
        ...

    def term_weight(self, term: str) -> float:
        """How much a query term says about relevance (rare terms weigh more)."""
        ...

    def is_current(self, index_dir: Path) -> bool:
        """False once a newer index generation was published: the caller reopens."""
        ...
