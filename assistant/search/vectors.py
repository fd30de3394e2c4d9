"""Where an index generation's vectors live: ChromaDB embedded in the generation's folder (the
default), or a Chroma server shared by replicas (`AIGUILLAGE_CHROMA_URL`, e.g. the `chroma run`
server shipped with the chromadb package).

Chroma's maintainers say a persistent client must not be shared by several processes; with
several `serve` processes, use the server: each generation is then one collection on it,
named after the generation, written by `aiguillage index` and only read while serving.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from assistant.search.chroma import ChromaE5Function
from assistant.search.embeddings import Embedder

__all__ = ["COLLECTION", "VectorPlace"]

COLLECTION = "cards"
_PAGE = 1000


class VectorPlace:
    """Opens, creates and drops the vector collection of a generation."""

    def __init__(self, chroma_url: str | None = None) -> None:
        self.chroma_url = chroma_url or None

    @property
    def shared(self) -> bool:
        return self.chroma_url is not None

    def client(self, folder: Path) -> ClientAPI:
        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.chroma_url is None:
            return chromadb.PersistentClient(path=str(folder), settings=settings)
        url = urlparse(self.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=settings,
        )

    def name(self, generation: str) -> str:
        return f"aiguillage-{generation}" if self.shared else COLLECTION

    def has(self, generation: Path) -> bool:
        """Whether a generation's vectors are where this place looks (after switching from the
        embedded store to a server, the live generation's are not)."""
        if not self.shared:
            return (generation / "chroma").is_dir()
        names = [c.name for c in self.client(generation / "chroma").list_collections()]
        return self.name(generation.name) in names

    def open(self, generation: Path, embedder: Embedder) -> Collection:
        """The collection of a published generation, for reading."""
        return self.client(generation / "chroma").get_collection(
            self.name(generation.name),
            embedding_function=ChromaE5Function(embedder),  # type: ignore[arg-type]
        )

    def create(
        self, staging: Path, generation: str, live: Path | None, embedder: Embedder
    ) -> Collection:
        """The collection of a generation being built, starting from the live one's vectors."""
        folder = staging / "chroma"
        if not self.shared and live is not None:
            shutil.copytree(live / "chroma", folder)
        folder.mkdir(parents=True, exist_ok=True)
        collection = self.client(folder).get_or_create_collection(
            self.name(generation),
            embedding_function=ChromaE5Function(embedder),  # type: ignore[arg-type]
            configuration={"hnsw": {"space": "cosine"}},
        )
        if self.shared and live is not None:
            self._copy(self.open(live, embedder), collection)
        return collection

    def drop(self, generation: Path) -> None:
        """Forget a pruned generation's collection (its folder is removed by the caller)."""
        if self.shared:
            # Already gone, or the server is down: harmless, the next prune tries again.
            with contextlib.suppress(Exception):
                self.client(generation / "chroma").delete_collection(self.name(generation.name))

    @staticmethod
    def _copy(source: Collection, target: Collection) -> None:
        total = source.count()
        for offset in range(0, total, _PAGE):
            page: Any = source.get(
                offset=offset, limit=_PAGE, include=["embeddings", "documents", "metadatas"]
            )
            if page["ids"]:
                target.upsert(
                    ids=page["ids"],
                    embeddings=page["embeddings"],
                    documents=page["documents"],
                    metadatas=page["metadatas"],
                )
