"""Hybrid French retrieval: bm25s lexical + e5 dense (ChromaDB), fused by reciprocal rank.

Both retrievers see the same filtered set of passages: the filter is one Python predicate
whose allowed ids are handed to bm25s as a weight mask and to ChromaDB as an `ids` list.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Literal, NamedTuple

import bm25s
import numpy as np
from numpy.typing import NDArray

from assistant.errors import IndexNotBuiltError
from assistant.search.base import Hit, SearchFilter
from assistant.search.chunks import Chunk
from assistant.search.embeddings import Embedder, RememberingEmbedder, Vector, remembering
from assistant.search.index import CURRENT_FILE, current_generation, read_manifest
from assistant.search.table import PassageTable
from assistant.search.vectors import VectorPlace
from assistant.text import terms

Mode = Literal["lexical", "dense", "hybrid"]

_ALLOWED_CACHE = 64  # distinct filters remembered per generation (territories x stages)
# A filter letting through at least this share of the passages is applied after an unfiltered
# dense query of _OVERFETCH times the neighbours the share implies (see `dense`).
_OVERFETCH_SHARE = 0.2
_OVERFETCH = 2.0

__all__ = ["HybridRetriever", "Mode"]


EXACT_SEARCH_MAX = 20_000  # passages: above, ChromaDB's approximate search (memory, opening time)
_VECTOR_PAGE = 5_000


class HybridRetriever:
    """The real retriever: reads one index generation (bm25s + ChromaDB); cheap to query, safe
    to share between threads for reads.

    Opening reads what every query needs (the passage table, bm25s, the Chroma collection);
    a passage, or a card's terms, is parsed when a hit first shows it (`table.py`)."""

    def __init__(
        self,
        generation: Path,
        embedder: Embedder,
        rrf_k: int = 60,
        chroma_url: str | None = None,
    ) -> None:
        self.generation = generation
        # A turn that searches twice (cards with documents, then cards alone) embeds its
        # question once; the runtime hands in the remembering embedder its answerer shares.
        self.embedder: RememberingEmbedder = remembering(embedder)
        self.rrf_k = rrf_k
        manifest = read_manifest(generation)
        if manifest.embedder != embedder.name:
            raise IndexNotBuiltError(
                f"the index was built with {manifest.embedder}, not {embedder.name}: "
                "run `aiguillage index --force`"
            )
        # Stamped, then checked to still name this generation: a swap in between leaves no
        # stamp, and `is_current` reads the pointer.
        self._pointer = _pointer_stamp(generation.parent)
        if current_generation(generation.parent) != generation:
            self._pointer = None
        self.table = PassageTable(generation)
        self._allowed_by_filter: dict[SearchFilter, _Allowed] = {}
        self._bm25 = bm25s.BM25.load(str(generation / "bm25"))
        self._collection = VectorPlace(chroma_url).open(generation, embedder)
        # A small corpus is searched exactly, in memory: ChromaDB's approximate search was
        # seen to drop a close neighbour now and then (3 runs in 30, the same query and
        # index), which made answers change between runs. Large ones stay with ChromaDB.
        self._vectors = self._load_vectors() if len(self.table) <= EXACT_SEARCH_MAX else None
        if len(self.table) and self._vectors is None:
            # ChromaDB loads its vector index on the first query (0.4 s at 10^5 passages):
            # here, rather than in a user's first request.
            probe = np.zeros((1, embedder.dim), dtype=np.float32)
            probe[0, 0] = 1.0
            self._collection.query(query_embeddings=probe, n_results=1, include=[])
        # Inverse document frequency over cards: a query term found in many cards ("temps",
        # "projet") says less about relevance than a rare one ("esus"); an unknown term
        # (absent from every card) weighs most, since failing to match it matters most.
        self._document_frequency = self.table.document_frequency
        self._n_cards = max(len(self.table.cards), 1)
        self._unknown_idf = math.log(1 + self._n_cards)

    def term_weight(self, term: str) -> float:
        df = self._document_frequency.get(term)
        return math.log(1 + self._n_cards / df) if df else self._unknown_idf

    def coverage(self, query_terms: set[str], card_id: str) -> float:
        """IDF-weighted share of the query's terms present in the card."""
        card = self.table.card_position[card_id]
        return self._share(query_terms, self.table.card_terms(card))

    def _share(self, query_terms: set[str], found_in: AbstractSet[str]) -> float:
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
        # Asked on every turn: one stat of CURRENT while it is the file seen at opening
        # (the swap replaces it with a new file); read it only when that changed.
        stamp = self._pointer
        same_dir = stamp is not None and index_dir == self.generation.parent
        if same_dir and _pointer_stamp(index_dir) == stamp:
            return True
        return current_generation(index_dir) == self.generation

    @property
    def card_ids(self) -> set[str]:
        return set(self.table.cards)

    @property
    def chunks(self) -> list[Chunk]:
        """Every passage, parsed (tools and tests; a search never needs them all)."""
        return list(self.table.chunks())

    # -- the two retrievers ------------------------------------------------------------
    def _allowed(self, search_filter: SearchFilter | None) -> _Allowed | None:
        if search_filter is None or search_filter == SearchFilter():
            return None
        # A generation never changes and filters repeat (a territory, a stage): the predicate
        # runs once per scope (a card's metadata), and its outcome is kept per filter.
        allowed = self._allowed_by_filter.get(search_filter)
        if allowed is None:
            table = self.table
            accepted = [i for i, scope in enumerate(table.scopes) if search_filter.accepts(scope)]
            mask = np.isin(table.scope_of, accepted)
            positions = np.flatnonzero(mask)
            allowed = _Allowed(
                size=len(positions),
                mask=mask.astype(np.float32),
                ids=[table.ids[i] for i in positions.tolist()],
            )
            if len(self._allowed_by_filter) >= _ALLOWED_CACHE:
                self._allowed_by_filter.clear()
            self._allowed_by_filter[search_filter] = allowed
        return allowed

    def lexical(
        self, query: str, limit: int, search_filter: SearchFilter | None = None
    ) -> list[tuple[int, float]]:
        query_terms = terms(query)
        if not query_terms or not len(self.table):
            return []
        allowed = self._allowed(search_filter)
        if allowed is not None and not allowed.size:
            return []
        k = min(limit, len(self.table))
        # n_threads=0: scored in this thread (1 would start a thread pool on every query).
        docs, scores = self._bm25.retrieve(
            [query_terms],
            k=k,
            show_progress=False,
            weight_mask=allowed.mask if allowed is not None else None,
            n_threads=0,
        )
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def dense(
        self, query: str, limit: int, search_filter: SearchFilter | None = None
    ) -> list[tuple[int, float]]:
        allowed = self._allowed(search_filter)
        total = len(self.table)
        if not total or (allowed is not None and not allowed.size):
            return []
        vector = self.embedder.embed_query(query)
        if allowed is None:
            return self._nearest(vector, min(limit, total))
        wanted = min(limit, allowed.size)
        share = allowed.size / total
        if share >= _OVERFETCH_SHARE:
            # Handing ChromaDB tens of thousands of allowed ids costs more than the search
            # (40 ms at 10^5 passages): ask for more neighbours unfiltered and keep the
            # allowed ones. Once `wanted` of them are among the nearest, they are the nearest
            # allowed passages, as the filtered query would have found.
            fetched = min(total, math.ceil(wanted / share * _OVERFETCH))
            kept = [(p, s) for p, s in self._nearest(vector, fetched) if allowed.mask[p]]
            if len(kept) >= wanted or fetched == total:
                return kept[:wanted]
        return self._nearest(vector, wanted, allowed.ids)

    def _load_vectors(self) -> NDArray[np.float32] | None:
        """Every passage's vector, L2-normalised, in table order (None if one is missing)."""
        total = len(self.table)
        matrix = np.zeros((total, self.embedder.dim), dtype=np.float32)
        seen = 0
        for offset in range(0, total, _VECTOR_PAGE):
            page = self._collection.get(offset=offset, limit=_VECTOR_PAGE, include=["embeddings"])
            embeddings = page["embeddings"]
            if embeddings is None:
                return None
            for ident, vector in zip(page["ids"], embeddings, strict=True):
                position = self.table.position.get(ident)
                if position is not None:
                    matrix[position] = vector
                    seen += 1
        if seen != total:
            return None
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        normalised: NDArray[np.float32] = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
        return normalised

    def _nearest(
        self, vector: Vector, n: int, ids: list[str] | None = None
    ) -> list[tuple[int, float]]:
        """(position, cosine) of the `n` nearest passages (among `ids`), nearest first."""
        if self._vectors is not None:
            return self._exact_nearest(vector, n, ids)
        result = self._collection.query(
            query_embeddings=vector.reshape(1, -1), n_results=n, ids=ids, include=["distances"]
        )
        found = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        position = self.table.position
        return [
            (position[i], 1.0 - float(d))
            for i, d in zip(found, distances, strict=True)
            if i in position
        ]

    def _card_similarity(self, card: int, query: str) -> float | None:
        """The best cosine between the query and the card's passages (not its questions),
        computed exactly when the vectors are in memory; None otherwise."""
        if self._vectors is None:
            return None
        table = self.table
        positions = np.flatnonzero((table.card_of == card) & ~table.question)
        if not positions.size:
            return None
        vector = self.embedder.embed_query(query)
        query_vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return float(np.max(self._vectors[positions] @ query_vector))

    def _exact_nearest(
        self, vector: Vector, n: int, ids: list[str] | None
    ) -> list[tuple[int, float]]:
        assert self._vectors is not None
        query = vector / max(float(np.linalg.norm(vector)), 1e-12)
        similarities = self._vectors @ query
        if ids is not None:
            allowed = np.zeros(len(similarities), dtype=bool)
            allowed[[self.table.position[i] for i in ids if i in self.table.position]] = True
            similarities = np.where(allowed, similarities, -np.inf)
        n = min(n, int(np.isfinite(similarities).sum()))
        if n <= 0:
            return []
        best = np.argpartition(-similarities, n - 1)[:n]
        best = best[np.argsort(-similarities[best], kind="stable")]
        return [(int(p), float(similarities[p])) for p in best]

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
        table = self.table
        passage_similarity: dict[int, float] = {}  # by card
        question_similarity: dict[int, float] = {}
        for position, cosine in dense:
            best = question_similarity if table.question[position] else passage_similarity
            card = int(table.card_of[position])
            best[card] = max(cosine, best.get(card, cosine))
        query_terms = set(terms(query))
        similarity_at = dict(dense)
        hits: dict[int, Hit] = {}
        for position, score in sorted(fused.items(), key=lambda item: -item[1]):
            card = int(table.card_of[position])
            if card in hits:
                continue
            chunk = table.chunk(position)
            if table.document[position]:
                # A document answers from this one passage: judge the passage, not the
                # whole document (a long one contains nearly every term).
                similarity = similarity_at.get(position)
                coverage = self._share(query_terms, set(terms(chunk.search_text)))
            else:
                similarity = passage_similarity.get(card)
                if similarity is None and mode == "hybrid":
                    # Found by its words alone: how close its passages are in meaning is
                    # still what the answer policy needs (None would read as "unrelated").
                    similarity = self._card_similarity(card, query)
                coverage = self._share(query_terms, table.card_terms(card))
            shown = chunk
            if table.question[position] and card in table.first_passage:
                shown = table.chunk(table.first_passage[card])
            hits[card] = Hit(
                card_id=chunk.card_id,
                chunk=shown,
                score=score,
                lexical_rank=lexical_rank.get(position),
                dense_rank=dense_rank.get(position),
                dense_similarity=similarity,
                term_coverage=coverage,
                question_similarity=question_similarity.get(card),
            )
            if len(hits) == k:
                break
        return list(hits.values())

    def chunks_of(self, card_ids: Iterable[str]) -> list[Chunk]:
        table = self.table
        wanted = [table.card_position[c] for c in card_ids if c in table.card_position]
        positions = np.flatnonzero(np.isin(table.card_of, wanted))
        return [table.chunk(i) for i in positions.tolist()]


class _Allowed(NamedTuple):
    """The passages a filter lets through, as each library takes them."""

    size: int
    mask: NDArray[np.float32]  # bm25s weight mask: 1 allowed, 0 not
    ids: list[str]  # ChromaDB ids


def _pointer_stamp(index_dir: Path) -> tuple[int, int, int] | None:
    """Identity of the CURRENT file: `os.replace` puts a new file there on every swap."""
    try:
        stat = os.stat(index_dir / CURRENT_FILE)
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)
