"""In-memory fakes of the search seams, for the fast test tier and for trying things out.

`HashEmbedder` gives deterministic bag-of-hashed-words vectors (no model); `InMemoryRetriever`
searches the cards' passages with those vectors and the same IDF term weights as the real
retriever. Neither touches the disk, so an engine built on them starts in milliseconds.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from assistant.search.base import Hit, SearchFilter, best_by_card
from assistant.search.cards import Card
from assistant.search.chunks import chunk_card
from assistant.search.embeddings import Vector
from assistant.text import terms

__all__ = ["HashEmbedder", "InMemoryRetriever"]


class HashEmbedder:
    """Deterministic bag-of-hashed-words vectors; records every text it embeds."""

    def __init__(self, name: str = "hash-test", dim: int = 64) -> None:
        self.name = name
        self.dim = dim
        self.embedded: list[str] = []
        self.embedded_queries: list[str] = []  # batches only (a card's `questions`)

    def _vector(self, text: str) -> Vector:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.sha256(word.encode()).digest()
            vector[int.from_bytes(digest[:4], "big") % self.dim] += 1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0:
            vector[0] = 1.0
            return vector
        return vector / norm

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        self.embedded.extend(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> Vector:
        return self._vector(text)

    def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        self.embedded_queries.extend(texts)
        return [self.embed_query(t) for t in texts]


class InMemoryRetriever:
    """Cosine search over the cards' passages, best passage per card; always current."""

    def __init__(self, cards: Iterable[Card], embedder: HashEmbedder | None = None) -> None:
        self.embedder = embedder or HashEmbedder()
        self.chunks = [chunk for card in cards for chunk in chunk_card(card)]
        vectors = self.embedder.embed_passages([c.search_text for c in self.chunks])
        self._matrix = np.vstack(vectors) if vectors else np.zeros((0, self.embedder.dim))
        self._card_terms: dict[str, set[str]] = {}
        for chunk in self.chunks:
            self._card_terms.setdefault(chunk.card_id, set()).update(terms(chunk.search_text))
        frequency: dict[str, int] = {}
        for card_terms in self._card_terms.values():
            for term in card_terms:
                frequency[term] = frequency.get(term, 0) + 1
        n_cards = max(len(self._card_terms), 1)
        self._idf = {t: math.log(1 + n_cards / df) for t, df in frequency.items()}
        self._unknown_idf = math.log(1 + n_cards)

    def term_weight(self, term: str) -> float:
        return self._idf.get(term, self._unknown_idf)

    def is_current(self, index_dir: Path) -> bool:
        return True

    def search(
        self, query: str, k: int = 5, search_filter: SearchFilter | None = None
    ) -> list[Hit]:
        if not self.chunks:
            return []
        similarities = self._matrix @ self.embedder.embed_query(query)
        query_terms = set(terms(query))
        total = sum(self.term_weight(t) for t in query_terms) or 1.0
        allowed = [
            int(p)
            for p in np.argsort(-similarities)
            if not search_filter or search_filter.accepts(self.chunks[int(p)])
        ]
        _, question_similarity = best_by_card(
            (self.chunks[p], float(similarities[p])) for p in allowed
        )
        hits: dict[str, Hit] = {}
        for position in allowed:
            chunk = self.chunks[position]
            if chunk.card_id in hits or chunk.question:
                continue
            found = query_terms & self._card_terms[chunk.card_id]
            hits[chunk.card_id] = Hit(
                card_id=chunk.card_id,
                chunk=chunk,
                score=float(similarities[position]),
                dense_rank=len(hits),
                dense_similarity=float(similarities[position]),
                term_coverage=sum(self.term_weight(t) for t in found) / total,
                question_similarity=question_similarity.get(chunk.card_id),
            )
            if len(hits) == k:
                break
        return list(hits.values())
