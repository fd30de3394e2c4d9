"""Hybrid French retrieval: bm25s lexical + e5 dense (ChromaDB), fused by reciprocal rank.

Both retrievers see the same filtered set of passages: the filter is one Python predicate
whose allowed ids are handed to bm25s as a weight mask and to ChromaDB as an `ids` list.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from typing import Literal

import bm25s
import numpy as np
from pydantic import TypeAdapter

from assistant.errors import IndexNotBuiltError
from assistant.search.base import Hit, SearchFilter, best_by_card
from assistant.search.chunks import Chunk
from assistant.search.embeddings import Embedder
from assistant.search.index import CARD_TERMS_FILE, current_generation, read_manifest
from assistant.search.vectors import VectorPlace
from assistant.text import terms

Mode = Literal["lexical", "dense", "hybrid"]

_CHUNKS = TypeAdapter(list[Chunk])
_CARD_TERMS = TypeAdapter(dict[str, list[str]])
_ALLOWED_CACHE = 64  # distinct filters remembered per generation (territories x stages)

__all__ = ["HybridRetriever", "Mode"]


class HybridRetriever:
    """The real retriever: reads one index generation (bm25s + ChromaDB); cheap to query, safe
    to share between threads for reads."""

    def __init__(
        self,
        generation: Path,
        embedder: Embedder,
        rrf_k: int = 60,
        chroma_url: str | None = None,
    ) -> None:
        self.generation = generation
        self.embedder = embedder
        self.rrf_k = rrf_k
        manifest = read_manifest(generation)
        if manifest.embedder != embedder.name:
            raise IndexNotBuiltError(
                f"the index was built with {manifest.embedder}, not {embedder.name}: "
                "run `aiguillage index --force`"
            )
        # Parsed and validated in one pass by pydantic-core: at 10^5 passages, json.loads then
        # Chunk.model_validate per passage took most of the opening time.
        self.chunks = _CHUNKS.validate_json((generation / "chunks.json").read_bytes())
        self._position = {c.id: i for i, c in enumerate(self.chunks)}
        # A card is shown by its first passage when one of its questions is what matched.
        self._first_passage: dict[str, Chunk] = {}
        for chunk in self.chunks:
            if not chunk.question:
                self._first_passage.setdefault(chunk.card_id, chunk)
        self._allowed_by_filter: dict[SearchFilter, list[int]] = {}
        self._bm25 = bm25s.BM25.load(str(generation / "bm25"))
        self._collection = VectorPlace(chroma_url).open(generation, embedder)
        self._card_terms = self._load_card_terms(generation)
        card_terms = self._card_terms
        # Inverse document frequency over cards: a query term found in many cards ("temps",
        # "projet") says less about relevance than a rare one ("esus"); an unknown term
        # (absent from every card) weighs most, since failing to match it matters most.
        # Counted in C (Counter over the chained sets): a Python loop took seconds at 10^5.
        document_frequency = Counter(chain.from_iterable(card_terms.values()))
        n_cards = max(len(card_terms), 1)
        self._idf = {t: math.log(1 + n_cards / df) for t, df in document_frequency.items()}
        self._unknown_idf = math.log(1 + n_cards)

    def _load_card_terms(self, generation: Path) -> dict[str, set[str]]:
        stored = generation / CARD_TERMS_FILE
        if stored.exists():
            raw = _CARD_TERMS.validate_json(stored.read_bytes())
            return {card: set(card_terms) for card, card_terms in raw.items()}
        # A generation built before the file existed: tokenise now.
        computed: dict[str, set[str]] = {}
        for chunk in self.chunks:
            computed.setdefault(chunk.card_id, set()).update(terms(chunk.search_text))
        return computed

    def term_weight(self, term: str) -> float:
        return self._idf.get(term, self._unknown_idf)

    def coverage(self, query_terms: set[str], card_id: str) -> float:
        """IDF-weighted share of the query's terms present in the card."""
        return self._share(query_terms, self._card_terms[card_id])

    def _share(self, query_terms: set[str], found_in: set[str]) -> float:
        if not query_terms:
            return 0.0
        total = sum(self.term_weight(t) for t in query_terms)
        return sum(self.term_weight(t) for t in query_terms & found_in) / total

    @classmethod
    def open(
        cls,
        index_dir: Path,
        embedder: Embedder,
        rrf_k: int = 60,
        chroma_url: str | None = None,
    ) -> HybridRetriever:
        generation = current_generation(index_dir)
        if generation is None:
            raise IndexNotBuiltError(
                f"no search index in {index_dir}: run `aiguillage index` first"
            )
        return cls(generation, embedder, rrf_k, chroma_url)

    def is_current(self, index_dir: Path) -> bool:
        """False once `aiguillage index` has swapped in a newer generation."""
        return current_generation(index_dir) == self.generation

    @property
    def card_ids(self) -> set[str]:
        return set(self._card_terms)

    # -- the two retrievers ------------------------------------------------------------
    def _allowed(self, search_filter: SearchFilter | None) -> list[int] | None:
        if search_filter is None or search_filter == SearchFilter():
            return None
        # A generation never changes and filters repeat (a territory, a stage): the predicate
        # runs over every passage once per filter, not on every query.
        allowed = self._allowed_by_filter.get(search_filter)
        if allowed is None:
            allowed = [i for i, c in enumerate(self.chunks) if search_filter.accepts(c)]
            if len(self._allowed_by_filter) >= _ALLOWED_CACHE:
                self._allowed_by_filter.clear()
            self._allowed_by_filter[search_filter] = allowed
        return allowed

    def lexical(
        self, query: str, limit: int, search_filter: SearchFilter | None = None
    ) -> list[tuple[int, float]]:
        query_terms = terms(query)
        if not query_terms or not self.chunks:
            return []
        allowed = self._allowed(search_filter)
        mask = None
        if allowed is not None:
            if not allowed:
                return []
            mask = np.zeros(len(self.chunks), dtype=np.float32)
            mask[allowed] = 1.0
        k = min(limit, len(self.chunks))
        # n_threads=0: scored in this thread (1 would start a thread pool on every query).
        docs, scores = self._bm25.retrieve(
            [query_terms], k=k, show_progress=False, weight_mask=mask, n_threads=0
        )
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def dense(
        self, query: str, limit: int, search_filter: SearchFilter | None = None
    ) -> list[tuple[int, float]]:
        allowed = self._allowed(search_filter)
        if not self.chunks or (allowed is not None and not allowed):
            return []
        vector = self.embedder.embed_query(query)
        result = self._collection.query(
            query_embeddings=vector.reshape(1, -1),
            n_results=min(limit, len(allowed) if allowed is not None else len(self.chunks)),
            ids=[self.chunks[i].id for i in allowed] if allowed is not None else None,
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        return [
            (self._position[i], 1.0 - float(d))
            for i, d in zip(ids, distances, strict=True)
            if i in self._position
        ]

    # -- fusion ---------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        search_filter: SearchFilter | None = None,
        mode: Mode = "hybrid",
        candidates: int = 40,
    ) -> list[Hit]:
        """The k best cards for the query, best first."""
        lexical = self.lexical(query, candidates, search_filter) if mode != "dense" else []
        dense = self.dense(query, candidates, search_filter) if mode != "lexical" else []
        fused: dict[int, float] = {}
        for ranking in (lexical, dense):
            for rank, (position, _) in enumerate(ranking):
                fused[position] = fused.get(position, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        lexical_rank = {p: r for r, (p, _) in enumerate(lexical)}
        dense_rank = {p: r for r, (p, _) in enumerate(dense)}
        passage_similarity, question_similarity = best_by_card(
            (self.chunks[position], similarity) for position, similarity in dense
        )
        query_terms = set(terms(query))
        similarity_at = dict(dense)
        hits: dict[str, Hit] = {}
        for position, score in sorted(fused.items(), key=lambda item: -item[1]):
            chunk = self.chunks[position]
            card_id = chunk.card_id
            if card_id in hits:
                continue
            if chunk.origin is not None:
                # A document answers from this one passage: judge the passage, not the
                # whole document (a long one contains nearly every term).
                similarity = similarity_at.get(position)
                coverage = self._share(query_terms, set(terms(chunk.search_text)))
            else:
                similarity = passage_similarity.get(card_id)
                coverage = self.coverage(query_terms, card_id)
            hits[card_id] = Hit(
                card_id=card_id,
                chunk=self._first_passage.get(card_id, chunk) if chunk.question else chunk,
                score=score,
                lexical_rank=lexical_rank.get(position),
                dense_rank=dense_rank.get(position),
                dense_similarity=similarity,
                term_coverage=coverage,
                question_similarity=question_similarity.get(card_id),
            )
            if len(hits) == k:
                break
        return list(hits.values())

    def chunks_of(self, card_ids: Iterable[str]) -> list[Chunk]:
        wanted = set(card_ids)
        return [c for c in self.chunks if c.card_id in wanted]
